"""City view against the 2027 targets and the annual evaluation as CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io

from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

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


def test_evaluation_exports_match_the_page(app: Flask, admin_client: FlaskClient) -> None:
    seed(app)
    response = admin_client.get("/city/evaluation.csv?year=2026")
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["驿站编号", "驿站名称"]
    by_id = {r[0]: r for r in rows[1:]}
    # registrations, postings, fills, median s, share ≤60 s, no-shows, complaints resolved
    assert by_id["sta"][4:] == ["3", "3", "3", "50", "66.7", "1", "0"]
    assert by_id["stb"][4:] == ["1", "1", "0", "", "", "0", "1"]

    xlsx = admin_client.get("/city/evaluation.xlsx?year=2026&lang=en")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "Station id"
    east = next(v for v in values[1:] if v[0] == "sta")
    assert east[4:] == [3, 3, 3, 50, 66.7, 1, 0]


def test_bad_year_is_named(admin_client: FlaskClient) -> None:
    response = admin_client.get("/city/evaluation.csv?year=twenty")
    assert response.status_code == 422
    assert 'data-field="year"' in response.get_data(as_text=True)
