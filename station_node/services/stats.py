"""Station figures, by the city's one definition (docs/figures.md, `kuaigong.figures`).

Read-only. `station_stats()` gives today (station local day), all time and month by month;
`range_stats()` any [since, until) range of UTC times. Each record counts in the period of its
own time: a job by its posting, an assignment by its confirmation, a complaint by its receipt,
a worker or employer by registration. The hub computes the same figures from the same records.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import peewee
from flask import current_app, has_app_context

from kuaigong import clock
from kuaigong import figures as fig
from kuaigong.states import JobStatus
from station_node.models import Assignment, Complaint, Employer, Job, Worker
from station_node.services import utc_offset_hours
from station_node.services.complaints import complaint_counts

TARGET_SECONDS = fig.DEFAULT_TARGET_SECONDS


def settings() -> fig.Settings:
    """The figures' settings: dispatch target, complaint deadline, the station's zone."""
    cfg: Any = current_app.config if has_app_context() else {}
    return fig.Settings(
        target_seconds=int(cfg.get("DISPATCH_TARGET_SECONDS", fig.DEFAULT_TARGET_SECONDS)),
        resolve_hours=int(cfg.get("COMPLAINT_RESOLVE_HOURS", fig.DEFAULT_RESOLVE_HOURS)),
        utc_offset_hours=utc_offset_hours(),
    )


def _within(field: peewee.Field, since: dt.datetime | None, until: dt.datetime | None) -> Any:
    cond = field.is_null(False)
    if since is not None:
        cond &= field >= since
    if until is not None:
        cond &= field < until
    return cond


def job_facts(since: dt.datetime | None, until: dt.datetime | None) -> list[fig.JobFacts]:
    query = Job.select(
        Job.posted_at,
        Job.status,
        Job.headcount,
        Job.confirmed_count,
        Job.category,
        Job.dispatch_started_at,
        Job.filled_at,
    ).where(_within(Job.posted_at, since, until))
    return [fig.JobFacts(*row) for row in query.tuples()]


def assignment_facts(
    since: dt.datetime | None, until: dt.datetime | None
) -> list[fig.AssignmentFacts]:
    query = (
        Assignment.select(
            Assignment.confirmed_at,
            Assignment.status,
            Assignment.pay_fen,
            Worker.priority_groups,
            Job.category,
        )
        .join(Worker, on=(Assignment.worker == Worker.id))
        .switch(Assignment)
        .join(Job, on=(Assignment.job == Job.id))
        .where(_within(Assignment.confirmed_at, since, until))
    )
    return [
        fig.AssignmentFacts(at, status, pay, tuple(groups or ()), category)
        for at, status, pay, groups, category in query.tuples()
    ]


def complaint_facts(
    since: dt.datetime | None, until: dt.datetime | None
) -> list[fig.ComplaintFacts]:
    query = Complaint.select(Complaint.created_at, Complaint.resolved_at).where(
        _within(Complaint.created_at, since, until)
    )
    return [fig.ComplaintFacts(*row) for row in query.tuples()]


def figures(
    since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime | None = None
) -> fig.Figures:
    """The station's figures for records of [since, until) (None: unbounded)."""
    return fig.summarise(
        job_facts(since, until),
        assignment_facts(since, until),
        complaint_facts(since, until),
        now=now or clock.now(),
        settings=settings(),
        registrations=Worker.select().where(_within(Worker.created_at, since, until)).count(),
    )


def _ratio(ratio: fig.Ratio) -> float | None:
    value = ratio.value
    return None if value is None else round(value, 4)


def range_stats(
    since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The station's figures for records made in [since, until) (None: unbounded)."""
    now = now or clock.now()
    result = figures(since, until, now)
    t = result.tally
    by_status = {status.value: 0 for status in JobStatus}
    for status, count in (
        Job.select(Job.status, peewee.fn.COUNT(Job.id))
        .where(_within(Job.posted_at, since, until))
        .group_by(Job.status)
        .tuples()
    ):
        by_status[status] = count
    assignments: dict[str, int] = dict(
        Assignment.select(Assignment.status, peewee.fn.COUNT(Assignment.id))
        .where(_within(Assignment.confirmed_at, since, until))
        .group_by(Assignment.status)
        .tuples()
    )
    return {
        "since": since,
        "until": until,
        "figures": result.as_dict(),
        "registrations": {
            "workers": t.registrations,
            "employers": Employer.select()
            .where(_within(Employer.created_at, since, until))
            .count(),
        },
        "postings": {"total": t.posted, "by_status": by_status},
        "dispatched_jobs": t.dispatchable,
        "filled_jobs": t.filled,
        "fill_rate": _ratio(result.fill_rate),
        "time_to_fill": {
            "median_seconds": result.median_fill_seconds,
            "p90_seconds": result.p90_fill_seconds,
            "within_60s_share": _ratio(result.within_target_share),
            "within_60s": t.within_target,
            "decided": result.decided,
        },
        "assignments": {"total": t.assignments, "by_status": assignments},
        "no_show_rate": _ratio(result.no_show_rate),
    }


def monthly(now: dt.datetime | None = None, months: int = 12) -> list[tuple[str, fig.Figures]]:
    """The last `months` local months up to this one, oldest first, each with its figures."""
    now = now or clock.now()
    offset = utc_offset_hours()
    this_month = fig.month_of(now, offset)
    year, mon = (int(part) for part in this_month.split("-"))
    back = year * 12 + mon - 1 - (months - 1)
    first = f"{back // 12:04d}-{back % 12 + 1:02d}"
    out = []
    for month in fig.months_between(first, this_month):
        since, until = fig.month_bounds(month, offset)
        out.append((month, figures(since, until, now)))
    return out


def station_stats(now: dt.datetime | None = None) -> dict[str, Any]:
    """Today's figures (station local day), all-time figures, and complaints open and resolved."""
    now = now or clock.now()
    start_of_day, end_of_day = fig.day_bounds(now, utc_offset_hours())
    return {
        "generated_at": now,
        "today": range_stats(start_of_day, end_of_day, now),
        "all_time": range_stats(None, None, now),
        "complaints": complaint_counts(),  # as they stand now: open and resolved
    }
