"""The offer cascade (派单) and escalation, decided for one job at one moment.

Each open place has `parallel_per_place` offers out at once. Offers that pass their deadline
expire and the next ranked workers get one. The longer a job waits, the wider the cascade:
after every `widen_after_seconds` one more offer per open place goes out (up to
`max_parallel_per_place`), so a job still reaches its headcount inside the 60-second target
when the first workers are slow or silent. By default it widens every half offer timeout:
waiting for a whole timeout lets too many jobs miss the target, and the price of widening
sooner is more workers told "already filled" when they answer late (figures in
docs/benchmarks.md, "Design notes behind the numbers"). A job not full
`escalate_after_seconds` after its dispatch started — or one with nobody left to offer — is
escalated to staff.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kuaigong.states import LIVE_JOBS, JobStatus, OfferStatus


@dataclass(frozen=True)
class CascadeSettings:
    offer_timeout_seconds: int = 20
    escalate_after_seconds: int = 45
    parallel_per_place: int = 1
    widen_after_seconds: int = 10
    max_parallel_per_place: int = 3


@dataclass(frozen=True)
class CascadeJob:
    id: str
    mode: str  # grab | offer
    status: str  # a JobStatus
    headcount: int
    confirmed: int
    dispatch_started_at: dt.datetime | None
    escalated_at: dt.datetime | None = None

    @property
    def open_places(self) -> int:
        return max(0, self.headcount - self.confirmed)


@dataclass(frozen=True)
class OfferView:
    id: str
    worker_id: str
    status: str  # an OfferStatus
    expires_at: dt.datetime


@dataclass(frozen=True)
class CascadePlan:
    """What to do now: expire these offers, offer to these workers (in order), escalate or not."""

    expire: tuple[str, ...] = ()
    offer_to: tuple[str, ...] = ()
    escalate: bool = False
    expires_at: dt.datetime | None = None  # deadline of the new offers

    @property
    def idle(self) -> bool:
        return not (self.expire or self.offer_to or self.escalate)


def parallel_offers(job: CascadeJob, now: dt.datetime, settings: CascadeSettings) -> int:
    """How many offers should be out for this job right now."""
    if job.mode != "offer" or job.status not in LIVE_JOBS:
        return 0
    per_place = settings.parallel_per_place
    if settings.widen_after_seconds > 0 and job.dispatch_started_at is not None:
        waited = max(0.0, (now - job.dispatch_started_at).total_seconds())
        per_place += int(waited // settings.widen_after_seconds)
    per_place = min(max(per_place, settings.parallel_per_place), settings.max_parallel_per_place)
    return job.open_places * max(1, per_place)


def plan(
    job: CascadeJob,
    offers: list[OfferView],
    candidates: list[str],
    now: dt.datetime,
    settings: CascadeSettings,
) -> CascadePlan:
    """Decide the cascade step for `job` at `now`.

    `candidates` are the eligible workers not yet offered this job and free to take an offer,
    best ranked first.
    """
    pending = [o for o in offers if o.status == OfferStatus.PENDING]
    expire = tuple(o.id for o in pending if o.expires_at <= now)
    still_out = len(pending) - len(expire)
    live = job.status in LIVE_JOBS and job.open_places > 0

    offer_to: tuple[str, ...] = ()
    if live and job.mode == "offer":
        wanted = parallel_offers(job, now, settings) - still_out
        offer_to = tuple(candidates[: max(0, wanted)])

    escalate = False
    if live and job.escalated_at is None and job.status == JobStatus.OPEN:
        started = job.dispatch_started_at or now
        overdue = (now - started).total_seconds() >= settings.escalate_after_seconds
        exhausted = job.mode == "offer" and still_out == 0 and not offer_to
        escalate = overdue or exhausted
    expires_at = now + dt.timedelta(seconds=settings.offer_timeout_seconds) if offer_to else None
    return CascadePlan(expire=expire, offer_to=offer_to, escalate=escalate, expires_at=expires_at)
