"""Plain facts the engine decides on: read from the database by the service layer, frozen here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Booking:
    """A live assignment (confirmed or checked in) holding a worker's time, UTC; None = flexible."""

    job_id: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None


@dataclass(frozen=True)
class JobFacts:
    """What the engine needs to know about one job.

    Times are naive UTC (as stored); `local_starts_at`/`local_ends_at` are the same moments in the
    station's time zone, for comparing with the hours workers said they are available.
    """

    id: str
    community: str
    skills: frozenset[str] = frozenset()
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    local_starts_at: dt.datetime | None = None
    local_ends_at: dt.datetime | None = None
    time_flexible: bool = False
    assigned_worker_ids: frozenset[str] = frozenset()
    declined_worker_ids: frozenset[str] = frozenset()

    @property
    def timed(self) -> bool:
        """True when the job has a fixed window that can clash with other bookings."""
        return not self.time_flexible and self.starts_at is not None and self.ends_at is not None


@dataclass(frozen=True)
class WorkerFacts:
    """What the engine needs to know about one worker (priority groups only with consent)."""

    id: str
    name: str = ""
    skills: frozenset[str] = frozenset()
    areas: frozenset[str] = frozenset()
    availability: dict[str, Any] = field(default_factory=dict)
    active: bool = True
    priority_groups: tuple[str, ...] = ()
    last_assigned_at: dt.datetime | None = None
    no_show_count: int = 0
    late_cancel_count: int = 0
    rating_sum: int = 0
    rating_count: int = 0
    present: bool = False
    checked_in_at: dt.datetime | None = None  # today's arrival at the station, when present
    registered_at: dt.datetime | None = None
    bookings: tuple[Booking, ...] = ()


@dataclass(frozen=True)
class Reason:
    """One named part of a ranking decision: a score component or a reason for ineligibility."""

    code: str
    points: int
    detail_zh: str
    detail_en: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "points": self.points,
            "detail_zh": self.detail_zh,
            "detail_en": self.detail_en,
        }


@dataclass(frozen=True)
class Ranked:
    """One worker's place for one job. `rank` counts from 1 among eligible workers; 0 = ineligible."""

    worker_id: str
    eligible: bool
    score: int
    rank: int
    reasons: tuple[Reason, ...]

    def reasons_as_dicts(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.reasons]
