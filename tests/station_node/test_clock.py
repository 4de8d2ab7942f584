"""The station reads time only from its app's clock: test apps start at T0 whatever the real
date, and what the station stamps or times out (rows, the kiosk's idle sign-out) follows it."""

from __future__ import annotations

import datetime as dt
import re
import time

from flask import Flask
from web_helpers import T0, Api, job_body, station_date, worker_body

from kuaigong import clock
from station_node import db
from station_node.models import ChangeEntry, Job, Worker
from station_node.services import local_today

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_a_running_clock_starts_where_it_is_told_and_runs_on() -> None:
    running = clock.RunningClock(T0)
    first = running.now()
    assert T0 <= first < T0 + dt.timedelta(seconds=5)
    time.sleep(0.02)
    assert running.now() - first >= dt.timedelta(seconds=0.02)


def test_test_apps_start_at_t0_a_tuesday_at_the_station(app: Flask) -> None:
    assert T0 <= clock.now() < T0 + dt.timedelta(minutes=5)
    assert local_today() == station_date() == dt.date(2025, 5, 6)
    assert local_today().weekday() == 1


def test_rows_are_stamped_by_the_apps_clock(
    app: Flask, manual_clock: clock.ManualClock, make_worker, make_job
) -> None:
    manual_clock.advance(3600)
    worker = make_worker()
    job = make_job()
    assert Worker.get_by_id(worker.id).created_at == T0 + dt.timedelta(hours=1)
    assert Job.get_by_id(job.id).posted_at == T0 + dt.timedelta(hours=1)
    newest = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    assert newest.created_at == T0 + dt.timedelta(hours=1)


def test_the_web_apps_date_their_requests_from_t0(
    web_app: Flask, api: Api, employer_id: str
) -> None:
    job = api.post("/jobs", job_body(employer_id)).get_json()["job"]
    assert job["starts_at"].startswith("2025-05-07T00:00")  # Wednesday 08:00 at the station
    with web_app.app_context(), db.database.connection_context():
        assert Job.get_by_id(job["id"]).posted_at.date() == T0.date()


def test_the_kiosk_signs_out_after_idle_minutes_on_the_apps_clock(web_app: Flask, api: Api) -> None:
    body = worker_body()
    assert api.post("/workers", body).status_code == 201
    manual = clock.ManualClock(T0)
    clock.install(web_app, manual)
    kiosk = web_app.test_client()
    token = CSRF.search(kiosk.get("/kiosk/signin").get_data(as_text=True)).group(1)
    signed = kiosk.post(
        "/kiosk/signin",
        data={"csrf_token": token, "id_number": body["id_number"], "mobile": body["mobile"]},
    )
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/kiosk/mine")
    manual.advance(170)
    assert kiosk.get("/kiosk/mine").status_code == 200  # still there, and seen again now
    manual.advance(170)
    assert kiosk.get("/kiosk/mine").status_code == 200
    manual.advance(181)  # three idle minutes by the station's clock, however little real time
    gone = kiosk.get("/kiosk/mine")
    assert gone.status_code == 302 and gone.headers["Location"].endswith("/kiosk/signin")


def test_the_station_zone_is_a_setting_defaulting_to_shanghai(tmp_path) -> None:
    from web_helpers import make_web_app

    from station_node.services import utc_offset_hours
    from station_node.views.templating import when

    shanghai = make_web_app(tmp_path / "sh")
    with shanghai.test_request_context():
        assert utc_offset_hours() == 8
        assert when(T0) == "5月6日 周二 09:00"
    tokyo = make_web_app(tmp_path / "tk", TIME_ZONE="Asia/Tokyo")
    with tokyo.test_request_context():
        assert when(T0) == "5月6日 周二 10:00"
    fixed = make_web_app(tmp_path / "fx", TIME_ZONE="Asia/Tokyo", UTC_OFFSET_HOURS=7)
    with fixed.test_request_context():
        assert utc_offset_hours() == 7
