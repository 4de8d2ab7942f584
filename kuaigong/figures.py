"""The service figures, one definition for the station and the hub (docs/figures.md).

Plain records in, numbers out: no database, no web framework. The station builds the records
from its rows and calls `summarise`; the hub adds the same counts up in SQL (GROUP BY) and
hands them to `derive`, with the median and p90 picked at the positions `median_positions` and
`p90_position` name. Either way the ratios, their rounding and the percentiles come from here,
so the two sides cannot drift apart. Times are naive UTC; "today" and months are local days
and months at a fixed offset from UTC (the station's and the city's zone, +8 by default).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kuaigong.states import (
    PLACE_HOLDING_ASSIGNMENTS,
    SHOWED_UP_ASSIGNMENTS,
    AssignmentStatus,
    JobStatus,
)

DEFAULT_UTC_OFFSET_HOURS = 8
DEFAULT_TARGET_SECONDS = 60
# A complaint is resolved in time when it is resolved within this many hours of being received.
DEFAULT_RESOLVE_HOURS = 7 * 24
PRIORITY_GROUPS = (
    "veteran",
    "disability",
    "unemployed",
    "migrant_worker",
    "older_worker",
    "low_income",
    "new_employment_form",
)

# Placements: the worker holds (or held and worked) the place; no-shows and drop-outs are not.
PLACED = PLACE_HOLDING_ASSIGNMENTS


@dataclass(frozen=True)
class JobFacts:
    posted_at: dt.datetime
    status: str
    headcount: int
    confirmed_count: int = 0
    category: str = ""
    dispatch_started_at: dt.datetime | None = None
    filled_at: dt.datetime | None = None


@dataclass(frozen=True)
class AssignmentFacts:
    confirmed_at: dt.datetime
    status: str
    pay_fen: int | None = None
    priority_groups: tuple[str, ...] = ()
    category: str = ""


@dataclass(frozen=True)
class ComplaintFacts:
    received_at: dt.datetime
    resolved_at: dt.datetime | None = None


@dataclass(frozen=True)
class Settings:
    target_seconds: int = DEFAULT_TARGET_SECONDS
    resolve_hours: int = DEFAULT_RESOLVE_HOURS
    utc_offset_hours: int = DEFAULT_UTC_OFFSET_HOURS


@dataclass
class Tally:
    """Counts that add up across stations, districts, sectors and months."""

    posted: int = 0
    dispatchable: int = 0
    held: int = 0
    rejected: int = 0
    cancelled_before_dispatch: int = 0
    filled: int = 0
    partly_filled: int = 0
    unfilled: int = 0
    within_target: int = 0
    pending: int = 0  # dispatch began less than the target ago and not full yet: not decided
    places: int = 0
    places_confirmed: int = 0
    assignments: int = 0
    showed_up: int = 0
    no_shows: int = 0
    placements: int = 0
    placements_by_group: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(PRIORITY_GROUPS, 0)
    )
    placements_priority: int = 0  # placements of workers in at least one group
    wage_paid_fen: int = 0
    complaints_received: int = 0
    complaints_resolved_in_time: int = 0
    complaints_resolved_late: int = 0
    complaints_open: int = 0
    registrations: int = 0


def combine(tallies: Iterable[Tally]) -> Tally:
    """The tally of several disjoint sets of records (stations into a district, months into a
    year): every count adds up."""
    total = Tally()
    for tally in tallies:
        for name, value in vars(tally).items():
            if name == "placements_by_group":
                for group, count in value.items():
                    total.placements_by_group[group] = (
                        total.placements_by_group.get(group, 0) + count
                    )
            else:
                setattr(total, name, getattr(total, name) + value)
    return total


@dataclass(frozen=True)
class Ratio:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return self.part / self.whole if self.whole else None

    @property
    def percent(self) -> float | None:
        """Percent to one decimal, halves rounded up (integer arithmetic, no float drift)."""
        if not self.whole:
            return None
        return ((2000 * self.part + self.whole) // (2 * self.whole)) / 10


@dataclass(frozen=True)
class Figures:
    tally: Tally
    median_fill_seconds: float | None
    p90_fill_seconds: int | None

    @property
    def fill_rate(self) -> Ratio:
        return Ratio(self.tally.filled, self.tally.dispatchable)

    @property
    def decided(self) -> int:
        return self.tally.dispatchable - self.tally.pending

    @property
    def within_target_share(self) -> Ratio:
        return Ratio(self.tally.within_target, self.decided)

    @property
    def no_show_rate(self) -> Ratio:
        return Ratio(self.tally.no_shows, self.tally.no_shows + self.tally.showed_up)

    @property
    def complaints_in_time(self) -> Ratio:
        return Ratio(self.tally.complaints_resolved_in_time, self.tally.complaints_received)

    def as_dict(self) -> dict[str, object]:
        """Every figure as plain values (for comparing, JSON and templates)."""
        return {
            **dataclasses.asdict(self.tally),
            "median_fill_seconds": self.median_fill_seconds,
            "p90_fill_seconds": self.p90_fill_seconds,
            "fill_rate": self.fill_rate.percent,
            "within_target_share": self.within_target_share.percent,
            "no_show_rate": self.no_show_rate.percent,
            "complaints_in_time": self.complaints_in_time.percent,
        }


def whole_seconds(moment: dt.datetime) -> dt.datetime:
    """Times count to the whole second, as the change log carries them to the hub."""
    return moment.replace(microsecond=0)


def dispatch_start(job: JobFacts) -> dt.datetime:
    """When the clock to fill the job started: dispatch start (the latest, after a reopening),
    else its posting (records from before stations kept the dispatch start)."""
    return job.dispatch_started_at or job.posted_at


def fill_seconds(job: JobFacts) -> int | None:
    """Whole seconds from the start of dispatch to full (None: not full)."""
    if job.filled_at is None:
        return None
    spent = whole_seconds(job.filled_at) - whole_seconds(dispatch_start(job))
    return max(0, int(spent.total_seconds()))


def job_kind(job: JobFacts) -> str:
    """'dispatchable', or why the job is reported apart: held (waiting for review), rejected,
    or cancelled before its dispatch began."""
    if job.status == JobStatus.HELD:
        return "held"
    if job.status == JobStatus.REJECTED:
        return "rejected"
    if job.status == JobStatus.CANCELLED and job.dispatch_started_at is None:
        return "cancelled_before_dispatch"
    return "dispatchable"


def median_positions(n: int) -> tuple[int, int]:
    """0-based positions in ascending order whose mean is the median (the same one when odd)."""
    return (n - 1) // 2, n // 2


def p90_position(n: int) -> int:
    """0-based position of the nearest-rank 90th percentile: ceil(0.9 n) - 1."""
    return (9 * n + 9) // 10 - 1


def median(values: Sequence[int]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    low, high = median_positions(len(ordered))
    return (ordered[low] + ordered[high]) / 2


def p90(values: Sequence[int]) -> int | None:
    if not values:
        return None
    return sorted(values)[p90_position(len(values))]


def pending_cutoff(now: dt.datetime, settings: Settings) -> dt.datetime:
    """Dispatch begun after this moment and not full yet has not missed the target yet."""
    return whole_seconds(now) - dt.timedelta(seconds=settings.target_seconds)


def add_job(tally: Tally, job: JobFacts, now: dt.datetime, settings: Settings) -> None:
    tally.posted += 1
    kind = job_kind(job)
    if kind != "dispatchable":
        setattr(tally, kind, getattr(tally, kind) + 1)
        return
    tally.dispatchable += 1
    tally.places += max(0, job.headcount)
    tally.places_confirmed += min(max(0, job.confirmed_count), max(0, job.headcount))
    seconds = fill_seconds(job)
    if seconds is not None:
        tally.filled += 1
        if seconds <= settings.target_seconds:
            tally.within_target += 1
        return
    if job.confirmed_count > 0:
        tally.partly_filled += 1
    else:
        tally.unfilled += 1
    if whole_seconds(dispatch_start(job)) > pending_cutoff(now, settings):
        tally.pending += 1


def add_assignment(tally: Tally, assignment: AssignmentFacts) -> None:
    tally.assignments += 1
    if assignment.status in SHOWED_UP_ASSIGNMENTS:
        tally.showed_up += 1
    elif assignment.status == AssignmentStatus.NO_SHOW:
        tally.no_shows += 1
    if assignment.status in PLACED:
        tally.placements += 1
        groups = set(assignment.priority_groups) & set(PRIORITY_GROUPS)
        for group in groups:
            tally.placements_by_group[group] += 1
        if groups:
            tally.placements_priority += 1
    if assignment.status == AssignmentStatus.SETTLED:
        tally.wage_paid_fen += assignment.pay_fen or 0


def resolved_in_time(complaint: ComplaintFacts, settings: Settings) -> bool:
    if complaint.resolved_at is None:
        return False
    spent = whole_seconds(complaint.resolved_at) - whole_seconds(complaint.received_at)
    return spent <= dt.timedelta(hours=settings.resolve_hours)


def add_complaint(tally: Tally, complaint: ComplaintFacts, settings: Settings) -> None:
    tally.complaints_received += 1
    if complaint.resolved_at is None:
        tally.complaints_open += 1
    elif resolved_in_time(complaint, settings):
        tally.complaints_resolved_in_time += 1
    else:
        tally.complaints_resolved_late += 1


def derive(tally: Tally, median_seconds: float | None, p90_seconds: int | None) -> Figures:
    return Figures(tally, median_seconds, p90_seconds)


def summarise(
    jobs: Iterable[JobFacts],
    assignments: Iterable[AssignmentFacts] = (),
    complaints: Iterable[ComplaintFacts] = (),
    *,
    now: dt.datetime,
    settings: Settings | None = None,
    registrations: int = 0,
) -> Figures:
    """The figures of these records (already chosen for the period and place)."""
    settings = settings or Settings()
    tally = Tally(registrations=registrations)
    seconds: list[int] = []
    for job in jobs:
        add_job(tally, job, now, settings)
        spent = fill_seconds(job)
        if spent is not None and job_kind(job) == "dispatchable":
            seconds.append(spent)
    for assignment in assignments:
        add_assignment(tally, assignment)
    for complaint in complaints:
        add_complaint(tally, complaint, settings)
    return derive(tally, median(seconds), p90(seconds))


# -- periods ------------------------------------------------------------------------------------
def local(moment: dt.datetime, offset_hours: int) -> dt.datetime:
    return moment + dt.timedelta(hours=offset_hours)


def month_of(moment: dt.datetime, offset_hours: int) -> str:
    """'YYYY-MM' of the local month a UTC time falls in."""
    return local(moment, offset_hours).strftime("%Y-%m")


def day_bounds(now: dt.datetime, offset_hours: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of the local day `now` (UTC) falls in."""
    offset = dt.timedelta(hours=offset_hours)
    start = dt.datetime.combine((now + offset).date(), dt.time()) - offset
    return start, start + dt.timedelta(days=1)


def month_bounds(month: str, offset_hours: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) in UTC of a local month 'YYYY-MM'."""
    year, mon = (int(part) for part in month.split("-"))
    offset = dt.timedelta(hours=offset_hours)
    following = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return dt.datetime(year, mon, 1) - offset, dt.datetime(*following, 1) - offset


def months_between(first: str, last: str) -> list[str]:
    """Every 'YYYY-MM' from first to last, both included."""
    year, mon = (int(part) for part in first.split("-"))
    out = []
    while f"{year:04d}-{mon:02d}" <= last:
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return out


def in_period(moment: dt.datetime, since: dt.datetime | None, until: dt.datetime | None) -> bool:
    return (since is None or moment >= since) and (until is None or moment < until)


# -- targets --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    current: int
    goal: int
    projected: int | None  # where the monthly trend leads by the end of `by_month`
    by_month: str

    @property
    def progress(self) -> Ratio:
        return Ratio(self.current, self.goal)

    @property
    def on_track(self) -> bool | None:
        return None if self.projected is None else self.projected >= self.goal


def trend_line(counts: Sequence[int]) -> tuple[float, float] | None:
    """Least-squares (intercept, slope) of counts over months 0, 1, 2, …; None under 2 months."""
    n = len(counts)
    if n < 2:
        return None
    mean_x = (n - 1) / 2
    mean_y = sum(counts) / n
    spread = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(counts)) / spread
    return mean_y - slope * mean_x, slope


def project(
    current: int,
    monthly: Sequence[tuple[str, int]],
    this_month: str,
    goal: int,
    by: str = "2027-12",
) -> Target:
    """Progress to `goal` and the total at the end of month `by`: the current total plus, for
    every month after `this_month` up to `by`, the new records the linear trend of the monthly
    counts (every month from the first with records to `this_month`, empty ones as 0) gives
    there, never below 0."""
    counts_by_month = dict(monthly)
    months = [m for m in counts_by_month if m <= this_month]
    if not months:
        return Target(current, goal, None, by)
    series = months_between(min(months), this_month)
    line = trend_line([counts_by_month.get(m, 0) for m in series])
    if line is None:
        return Target(current, goal, None, by)
    intercept, slope = line
    ahead = months_between(this_month, by)[1:]
    added = sum(max(0.0, intercept + slope * (len(series) + k)) for k in range(len(ahead)))
    return Target(current, goal, current + round(added), by)
