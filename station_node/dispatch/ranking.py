"""Who may take a job (eligibility, with reasons) and in which order (a score of named parts).

Order, strongest first:
- present at the station today: +1000, so present workers always get offers before absent ones;
- fairness rotation: +10 per hour since the worker last got work, up to +400 (never = +400),
  so whoever just got work goes to the back of the line;
- reliability: -60 per no-show and -30 per late cancellation (together at most -300), and
  the average rating around 3 stars: (avg - 3) × 20, from -40 to +40;
- priority group (with recorded consent): +50.
Ties go to whoever got work least recently, then to whoever arrived at the station first
today, then to whoever registered first (then the id), so the order is stable and explainable.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable

from station_node.dispatch.facts import JobFacts, Ranked, Reason, WorkerFacts
from station_node.dispatch.reasons import ROTATION_MAX_POINTS, ROTATION_POINTS_PER_HOUR

PRESENT_POINTS = 1000
NO_SHOW_POINTS = -60
LATE_CANCEL_POINTS = -30
RELIABILITY_FLOOR = -300
RATING_POINTS_PER_STAR = 20
PRIORITY_GROUP_POINTS = 50

_BLOCKED = Reason("blocked", 0)
_ALREADY_ASSIGNED = Reason("already_assigned", 0)
_DECLINED = Reason("declined", 0)
_PRESENT = Reason("present", PRESENT_POINTS)
_NOT_PRESENT = Reason("not_present", 0)
_NEVER_ASSIGNED = Reason("rotation", ROTATION_MAX_POINTS)


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat(timespec="minutes") if when else None


def _overlaps(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime) -> bool:
    return a_start < b_end and b_start < a_end


def _minutes(hhmm: object) -> int | None:
    return _parse_minutes(hhmm) if isinstance(hhmm, str) else None


@functools.lru_cache(maxsize=1024)  # a handful of distinct times, parsed for every ranked worker
def _parse_minutes(hhmm: str) -> int | None:
    try:
        hours, minutes = hhmm.split(":")
        return int(hours) * 60 + int(minutes)
    except ValueError:
        return None


def _availability_reasons(job: JobFacts, worker: WorkerFacts) -> list[Reason]:
    """Day-of-week (0 = Monday) and time-window checks against the job's local start and end."""
    avail = worker.availability or {}
    start, end = job.local_starts_at, job.local_ends_at
    if job.time_flexible or start is None:
        return []
    reasons: list[Reason] = []
    days = avail.get("days")
    if days and start.weekday() not in days:
        reasons.append(Reason("unavailable_day", 0, {"day": start.weekday()}))
    window_from, window_to = _minutes(avail.get("from", "")), _minutes(avail.get("to", ""))
    if window_from is not None and window_to is not None and end is not None:
        if window_to <= window_from:
            window_to += 24 * 60  # an overnight window, e.g. 22:00–06:00
        job_from = start.hour * 60 + start.minute
        job_to = job_from + int((end - start).total_seconds() // 60)
        if job_from < window_from or job_to > window_to:
            reasons.append(Reason("unavailable_time", 0, {
                "start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "from": avail["from"], "to": avail["to"],
            }))
    return reasons


def check_eligibility(job: JobFacts, worker: WorkerFacts, *, manual: bool = False) -> list[Reason]:
    """Why `worker` may not take `job` (empty when they may).

    `manual` is a staff assignment by hand: it skips skills, area, availability and earlier
    declines, but never a blocked account, an overlapping booking or a second assignment.
    """
    reasons: list[Reason] = []
    if not worker.active:
        reasons.append(_BLOCKED)
    if worker.id in job.assigned_worker_ids:
        reasons.append(_ALREADY_ASSIGNED)
    if not manual:
        if not job.skills <= worker.skills:
            reasons.append(Reason("skills_missing", 0, {"skills": sorted(job.skills - worker.skills)}))
        if worker.areas and job.community not in worker.areas:
            reasons.append(Reason("outside_area", 0, {"community": job.community}))
        if worker.availability:
            reasons.extend(_availability_reasons(job, worker))
        if worker.id in job.declined_worker_ids:
            reasons.append(_DECLINED)
    if job.timed:
        assert job.starts_at is not None and job.ends_at is not None
        for booking in worker.bookings:
            if booking.job_id == job.id or booking.starts_at is None or booking.ends_at is None:
                continue
            if _overlaps(job.starts_at, job.ends_at, booking.starts_at, booking.ends_at):
                reasons.append(Reason("overlapping_booking", 0, {
                    "from": _iso(booking.starts_at), "to": _iso(booking.ends_at),
                }))
                break
    return reasons


def _rotation(worker: WorkerFacts, now: dt.datetime) -> Reason:
    if worker.last_assigned_at is None:
        return _NEVER_ASSIGNED
    hours = max(0, int((now - worker.last_assigned_at).total_seconds() // 3600))
    points = min(ROTATION_MAX_POINTS, hours * ROTATION_POINTS_PER_HOUR)
    return Reason("rotation", points, {"hours": hours})


def score(worker: WorkerFacts, now: dt.datetime) -> list[Reason]:
    """The named parts of an eligible worker's score; the score is the sum of their points."""
    parts: list[Reason] = [_PRESENT if worker.present else _NOT_PRESENT, _rotation(worker, now)]
    penalty = worker.no_show_count * NO_SHOW_POINTS + worker.late_cancel_count * LATE_CANCEL_POINTS
    if penalty:
        parts.append(Reason("reliability", max(RELIABILITY_FLOOR, penalty), {
            "no_shows": worker.no_show_count, "late_cancels": worker.late_cancel_count,
        }))
    if worker.rating_count:
        # (average - 3) × 20 in integers, rounded half away from zero.
        twice = 2 * RATING_POINTS_PER_STAR * (worker.rating_sum - 3 * worker.rating_count)
        points = (abs(twice) + worker.rating_count) // (2 * worker.rating_count)
        points = points if twice >= 0 else -points
        parts.append(Reason("rating", points, {"sum": worker.rating_sum, "count": worker.rating_count}))
    if worker.priority_groups:
        parts.append(Reason("priority_group", PRIORITY_GROUP_POINTS, {"groups": list(worker.priority_groups)}))
    return parts


def _tie_break(points: int, worker: WorkerFacts) -> tuple:
    early, late = dt.datetime.min, dt.datetime.max
    return (-points, worker.last_assigned_at or early, worker.checked_in_at or late,
            worker.registered_at or late, worker.id)


def rank(job: JobFacts, workers: Iterable[WorkerFacts], now: dt.datetime) -> list[Ranked]:
    """Rank every given worker for `job`: eligible ones first, best score first; then the rest."""
    eligible: list[tuple[int, WorkerFacts, list[Reason]]] = []
    ineligible: list[Ranked] = []
    for worker in workers:
        why_not = check_eligibility(job, worker)
        if why_not:
            ineligible.append(Ranked(worker.id, False, 0, 0, tuple(why_not)))
            continue
        parts = score(worker, now)
        eligible.append((sum(p.points for p in parts), worker, parts))
    eligible.sort(key=lambda item: _tie_break(item[0], item[1]))
    ranked = [
        Ranked(worker.id, True, total, place, tuple(parts))
        for place, (total, worker, parts) in enumerate(eligible, start=1)
    ]
    ineligible.sort(key=lambda r: r.worker_id)
    return ranked + ineligible
