"""What the station's web tests (API, console, browser) share besides fixtures: valid request
bodies, a JSON client with a bearer token, and builders for the app and staff accounts.
The fixtures built on these live in conftest.py."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from stdnum.cn import ric, uscc
from werkzeug.test import TestResponse

from kuaigong import clock
from station_node import create_app, db
from station_node.identity import ensure_keys

# Every test app's clock starts here, whatever the real date: Tuesday 2025-05-06 09:00 station
# time (UTC+8). Dates in requests derive from it (station_date), never from the real clock.
T0 = dt.datetime(2025, 5, 6, 1, 0, 0)
STATION_UTC_OFFSET = dt.timedelta(hours=8)

FAST_PASSWORDS = {"PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
# Tests not about screen pairing open the kiosk and board pages directly (test_screen_pairing.py
# turns the check back on).
SCREENS_OPEN = {"SCREENS_NEED_PAIRING": False}
ADMIN_PASSWORD = "station-admin-1"
STAFF_PASSWORD = "station-staff-1"

_seq = itertools.count(1)
CSRF_FIELD = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def id_number(birth: str = "19850101", seq: int | None = None, area: str = "110105") -> str:
    """A valid resident ID number (check character by ISO 7064 MOD 11-2)."""
    body = f"{area}{birth}{(seq if seq is not None else next(_seq) % 999 + 1):03d}"
    return body + ric.calc_check_digit(body + "0")


def credit_code(n: int | None = None) -> str:
    """A valid unified social credit code."""
    body = f"91110105MA0{(n if n is not None else next(_seq)):06d}"
    return body + uscc.calc_check_digit(body)


def worker_body(**over: Any) -> dict[str, Any]:
    """A valid worker registration."""
    n = next(_seq)
    body: dict[str, Any] = {
        "name": f"李{n}",
        "id_number": id_number(seq=n % 999 + 1),
        "mobile": f"139{n:08d}",
        "skills": ["cleaning", "moving"],
        "areas": ["团结湖社区"],
    }
    body.update(over)
    return body


def employer_body(**over: Any) -> dict[str, Any]:
    """A valid organisation employer."""
    body: dict[str, Any] = {
        "kind": "organisation",
        "name": f"团结湖物业服务有限公司{next(_seq)}",
        "credit_code": credit_code(),
        "contact_name": "赵经理",
        "mobile": "13912345678",
        "address": "北京市朝阳区团结湖路1号",
    }
    body.update(over)
    return body


def station_date(days: int = 0, now: dt.datetime = T0) -> dt.date:
    """The station's calendar date `days` after that of `now` (UTC; default the pinned T0)."""
    return (now + STATION_UTC_OFFSET).date() + dt.timedelta(days=days)


def job_body(employer_id: str, **over: Any) -> dict[str, Any]:
    """A valid job tomorrow (after T0: a Wednesday) 08:00-17:00 station time (UTC+8)."""
    tomorrow = station_date(1)
    body: dict[str, Any] = {
        "employer_id": employer_id,
        "title": "小区保洁",
        "category": "property",
        "description": "楼道和地库清扫，工具由物业提供",
        "skills": ["cleaning"],
        "headcount": 1,
        "pay_fen": 2500,
        "pay_unit": "hour",
        "address": "团结湖北里3号楼",
        "community": "团结湖社区",
        "starts_at": f"{tomorrow}T08:00",
        "ends_at": f"{tomorrow}T17:00",
        "source": "walk_in",
        "dispatch_mode": "grab",
    }
    body.update(over)
    return body


class Api:
    """A test client speaking JSON with a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None) -> None:
        self.client, self.token = client, token

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return headers | (extra or {})

    def get(self, path: str, headers: dict[str, str] | None = None) -> TestResponse:
        return self.client.get("/api/v1" + path, headers=self._headers(headers))

    def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kw: Any
    ) -> TestResponse:
        if json is not None:
            kw["json"] = json
        return self.client.post("/api/v1" + path, headers=self._headers(headers), **kw)

    def as_(self, token: str | None) -> Api:
        return Api(self.client, token)


def make_web_app(tmp_path: Any, **config: Any) -> Flask:
    """The station app on a fresh database in tmp_path, migrated, keys made, its clock
    started at T0 (it runs on from there; tests that move time install a ManualClock). Its
    kiosk and board pages open in any browser unless SCREENS_NEED_PAIRING=True is passed."""
    app = create_app(
        {"DATA_DIR": str(tmp_path), "TESTING": True, **SCREENS_OPEN, **FAST_PASSWORDS, **config}
    )
    clock.install(app, clock.RunningClock(T0))
    db.migrate()
    ensure_keys(app)
    return app


def create_staff(app: Flask, username: str, role: str, password: str) -> str:
    """A staff account through the service; returns its API token."""
    from station_node.services.staff import create_staff as create

    with app.app_context(), db.database.connection_context():
        _, token = create(
            username=username, display_name=f"{username}（测试）", role=role, password=password
        )
    return token


def worker_token(api: Api, worker_id: str) -> str:
    """Issue a worker's own token through the API."""
    response = api.post(f"/workers/{worker_id}/token")
    assert response.status_code == 201, response.get_json()
    return response.get_json()["token"]


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form on the page at `path`."""
    page = client.get(path)
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found is not None, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def console_client(
    app: Flask, username: str = "admin", password: str = ADMIN_PASSWORD
) -> FlaskClient:
    """A test client signed in to the console."""
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    response = client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return client
