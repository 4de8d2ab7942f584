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
import heapq
from collections.abc import Iterable

from station_node.matching.facts import JobFacts, Ranked, RankedPool, Reason, WorkerFacts
from station_node.matching.reasons import ROTATION_MAX_POINTS, ROTATION_POINTS_PER_HOUR

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


def _overlaps(
    a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime
) -> bool:
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
            reasons.append(
                Reason(
                    "unavailable_time",
                    0,
                    {
                        "start": f"{start:%H:%M}",
                        "end": f"{end:%H:%M}",
                        "from": avail["from"],
                        "to": avail["to"],
                    },
                )
            )
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
            reasons.append(
                Reason("skills_missing", 0, {"skills": sorted(job.skills - worker.skills)})
            )
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
                reasons.append(
                    Reason(
                        "overlapping_booking",
                        0,
                        {
                            "from": _iso(booking.starts_at),
                            "to": _iso(booking.ends_at),
                        },
                    )
                )
                break
    return reasons


def _rotation(worker: WorkerFacts, now: dt.datetime) -> Reason:
    if worker.last_assigned_at is None:
        return _NEVER_ASSIGNED
    hours = max(0, int((now - worker.last_assigned_at).total_seconds() // 3600))
    points = min(ROTATION_MAX_POINTS, hours * ROTATION_POINTS_PER_HOUR)
    return Reason("rotation", points, {"hours": hours})


def _rotation_points(worker: WorkerFacts, now: dt.datetime) -> int:
    if worker.last_assigned_at is None:
        return ROTATION_MAX_POINTS
    hours = max(0, int((now - worker.last_assigned_at).total_seconds() // 3600))
    return min(ROTATION_MAX_POINTS, hours * ROTATION_POINTS_PER_HOUR)


def _reliability_points(worker: WorkerFacts) -> int:
    penalty = worker.no_show_count * NO_SHOW_POINTS + worker.late_cancel_count * LATE_CANCEL_POINTS
    return max(RELIABILITY_FLOOR, penalty) if penalty else 0


def _rating_points(worker: WorkerFacts) -> int:
    """(average - 3) × 20 in integers, rounded half away from zero; 0 without ratings."""
    if not worker.rating_count:
        return 0
    twice = 2 * RATING_POINTS_PER_STAR * (worker.rating_sum - 3 * worker.rating_count)
    points = (abs(twice) + worker.rating_count) // (2 * worker.rating_count)
    return points if twice >= 0 else -points


def points(worker: WorkerFacts, now: dt.datetime) -> int:
    """An eligible worker's score without its named parts: the sum of `score`'s points."""
    return (
        (PRESENT_POINTS if worker.present else 0)
        + _rotation_points(worker, now)
        + _reliability_points(worker)
        + _rating_points(worker)
        + (PRIORITY_GROUP_POINTS if worker.priority_groups else 0)
    )


def score(worker: WorkerFacts, now: dt.datetime) -> list[Reason]:
    """The named parts of an eligible worker's score; the score is the sum of their points."""
    parts: list[Reason] = [_PRESENT if worker.present else _NOT_PRESENT, _rotation(worker, now)]
    penalty = _reliability_points(worker)
    if penalty:
        parts.append(
            Reason(
                "reliability",
                penalty,
                {
                    "no_shows": worker.no_show_count,
                    "late_cancels": worker.late_cancel_count,
                },
            )
        )
    if worker.rating_count:
        parts.append(
            Reason(
                "rating",
                _rating_points(worker),
                {"sum": worker.rating_sum, "count": worker.rating_count},
            )
        )
    if worker.priority_groups:
        parts.append(
            Reason(
                "priority_group", PRIORITY_GROUP_POINTS, {"groups": list(worker.priority_groups)}
            )
        )
    return parts


_EARLY, _LATE = dt.datetime.min, dt.datetime.max


def _tie_break(total: int, worker: WorkerFacts) -> tuple:
    return (
        -total,
        worker.last_assigned_at or _EARLY,
        worker.checked_in_at or _LATE,
        worker.registered_at or _LATE,
        worker.id,
    )


def rank_best(
    job: JobFacts, workers: Iterable[WorkerFacts], now: dt.datetime, keep: int | None = None
) -> RankedPool:
    """Rank every given worker for `job`; the rows hold the best `keep` eligible workers (all
    when None) in order, then every ineligible one with its reasons.

    Every eligible worker's score is worked out to sort them, but the named parts (the
    reasons) only for the ones kept: a large station has thousands eligible and stores a few
    hundred.
    """
    eligible: list[tuple[tuple, WorkerFacts]] = []
    ineligible: list[Ranked] = []
    left_out: dict[str, int] = {}
    # Whether the job's time fits, by availability dict (the pool shares one per distinct
    # text); each dict is held here so its id stays its own while the cache lives.
    hours_fit: dict[int, tuple[dict, bool]] = {}
    skills, community = job.skills, job.community
    unwanted = job.assigned_worker_ids | job.declined_worker_ids
    for worker in workers:
        # The common case decided quickly; anything else goes through check_eligibility.
        hours = worker.availability
        plainly = (
            worker.active
            and not worker.bookings
            and worker.id not in unwanted
            and skills <= worker.skills
            and (not worker.areas or community in worker.areas)
        )
        if plainly and hours:
            known = hours_fit.get(id(hours))
            if known is None:
                known = hours_fit[id(hours)] = (hours, not _availability_reasons(job, worker))
            plainly = known[1]
        why_not = [] if plainly else check_eligibility(job, worker)
        if why_not:
            ineligible.append(Ranked(worker.id, False, 0, 0, tuple(why_not)))
            for code in {r.code for r in why_not}:
                left_out[code] = left_out.get(code, 0) + 1
            continue
        eligible.append((_tie_break(points(worker, now), worker), worker))
    count = len(eligible)
    if keep is not None and keep < count:
        best = heapq.nsmallest(keep, eligible, key=_first)
    else:
        best = sorted(eligible, key=_first)
    rows = [
        Ranked(worker.id, True, -key[0], place, tuple(score(worker, now)))
        for place, (key, worker) in enumerate(best, start=1)
    ]
    ineligible.sort(key=_worker_id)
    return RankedPool(rows + ineligible, count, len(ineligible), len(rows), left_out)


def _first(item: tuple[tuple, WorkerFacts]) -> tuple:
    return item[0]


def _worker_id(r: Ranked) -> str:
    return r.worker_id


def rank(job: JobFacts, workers: Iterable[WorkerFacts], now: dt.datetime) -> list[Ranked]:
    """Rank every given worker for `job`: eligible ones first, best score first; then the rest."""
    return rank_best(job, workers, now).rows
