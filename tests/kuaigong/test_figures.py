"""The one definition of the service figures (kuaigong.figures, docs/figures.md)."""

from __future__ import annotations

import datetime as dt

from kuaigong import figures as fig

NOW = dt.datetime(2026, 3, 31, 16, 30, 0)  # 00:30 on 1 April in the city (UTC+8)
T = NOW - dt.timedelta(hours=2)


def _job(status: str = "filled", *, fill: int | None = 30, **over: object) -> fig.JobFacts:
    started = over.pop("dispatch_started_at", T)
    assert started is None or isinstance(started, dt.datetime)
    fields: dict[str, object] = {
        "posted_at": T,
        "status": status,
        "headcount": 2,
        "confirmed_count": 2 if fill is not None else 0,
        "category": "property",
        "dispatch_started_at": started,
        "filled_at": (started or T) + dt.timedelta(seconds=fill) if fill is not None else None,
    }
    fields.update(over)
    return fig.JobFacts(**fields)  # type: ignore[arg-type]


def test_unfilled_and_partly_filled_jobs_miss_the_target() -> None:
    jobs = [
        _job(fill=20),
        _job(fill=60),  # exactly the target: inside
        _job(fill=61),
        _job("escalated", fill=None, confirmed_count=1),  # partly filled: a miss
        _job("escalated", fill=None),  # nobody: a miss
    ]
    result = fig.summarise(jobs, now=NOW)
    t = result.tally
    assert (t.dispatchable, t.filled, t.partly_filled, t.unfilled) == (5, 3, 1, 1)
    assert (t.within_target, result.decided) == (2, 5)
    assert result.within_target_share == fig.Ratio(2, 5)
    assert result.within_target_share.percent == 40.0
    assert result.fill_rate.percent == 60.0
    assert (t.places, t.places_confirmed) == (10, 7)
    assert result.median_fill_seconds == 60 and result.p90_fill_seconds == 61


def test_held_rejected_and_cancelled_before_dispatch_are_reported_apart() -> None:
    jobs = [
        _job(fill=10),
        _job("held", fill=None, dispatch_started_at=None),
        _job("rejected", fill=None, dispatch_started_at=None),
        _job("cancelled", fill=None, dispatch_started_at=None),
        _job("cancelled", fill=None),  # cancelled after dispatch began: counts, as a miss
    ]
    result = fig.summarise(jobs, now=NOW)
    t = result.tally
    assert (t.posted, t.dispatchable) == (5, 2)
    assert (t.held, t.rejected, t.cancelled_before_dispatch) == (1, 1, 1)
    assert result.within_target_share.percent == 50.0


def test_a_job_still_inside_its_first_minute_is_not_decided_yet() -> None:
    fresh = _job("open", fill=None, dispatch_started_at=NOW - dt.timedelta(seconds=59))
    late = _job("open", fill=None, dispatch_started_at=NOW - dt.timedelta(seconds=60))
    result = fig.summarise([fresh, late, _job(fill=5)], now=NOW)
    assert result.tally.pending == 1 and result.decided == 2
    assert result.within_target_share.percent == 50.0
    assert result.fill_rate == fig.Ratio(1, 3)  # fill rate counts every dispatchable job


def test_times_count_in_whole_seconds_as_the_hub_receives_them() -> None:
    started = T + dt.timedelta(microseconds=900_000)
    job = _job(fill=None, dispatch_started_at=started, filled_at=T + dt.timedelta(seconds=61.1))
    assert fig.fill_seconds(job) == 61  # 60.2 s apart, but 61 whole seconds: a miss
    assert fig.summarise([job], now=NOW).tally.within_target == 0


def test_percentiles_nearest_rank_and_median_of_the_middle_two() -> None:
    assert fig.median([]) is None and fig.p90([]) is None
    assert fig.median([10, 30, 50, 90]) == 40
    assert fig.p90(list(range(1, 11))) == 9  # ceil(0.9 × 10) = 9th value
    assert fig.p90([7]) == 7 and fig.p90([1, 2, 3]) == 3
    assert fig.median_positions(4) == (1, 2) and fig.p90_position(10) == 8


def test_percent_rounds_halves_up_to_one_decimal() -> None:
    assert fig.Ratio(1, 14).percent == 7.1
    assert fig.Ratio(2, 15).percent == 13.3
    assert fig.Ratio(1, 8).percent == 12.5
    assert fig.Ratio(1, 16).percent == 6.3  # 6.25 → 6.3
    assert fig.Ratio(0, 0).percent is None and fig.Ratio(0, 0).value is None


def test_no_shows_placements_priority_groups_and_wages() -> None:
    a = [
        fig.AssignmentFacts(T, "settled", 30000, ("veteran", "low_income")),
        fig.AssignmentFacts(T, "checked_in", None, ("migrant_worker",)),
        fig.AssignmentFacts(T, "no_show", None, ("veteran",)),
        fig.AssignmentFacts(T, "cancelled", None, ()),
        fig.AssignmentFacts(T, "confirmed", None, ()),
        fig.AssignmentFacts(T, "completed", 5000, ()),  # pay not recorded yet: not paid
    ]
    result = fig.summarise([], a, now=NOW)
    t = result.tally
    assert (t.assignments, t.showed_up, t.no_shows) == (6, 3, 1)
    assert result.no_show_rate.percent == 25.0
    assert (t.placements, t.placements_priority) == (4, 2)
    assert t.placements_by_group["veteran"] == 1 and t.placements_by_group["low_income"] == 1
    assert t.placements_by_group["migrant_worker"] == 1 and t.placements_by_group["unemployed"] == 0
    assert t.wage_paid_fen == 30000


def test_complaints_resolved_in_time_by_the_setting() -> None:
    received = T
    complaints = [
        fig.ComplaintFacts(received, received + dt.timedelta(hours=24)),
        fig.ComplaintFacts(received, received + dt.timedelta(hours=25)),
        fig.ComplaintFacts(received, None),
    ]
    day = fig.Settings(resolve_hours=24)
    t = fig.summarise([], [], complaints, now=NOW, settings=day).tally
    assert (t.complaints_resolved_in_time, t.complaints_resolved_late, t.complaints_open) == (
        1,
        1,
        1,
    )
    week = fig.summarise([], [], complaints, now=NOW)
    assert week.complaints_in_time == fig.Ratio(2, 3)


def test_months_and_days_are_local() -> None:
    # 16:30 UTC on 31 March is already 1 April in the city.
    assert fig.month_of(NOW, 8) == "2026-04" and fig.month_of(NOW, 0) == "2026-03"
    start, end = fig.month_bounds("2026-04", 8)
    assert start == dt.datetime(2026, 3, 31, 16, 0) and end == dt.datetime(2026, 4, 30, 16, 0)
    assert fig.day_bounds(NOW, 8) == (dt.datetime(2026, 3, 31, 16, 0), dt.datetime(2026, 4, 1, 16))
    assert fig.months_between("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    before = _job(posted_at=dt.datetime(2026, 3, 31, 15, 59, 59))
    after = _job(posted_at=dt.datetime(2026, 3, 31, 16, 0, 0))
    by_month: dict[str, int] = {}
    for job in (before, after):
        key = fig.month_of(job.posted_at, 8)
        by_month[key] = by_month.get(key, 0) + 1
    assert by_month == {"2026-03": 1, "2026-04": 1}


def test_projection_follows_the_monthly_trend_to_the_end_of_2027() -> None:
    monthly = [("2026-10", 100), ("2026-11", 200), ("2026-12", 300)]
    target = fig.project(600, monthly, "2026-12", 50_000)
    # the line goes on by 100 a month: 400, 500, … 1500 over the 12 months of 2027
    assert target.projected == 600 + sum(range(400, 1600, 100))
    assert target.progress.percent == 1.2 and target.on_track is False
    falling = fig.project(50, [("2027-01", 30), ("2027-02", 20)], "2027-02", 100)
    assert falling.projected == 50 + 10  # 10 in March, then nothing below zero
    assert fig.project(5, [("2027-01", 5)], "2027-01", 10).projected is None


def test_tallies_of_disjoint_records_add_up() -> None:
    first = [_job(fill=20), _job("held", fill=None, dispatch_started_at=None)]
    second = [_job(fill=90), _job("escalated", fill=None, confirmed_count=1)]
    paid = [fig.AssignmentFacts(T, "settled", 100, ("veteran",))]
    whole = fig.summarise(first + second, paid, now=NOW).tally
    parts = [fig.summarise(first, paid, now=NOW).tally, fig.summarise(second, now=NOW).tally]
    assert fig.combine(parts) == whole
