"""City figures per station, district, sector and month, the targets' projection and the page,
on SQLite and PostgreSQL (definitions: docs/figures.md)."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient

from central_hub import db
from central_hub.models import Assignment, Complaint, Job, Station, Worker
from central_hub.services import citystats
from kuaigong import clock
from kuaigong import figures as fig

NOW = dt.datetime(2026, 4, 1, 4, 0, 0)  # 12:00 on 1 April in the city
MARCH = dt.datetime(2026, 3, 10, 2, 0, 0)
EDGE = dt.datetime(2026, 3, 31, 16, 30, 0)  # 00:30 on 1 April locally, March in UTC


def _job(jid: str, station: str, at: dt.datetime, **over: object) -> None:
    fields: dict[str, object] = {
        "id": jid,
        "station": station,
        "title": "保洁",
        "category": "property",
        "status": "filled",
        "headcount": 1,
        "confirmed_count": 1,
        "posted_at": at,
        "dispatch_started_at": at,
        "filled_at": at + dt.timedelta(seconds=30),
    }
    fields.update(over)
    Job.create(**fields)


def seed(app: Flask) -> None:
    with app.app_context(), db.database.connection_context():
        Station.create(id="sta", name="东城驿站", district="东城区", community="和平里")
        Station.create(id="stb", name="西城驿站", district="西城区", community="月坛")
        Station.create(id="stc", name="安定门驿站", district="东城区", community="安定门")
        Worker.create(id="w1", station="sta", id_hash="1" * 64, created_at=MARCH)
        Worker.create(
            id="w2", station="stb", id_hash="2" * 64, created_at=EDGE, priority_groups=",veteran,"
        )
        Worker.create(id="w3", station="stc", id_hash="1" * 64, created_at=EDGE)  # same as w1
        _job("j1", "sta", MARCH)  # 30 s: in time
        _job("j2", "sta", MARCH, filled_at=MARCH + dt.timedelta(seconds=75))  # a miss
        _job("j3", "stb", EDGE, category="moving")
        _job("j4", "stb", EDGE, status="escalated", headcount=2, filled_at=None)  # partly
        _job("j5", "stc", EDGE, status="held", dispatch_started_at=None, filled_at=None)
        _job(
            "j6",
            "stc",
            EDGE,
            status="cancelled",
            dispatch_started_at=None,
            filled_at=None,
            confirmed_count=0,
        )
        Assignment.create(
            id="a1",
            station="stb",
            job_id="j3",
            worker_id="w2",
            status="settled",
            confirmed_at=EDGE,
            pay_fen=12345,
        )
        Assignment.create(
            id="a2",
            station="sta",
            job_id="j1",
            worker_id="w1",
            status="no_show",
            confirmed_at=MARCH,
        )
        Complaint.create(
            id="c1",
            station="stc",
            status="resolved",
            created_at=MARCH,
            resolved_at=MARCH + dt.timedelta(days=8),
        )


def test_figures_per_station_district_sector_and_local_month(app: Flask) -> None:
    seed(app)
    with app.app_context(), db.database.connection_context():
        city = citystats.figures_by("city", now=NOW)["city"]
        assert (city.tally.posted, city.tally.dispatchable) == (6, 4)
        assert (city.tally.held, city.tally.cancelled_before_dispatch) == (1, 1)
        assert city.within_target_share == fig.Ratio(2, 4)
        assert city.median_fill_seconds == 30 and city.p90_fill_seconds == 75
        stations = citystats.figures_by("station", now=NOW)
        assert stations["stb"].tally.partly_filled == 1 and stations["stb"].fill_rate.percent == 50
        assert stations["sta"].no_show_rate.percent == 100.0
        districts = citystats.figures_by("district", now=NOW)
        assert districts["东城区"].tally.posted == 4 and districts["西城区"].tally.posted == 2
        assert districts["东城区"].tally.complaints_resolved_late == 1
        sectors = citystats.figures_by("sector", now=NOW)
        assert sectors["moving"].tally.wage_paid_fen == 12345
        assert sectors["moving"].tally.placements_by_group["veteran"] == 1
        assert sectors["property"].tally.posted == 5
        months = citystats.figures_by("month", now=NOW)
        assert months["2026-03"].tally.posted == 2 and months["2026-04"].tally.posted == 4
        assert months["2026-03"].tally.registrations == 1
        assert months["2026-04"].tally.registrations == 2


def test_targets_count_people_once_and_project_the_trend(app: Flask) -> None:
    seed(app)
    with app.app_context(), db.database.connection_context():
        clock.install(app, clock.ManualClock(NOW))
        view = citystats.city_view()
        workers, jobs = view["targets"]["workers"], view["targets"]["jobs"]
        assert (workers.current, jobs.current) == (2, 6)  # w1 and w3 are one person
        # registrations per month: March 1, April 2 → +1 a month; jobs: March 2, April 4 → +2
        assert workers.projected == 2 + sum(range(3, 23))
        assert jobs.projected == 6 + sum(6 + 2 * k for k in range(20))
        assert [m for m, _f in view["trend"]] == ["2026-03", "2026-04"]


def test_city_page_in_both_languages(app: Flask, admin_client: FlaskClient) -> None:
    seed(app)
    clock.install(app, clock.ManualClock(NOW))
    page = admin_client.get("/city/").get_data(as_text=True)
    assert '<strong id="within-target">50.0%</strong>' in page
    assert '<td data-group="veteran">1</td>' in page
    assert 'id="districts-figures"' in page and "东城区" in page
    assert '<th scope="row">物业管理</th>' in page  # sectors by name, not code
    assert 'id="projection-jobs"' in page and "<svg" in page
    assert '<td id="wage-paid">123.45</td>' in page
    english = admin_client.get("/city/?lang=en").get_data(as_text=True)
    assert "Share filled within 60 s" in english and "By district" in english
