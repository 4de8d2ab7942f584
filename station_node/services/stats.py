"""Station figures: registrations, postings, fill rate, time to full confirmation, no-shows.

Read-only. `station_stats()` gives today (station local day) and all time; `range_stats()` any
[since, until) range of UTC times. Time to fill runs from dispatch start (`dispatch_started_at`,
when the job became dispatchable) to full confirmation (`filled_at`).
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import Any

import peewee

from kuaigong import clock
from kuaigong.states import SHOWED_UP_ASSIGNMENTS, AssignmentStatus, JobStatus
from station_node.models import Assignment, Employer, Job, Worker
from station_node.services import utc_offset_hours
from station_node.services.complaints import complaint_counts

TARGET_SECONDS = 60


def _within(field: peewee.Field, since: dt.datetime | None, until: dt.datetime | None) -> Any:
    cond = field.is_null(False)
    if since is not None:
        cond &= field >= since
    if until is not None:
        cond &= field < until
    return cond


def _tuples(query: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in query.tuples()]


def _percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile (the value at least `share` of the values do not exceed)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def range_stats(
    since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The station's figures for records made in [since, until) (None: unbounded)."""
    now = now or clock.now()
    by_status = {status.value: 0 for status in JobStatus}
    for status, count in _tuples(
        Job.select(Job.status, peewee.fn.COUNT(Job.id))
        .where(_within(Job.posted_at, since, until))
        .group_by(Job.status)
    ):
        by_status[status] = count
    dispatched = _tuples(
        Job.select(Job.dispatch_started_at, Job.filled_at, Job.status).where(
            _within(Job.dispatch_started_at, since, until)
        )
    )
    seconds = [
        (filled - started).total_seconds()
        for started, filled, _ in dispatched
        if filled is not None
    ]
    # A job still being filled inside the target window has not missed it yet: leave it out.
    decided = [
        row
        for row in dispatched
        if row[1] is not None or (now - row[0]).total_seconds() >= TARGET_SECONDS
    ]
    fast = sum(1 for s in seconds if s <= TARGET_SECONDS)
    assignments: dict[str, int] = dict(
        _tuples(
            Assignment.select(Assignment.status, peewee.fn.COUNT(Assignment.id))
            .where(_within(Assignment.confirmed_at, since, until))
            .group_by(Assignment.status)
        )
    )
    showed = sum(assignments.get(s, 0) for s in SHOWED_UP_ASSIGNMENTS)
    no_shows = assignments.get(AssignmentStatus.NO_SHOW, 0)
    return {
        "since": since,
        "until": until,
        "registrations": {
            "workers": Worker.select().where(_within(Worker.created_at, since, until)).count(),
            "employers": Employer.select()
            .where(_within(Employer.created_at, since, until))
            .count(),
        },
        "postings": {"total": sum(by_status.values()), "by_status": by_status},
        "dispatched_jobs": len(dispatched),
        "filled_jobs": len(seconds),
        "fill_rate": _ratio(len(seconds), len(dispatched)),
        "time_to_fill": {
            "median_seconds": statistics.median(seconds) if seconds else None,
            "p90_seconds": _percentile(seconds, 0.9),
            "within_60s_share": _ratio(fast, len(decided)),
            "within_60s": fast,
            "decided": len(decided),
        },
        "assignments": {"total": sum(assignments.values()), "by_status": assignments},
        "no_show_rate": _ratio(no_shows, no_shows + showed),
    }


def station_stats(now: dt.datetime | None = None) -> dict[str, Any]:
    """Today's figures (station local day), all-time figures, and complaints open and resolved."""
    now = now or clock.now()
    offset = dt.timedelta(hours=utc_offset_hours())
    local_midnight = dt.datetime.combine((now + offset).date(), dt.time())
    start_of_day = local_midnight - offset
    return {
        "generated_at": now,
        "today": range_stats(start_of_day, start_of_day + dt.timedelta(days=1), now),
        "all_time": range_stats(None, None, now),
        "complaints": complaint_counts(),  # as they stand now: open and resolved
    }
