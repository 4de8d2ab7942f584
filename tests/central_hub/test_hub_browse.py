"""Finding stations, people and jobs on the hub's pages (SQLite and PostgreSQL): searches by what
admins know, pages with their position, the district drill-down, local times and a last sync
that reads from the hub's clock at each request."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from central_hub import db
from central_hub.models import Job, Person, Station, Worker
from kuaigong import clock

NOW = dt.datetime(2026, 3, 10, 4, 0)  # 12:00 in Shanghai


def _seed(app: Flask) -> None:
    with app.app_context(), db.database.connection_context():
        for n, (name, district, community) in enumerate(
            [
                ("东城驿站", "东城区", "和平里"),
                ("西城驿站", "西城区", "月坛"),
                ("南城驿站", "东城区", "安定门"),
            ]
        ):
            Station.create(
                id=f"st{n}",
                name=name,
                district=district,
                community=community,
                status="active",
                last_sync_at=NOW - dt.timedelta(minutes=3),
            )
        Person.create(id_hash="a" * 64, id_masked="110105********002X", created_at=NOW)
        for i in range(30):
            data = {
                "name": "王芳" if i == 7 else f"李{i}",
                "id_masked": "110105********002X" if i == 7 else f"110105********{i:04d}",
                "mobile": f"138{i:08d}",
            }
            Worker.create(
                id=f"{i:032x}",
                station=f"st{i % 3}",
                data=data,
                name=data["name"],
                id_hash="a" * 64 if i == 7 else f"{i:064x}",
                created_at=dt.datetime(2026, 2, 28, 16, 30),
            )
        for j in range(60):
            Job(
                id=f"{j + 1000:032x}",
                station=f"st{j % 3}",
                title="保洁" if j % 2 else "搬运",
                category="catering" if j % 4 == 0 else "household",
                status="filled" if j % 5 else "open",
                headcount=1,
                posted_at=dt.datetime(2026, 2, 28, 17, 0) + dt.timedelta(days=j % 2),
            ).save(force_insert=True)


def _client(app: Flask, admin_client: FlaskClient) -> FlaskClient:
    clock.install(app, clock.ManualClock(NOW))
    _seed(app)
    return admin_client


def test_people_are_found_by_name_masked_number_or_mobile(
    app: Flask, admin_client: FlaskClient
) -> None:
    client = _client(app, admin_client)
    for query in ("王芳", "王", "13800000007", "110105********002X", "002x"):
        page = client.get("/people/", query_string={"q": query}).get_data(as_text=True)
        rows = re.findall(r"<tr>\s*<td>", page.split('id="people"')[1])
        assert len(rows) == 1, query
        assert "王芳" in page and "138****0007" in page and "西城驿站" in page
    assert "没有符合条件的人员" in client.get("/people/?q=赵").get_data(as_text=True)
    # Registered 2026-02-28 16:30 UTC: the first of March in Shanghai.
    assert "2026-03-01 00:30" in client.get("/people/?q=王芳").get_data(as_text=True)


def test_people_and_jobs_come_a_page_at_a_time(app: Flask, admin_client: FlaskClient) -> None:
    client = _client(app, admin_client)
    first = client.get("/people/").get_data(as_text=True)
    assert "第 1 页 / 共 2 页 · 共 30 条" in first and 'rel="next"' in first
    second = client.get("/people/?page=2").get_data(as_text=True)
    assert "第 2 页 / 共 2 页" in second and len(re.findall(r"138\*\*\*\*", second)) == 5
    jobs = client.get("/jobs/?page=3").get_data(as_text=True)
    assert "第 3 页 / 共 3 页 · 共 60 条" in jobs and 'rel="prev"' in jobs
    wrong = client.get("/jobs/?page=abc")
    assert wrong.status_code == 422 and "页码须为正整数" in wrong.get_data(as_text=True)


def test_jobs_are_searched_by_title_station_sector_status_and_local_month(
    app: Flask, admin_client: FlaskClient
) -> None:
    client = _client(app, admin_client)

    def total(**args: str) -> int:
        page = client.get("/jobs/", query_string=args).get_data(as_text=True)
        return int(re.search(r"共 (\d+) 条", page)[1])  # type: ignore[index]

    assert total(q="保") == 30 and total(q="搬运") == 30 and total(q="%") == 0
    assert total(station="st1") == 20
    assert total(sector="catering") == 15 and total(status="open") == 12
    # Posted 2026-02-28 17:00 UTC is the first of March in Shanghai; the next day's too.
    assert total(month="2026-03") == 60 and total(month="2026-02") == 0
    page = client.get("/jobs/?station=st1&sector=household").get_data(as_text=True)
    assert "西城驿站" in page and "家政服务" in page and "st1" not in re.sub(r"<[^>]+>", "", page)
    wrong = client.get("/jobs/?month=2026-13")
    assert wrong.status_code == 422 and "月份须写成" in wrong.get_data(as_text=True)


def test_stations_are_searched_and_drilled_down_by_district(
    app: Flask, admin_client: FlaskClient
) -> None:
    client = _client(app, admin_client)
    page = client.get("/?district=东城区").get_data(as_text=True)
    assert "东城驿站" in page and "南城驿站" in page and "西城驿站" not in page.split("<table")[1]
    assert "3 分钟前" in page
    clock.installed(app).set(NOW + dt.timedelta(hours=2))  # type: ignore[union-attr]
    assert "2 小时前" in client.get("/?q=月坛").get_data(as_text=True)
    city = client.get("/city/districts").get_data(as_text=True)
    assert re.search(r"东城区</a></td>\s*<td class=\"num\">2</td><td class=\"num\">20</td>", city)
    district = client.get("/city/districts/东城区").get_data(as_text=True)
    assert "和平里" in district and "安定门" in district and "月坛" not in district
    assert client.get("/city/districts/无此区").status_code == 404


def test_the_pages_speak_english_on_request(app: Flask, admin_client: FlaskClient) -> None:
    client = _client(app, admin_client)
    assert "Page 1 of 3 · 60 in all" in client.get("/jobs/?lang=en").get_data(as_text=True)
    assert "3 minutes ago" in client.get("/").get_data(as_text=True)
    client.get("/?lang=zh_CN")


def test_a_stations_page_names_it_and_charts_its_postings(
    app: Flask, admin_client: FlaskClient
) -> None:
    client = _client(app, admin_client)
    page = client.get("/stations/st0").get_data(as_text=True)
    assert "<h1>东城驿站</h1>" in page and '<svg class="chart line"' in page
    assert json.dumps("st0") not in page
    assert re.search(r'id="station-jobs">20<', page)


def test_counting_stops_at_the_cap_but_paging_goes_on(
    app: Flask, admin_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from central_hub.services import browse

    client = _client(app, admin_client)
    monkeypatch.setattr(browse, "COUNT_CAP", 20)
    first = client.get("/people/").get_data(as_text=True)
    assert "第 1 页 · 共 20 多条" in first and 'rel="next"' in first
    last = client.get("/people/?page=2").get_data(as_text=True)
    assert len(re.findall(r"138\*\*\*\*", last)) == 5 and 'rel="next"' not in last
