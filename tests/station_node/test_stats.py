"""Station figures from known rows: counts, fill rate, time to fill, no-show rate, today vs all
time."""

from __future__ import annotations

import datetime as dt

from station_node.models import Assignment, Job, Worker
from station_node.services.stats import range_stats, station_stats

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # the manual_clock fixture's start: 09:00 station time


def _job(employer, status, started_s_ago=None, filled_after=None, posted_at=None):
    started = T0 - dt.timedelta(seconds=started_s_ago) if started_s_ago is not None else None
    return Job.create(
        employer=employer,
        title="搬家",
        category="logistics",
        headcount=1,
        pay_fen=3000,
        pay_unit="hour",
        address="双井",
        community="双井社区",
        source="walk_in",
        status=status,
        posted_at=posted_at or started or T0,
        dispatch_started_at=started,
        filled_at=started + dt.timedelta(seconds=filled_after)
        if filled_after is not None
        else None,
    )


def test_figures_from_known_data(app, manual_clock, make_employer, make_worker):
    assert manual_clock.now() == T0
    employer = make_employer()
    workers = [make_worker() for _ in range(4)]
    Worker.update(created_at=T0 - dt.timedelta(hours=10)).where(
        Worker.id == workers[0].id
    ).execute()
    filled = [_job(employer, "filled", 3600, s) for s in (10, 30, 50, 90)]
    _job(employer, "escalated", 3600)  # never filled: misses the target
    _job(employer, "open", 20)  # still inside its first minute: not decided yet
    _job(employer, "held")
    for n, (job, worker, status) in enumerate(
        zip(filled, workers, ["settled", "checked_in", "completed", "no_show"], strict=True)
    ):
        Assignment.create(
            id=f"a{n}", job=job, worker=worker, via="manual", status=status, confirmed_at=T0
        )

    stats = station_stats()
    everything = stats["all_time"]
    assert everything["registrations"] == {"workers": 4, "employers": 1}
    assert everything["postings"]["total"] == 7
    assert everything["postings"]["by_status"]["filled"] == 4
    assert everything["postings"]["by_status"]["held"] == 1
    assert everything["dispatched_jobs"] == 6 and everything["filled_jobs"] == 4
    assert everything["fill_rate"] == round(4 / 6, 4)
    assert everything["time_to_fill"]["median_seconds"] == 40
    assert everything["time_to_fill"]["p90_seconds"] == 90
    assert everything["time_to_fill"]["within_60s"] == 3
    assert everything["time_to_fill"]["decided"] == 5
    assert everything["time_to_fill"]["within_60s_share"] == 0.6
    assert everything["no_show_rate"] == 0.25

    today = stats["today"]  # the station day began at 16:00 UTC yesterday
    assert today["since"] == dt.datetime(2025, 5, 5, 16, 0)
    assert today["registrations"]["workers"] == 3
    assert stats["generated_at"] == T0


def test_empty_station_and_ranges(app, manual_clock, make_employer):
    empty = station_stats()["all_time"]
    assert empty["fill_rate"] is None and empty["no_show_rate"] is None
    assert empty["time_to_fill"]["median_seconds"] is None
    employer = make_employer()
    _job(employer, "filled", 7 * 86400, 45)  # a week ago
    _job(employer, "filled", 600, 75)
    week = range_stats(T0 - dt.timedelta(days=8), T0 - dt.timedelta(days=6))
    assert week["filled_jobs"] == 1 and week["time_to_fill"]["median_seconds"] == 45
    assert week["time_to_fill"]["within_60s_share"] == 1.0
    recent = range_stats(T0 - dt.timedelta(hours=1), None)
    assert recent["time_to_fill"]["within_60s_share"] == 0.0


def test_demo_station_seeds_once_and_its_figures_add_up(app):
    from station_node import sample_data
    from station_node.models import ChangeEntry, Employer, Presence
    from station_node.services.staff import authenticate_password, authenticate_token

    app.config["STATION_ID"] = "st-demo-figures"  # the sample data are drawn from the station's id
    lines = sample_data.seed(app)
    token = lines[-1].rsplit(" ", 1)[-1]
    admin = authenticate_token(token)
    assert admin is not None and admin.role == "admin"
    assert authenticate_password("admin", "kuaigong").id == admin.id
    assert (
        Worker.select().count() == sample_data.WORKER_COUNT + 1
    )  # and the resident every demo station has
    assert Employer.select().count() == 8
    assert Presence.select().count() == 15
    held = list(Job.select().where(Job.status == "held"))
    assert [j.title for j in held] == ["写字楼保安（高薪急招）"]
    assert {r["code"] for r in held[0].screening_reasons} >= {"asks_for_money", "withholds_id_card"}
    assert Job.select().where(Job.dispatch_started_at.is_null(False)).count() == 10
    stats = station_stats()["all_time"]
    assert stats["registrations"] == {"workers": 41, "employers": 8}
    assert stats["postings"]["total"] == 11 and stats["postings"]["by_status"]["held"] == 1
    # the job lived through two days ago: filled by hand, two paid and rated, one no-show
    past = Job.get(Job.title == "社区文化节场地清扫")
    states = sorted(a.status for a in past.assignments)
    assert states == ["no_show", "settled", "settled"], states
    assert all(
        a.worker_confirmed_pay_at and a.rating_of_worker == 5
        for a in past.assignments
        if a.status == "settled"
    )
    assert 0 < stats["no_show_rate"] < 1
    shared = Worker.get(Worker.name == sample_data.SHARED_RESIDENT["name"])
    assert [a.job.category for a in shared.assignments] == ["logistics"]
    assert station_stats()["complaints"]["open"] == 1
    seqs = [e.seq for e in ChangeEntry.select().order_by(ChangeEntry.seq)]
    assert seqs == list(range(1, len(seqs) + 1))

    again = sample_data.seed(app)
    assert "admin / kuaigong" in again[-1]
    assert Worker.select().count() == sample_data.WORKER_COUNT + 1 and Job.select().count() == 11
