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
escalated to staff. Workers who fit but are considering another job's offer are not "nobody":
the job waits for them (a worker holds one live offer at a time, or a reply "1" by SMS would
be ambiguous), and escalates at the usual time if they do not come free.

Channels: a worker is reached at the station (checked in today), on the phone page (a live
stream) or only by SMS. The first two see an offer at once and get `offer_timeout_seconds`.
An SMS waits in the modem's queue (one message every `sms_send_interval_seconds`), so each
SMS offer's deadline is its expected send time plus `sms_answer_seconds`, and no SMS offer is
made that would wait longer than `sms_max_queue_seconds`: the cascade passes over SMS-only
workers to the next ones it can reach in time, and comes back to them when the queue drains.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass

from kuaigong.states import LIVE_JOBS, JobStatus, OfferStatus


@dataclass(frozen=True)
class CascadeSettings:
    offer_timeout_seconds: int = 20
    escalate_after_seconds: int = 45
    parallel_per_place: int = 1
    widen_after_seconds: int = 10
    max_parallel_per_place: int = 3
    sms_send_interval_seconds: float = 5.0
    sms_answer_seconds: int = 40
    sms_max_queue_seconds: int = 20


STATION = "station"  # checked in at the station today
PHONE = "phone"  # the phone page (or the kiosk) has a live stream open
SMS = "sms"  # reachable only by text message
UNREACHABLE = "none"  # no way to tell them now
CHANNELS = (STATION, PHONE, SMS, UNREACHABLE)


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
    expires_at: dt.datetime | None = None  # deadline of the new offers seen at once
    by_sms: tuple[tuple[str, dt.datetime], ...] = ()  # (worker, deadline) of offers sent by SMS

    @property
    def idle(self) -> bool:
        return not (self.expire or self.offer_to or self.escalate)

    def sms_deadline(self, worker_id: str) -> dt.datetime | None:
        """The deadline of the offer to `worker_id` when it goes by SMS, else None."""
        return dict(self.by_sms).get(worker_id)

    def deadline(self, worker_id: str) -> dt.datetime | None:
        """The deadline of the new offer to `worker_id`."""
        return self.sms_deadline(worker_id) or self.expires_at


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
    *,
    channels: Mapping[str, str] | None = None,
    sms_queued: int = 0,
    busy_elsewhere: bool = False,
) -> CascadePlan:
    """Decide the cascade step for `job` at `now`.

    `candidates` are the eligible workers not yet offered this job and free to take an offer,
    best ranked first. With `channels` (worker → STATION, PHONE, SMS or UNREACHABLE) offers
    are planned per channel, `sms_queued` being the offers already waiting for the modem;
    without, every candidate is taken to see an offer at once. `busy_elsewhere`: some workers
    who fit are holding another job's live offer, so running out of candidates is not yet
    running out of people.
    """
    pending = [o for o in offers if o.status == OfferStatus.PENDING]
    expire = tuple(o.id for o in pending if o.expires_at <= now)
    still_out = len(pending) - len(expire)
    live = job.status in LIVE_JOBS and job.open_places > 0

    offer_to: tuple[str, ...] = ()
    by_sms: tuple[tuple[str, dt.datetime], ...] = ()
    deferred = False  # someone can be texted once the modem's queue drains
    if live and job.mode == "offer":
        wanted = max(0, parallel_offers(job, now, settings) - still_out)
        if channels is None:
            offer_to = tuple(candidates[:wanted])
        else:
            offer_to, by_sms, deferred = _reachable(
                candidates, wanted, channels, sms_queued, now, settings
            )

    escalate = False
    if live and job.escalated_at is None and job.status == JobStatus.OPEN:
        started = job.dispatch_started_at or now
        overdue = (now - started).total_seconds() >= settings.escalate_after_seconds
        exhausted = (
            job.mode == "offer"
            and still_out == 0
            and not offer_to
            and not deferred
            and not busy_elsewhere
        )
        escalate = overdue or exhausted
    expires_at = now + dt.timedelta(seconds=settings.offer_timeout_seconds) if offer_to else None
    return CascadePlan(
        expire=expire, offer_to=offer_to, escalate=escalate, expires_at=expires_at, by_sms=by_sms
    )


def sms_wait_seconds(position: int, settings: CascadeSettings) -> float:
    """When the `position`-th SMS in the modem's queue (1 = next) is expected to have gone."""
    return position * max(0.0, settings.sms_send_interval_seconds)


def _reachable(
    candidates: list[str],
    wanted: int,
    channels: Mapping[str, str],
    sms_queued: int,
    now: dt.datetime,
    settings: CascadeSettings,
) -> tuple[tuple[str, ...], tuple[tuple[str, dt.datetime], ...], bool]:
    """The first `wanted` candidates who can hear of an offer in time, in rank order, the
    deadlines of those reached by SMS, and whether an SMS-only worker was passed over only
    because the modem's queue is full."""
    chosen: list[str] = []
    by_sms: list[tuple[str, dt.datetime]] = []
    deferred = False
    for worker_id in candidates:
        if len(chosen) >= wanted:
            break
        channel = channels.get(worker_id, UNREACHABLE)
        if channel in (STATION, PHONE):
            chosen.append(worker_id)
        elif channel == SMS:
            wait = sms_wait_seconds(sms_queued + len(by_sms) + 1, settings)
            if wait > settings.sms_max_queue_seconds:
                deferred = True
                continue
            answer = math.ceil(wait) + settings.sms_answer_seconds
            chosen.append(worker_id)
            by_sms.append((worker_id, now + dt.timedelta(seconds=answer)))
    return tuple(chosen), tuple(by_sms), deferred
