"""Plain facts the engine decides on: read from the database by the service layer.

The few per job are frozen dataclasses. The ones made by the thousand for every posting
(a worker's facts, a ranked worker, a reason) are slotted dataclasses, not frozen: a frozen
dataclass sets each field through `object.__setattr__`, which is several times slower to build
and shows in a posting's latency at a large station. The engine treats them as read-only all
the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from station_node.matching.reasons import render


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


@dataclass(slots=True)
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


@dataclass(slots=True)
class Reason:
    """One named part of a ranking decision: a score component or a reason for ineligibility.

    Kept as a code, its points and the parameters of its sentence; the Chinese and English
    sentences are rendered from them when read (`station_node.matching.reasons`).
    """

    code: str
    points: int
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def detail_zh(self) -> str:
        return render(self.code, self.params)[0]

    @property
    def detail_en(self) -> str:
        return render(self.code, self.params)[1]

    def as_dict(self) -> dict[str, Any]:
        zh, en = render(self.code, self.params)
        return {"code": self.code, "points": self.points, "detail_zh": zh, "detail_en": en}

    def stored(self) -> list[Any]:
        """The lean stored form: [code, points] or [code, points, {parameters}]."""
        return [self.code, self.points, self.params] if self.params else [self.code, self.points]


@dataclass(slots=True)
class Ranked:
    """One worker's place for one job. `rank` counts from 1 among eligible workers;
    0 = ineligible."""

    worker_id: str
    eligible: bool
    score: int
    rank: int
    reasons: tuple[Reason, ...]

    def reasons_as_dicts(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.reasons]

    def reasons_stored(self) -> list[list[Any]]:
        """The reasons in their lean stored form (codes and parameters)."""
        return [r.stored() for r in self.reasons]


@dataclass(slots=True)
class RankedPool:
    """A ranking of a pool: `rows` hold the best `stored` eligible workers in order (of
    `eligible` in all), then the `ineligible` ones; `left_out` counts them by reason code."""

    rows: list[Ranked]
    eligible: int
    ineligible: int
    stored: int
    left_out: dict[str, int]
