"""City view against the 2027 targets."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient

from central_hub import db
from central_hub.models import Assignment, Complaint, Job, Station, Worker

T0 = dt.datetime(2026, 4, 1, 8, 0, 0)


def seed(app: Flask) -> None:
    with app.app_context(), db.database.connection_context():
        Station.create(
            id="sta", name="东城驿站", district="东城区", community="和平里", status="active"
        )
        Station.create(
            id="stb", name="西城驿站", district="西城区", community="月坛", status="active"
        )
        for i in range(3):
            Worker.create(
                id=f"a{i}", station="sta", id_hash=f"{i:064x}", name=f"工{i}", created_at=T0
            )
        Worker.create(
            id="b0", station="stb", id_hash=f"{0:064x}", name="工0", created_at=T0
        )  # same person
        Worker.create(
            id="old", station="stb", id_hash="f" * 64, name="旧", created_at=dt.datetime(2025, 5, 1)
        )
        for i, secs in enumerate([30, 50, 90]):
            Job.create(
                id=f"ja{i}",
                station="sta",
                title="保洁",
                status="filled",
                headcount=1,
                posted_at=T0,
                dispatch_started_at=T0,
                filled_at=T0 + dt.timedelta(seconds=secs),
            )
        Job.create(id="jb0", station="stb", title="搬运", status="open", headcount=2, posted_at=T0)
        Assignment.create(
            id="as1", station="sta", job_id="ja0", worker_id="a0", status="no_show", confirmed_at=T0
        )
        Complaint.create(
            id="c1",
            station="stb",
            kind="unpaid_wages",
            status="resolved",
            created_at=T0,
            resolved_at=T0 + dt.timedelta(days=2),
        )
        Complaint.create(id="c2", station="sta", kind="other", status="open", created_at=T0)


def test_city_view_counts_people_once_against_the_targets(
    app: Flask, admin_client: FlaskClient
) -> None:
    seed(app)
    page = admin_client.get("/city/").get_data(as_text=True)
    assert '<strong id="workers">4</strong>' in page  # 5 worker rows, one person at two stations
    assert '<strong id="jobs">4</strong>' in page
    assert "200000" in page and "50000" in page
    assert '<strong id="fill-rate">75.0%</strong>' in page
    assert '<strong id="complaints">2</strong>' in page
