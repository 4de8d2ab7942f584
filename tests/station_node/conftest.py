"""Shared fixtures for the station tests: a real app on a SQLite file in tmp_path, factories,
and for the web tests (API, console, browser) an app without a held context, staff tokens and
a JSON client (their helpers live in web_helpers.py)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from stdnum.cn import ric
from web_helpers import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    T0,
    Api,
    create_staff,
    employer_body,
    make_web_app,
    worker_body,
)

from kuaigong import clock
from station_node import create_app, db
from station_node.identity import ensure_keys
from station_node.models import ChangeEntry, Employer, Job, Staff, Worker
from station_node.services import dispatch

# T0 (from web_helpers): every test app's clock starts at 2025-05-06 09:00 station time (UTC+8),
# a Tuesday, whatever the real date; `manual_clock` holds it there.
__all__ = ["T0"]


def make_id_number(area: str = "110105", birth: str = "19800101", seq: int = 1) -> str:
    """A valid resident ID number with the given area, birth date and 3-digit sequence."""
    body = f"{area}{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def app(tmp_path) -> Iterator[Flask]:
    """The station app on a fresh database, inside an app context with an open connection; its
    clock starts at T0 and runs on (`manual_clock` holds it instead)."""
    app = create_app(
        {
            "DATA_DIR": str(tmp_path),
            "TESTING": True,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "SCREENS_NEED_PAIRING": False,
        }
    )
    clock.install(app, clock.RunningClock(T0))
    db.migrate()
    ensure_keys(app)
    with app.app_context(), db.database.connection_context():
        yield app


@pytest.fixture
def manual_clock(app: Flask) -> clock.ManualClock:
    """Pin the app's clock at T0; advance it with `.advance(seconds)`."""
    manual = clock.ManualClock(T0)
    clock.install(app, manual)
    return manual


@pytest.fixture
def no_dispatch(monkeypatch) -> list[tuple[str, str]]:
    """Replace the dispatch engine's entry points with recorders (for tests of posting alone)."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(dispatch, "start_dispatch", lambda job: calls.append(("start", job.id)))
    monkeypatch.setattr(dispatch, "reopen", lambda job: calls.append(("reopen", job.id)))
    return calls


@pytest.fixture
def staff(app: Flask) -> Staff:
    """An admin staff member."""
    from station_node.services.staff import create_staff

    member, _ = create_staff("wang", "王主任", "admin", "password-1")
    return member


_seq = itertools.count(1)


@pytest.fixture
def worker_data() -> Callable[..., dict[str, Any]]:
    """Valid worker registration input; keyword arguments override fields."""

    def build(**over: Any) -> dict[str, Any]:
        n = next(_seq)
        data: dict[str, Any] = {
            "name": f"张{n}",
            "id_number": make_id_number(birth="19800101", seq=(n % 999) + 1),
            "mobile": f"138{n:08d}",
            "skills": ["cleaning", "moving"],
            "areas": ["团结湖社区"],
            "availability": {"days": [0, 1, 2, 3, 4], "from": "08:00", "to": "18:00"},
        }
        data.update(over)
        return data

    return build


@pytest.fixture
def make_worker(app: Flask, staff: Staff, worker_data) -> Callable[..., Worker]:
    """Register a worker through the service."""
    from station_node.services.registration import register_worker

    return lambda **over: register_worker(worker_data(**over), staff)


@pytest.fixture
def make_employer(app: Flask, staff: Staff) -> Callable[..., Employer]:
    """Register an organisation employer through the service."""
    from stdnum.cn import uscc

    from station_node.services.registration import register_employer

    counter = itertools.count(1)

    def build(**over: Any) -> Employer:
        n = next(counter)
        body = f"91110105MA0{n:06d}"
        data: dict[str, Any] = {
            "kind": "organisation",
            "name": f"朝阳物业服务有限公司{n}",
            "credit_code": body + uscc.calc_check_digit(body),
            "contact_name": "李经理",
            "mobile": "13912345678",
            "address": "北京市朝阳区团结湖路1号",
        }
        data.update(over)
        return register_employer(data, staff)

    return build


@pytest.fixture
def job_data() -> Callable[..., dict[str, Any]]:
    """Valid job input starting tomorrow by the app's clock (after T0: a Wednesday), 08:00-17:00
    station time; keywords override fields."""

    def build(employer: Employer, **over: Any) -> dict[str, Any]:
        from station_node.services import local_now

        tomorrow = (local_now() + dt.timedelta(days=1)).date()
        data: dict[str, Any] = {
            "employer_id": employer.id,
            "title": "小区保洁",
            "category": "property",
            "description": "楼道和地库清扫，工具由物业提供",
            "skills": ["cleaning"],
            "headcount": 2,
            "pay_fen": 2500,
            "pay_unit": "hour",
            "address": "团结湖北里3号楼",
            "community": "团结湖社区",
            "starts_at": f"{tomorrow}T08:00",
            "ends_at": f"{tomorrow}T17:00",
            "source": "walk_in",
            "dispatch_mode": "offer",
        }
        data.update(over)
        return data

    return build


@pytest.fixture
def make_job(app: Flask, staff: Staff, make_employer, job_data) -> Callable[..., Job]:
    """Post a job through the service (its employer made fresh unless given)."""
    from station_node.services.posting import post_job

    def build(employer: Employer | None = None, **over: Any) -> Job:
        return post_job(job_data(employer or make_employer(), **over), staff)

    return build


def _table_counts() -> dict[str, int]:
    return {
        "worker": Worker.select().count(),
        "employer": Employer.select().count(),
        "job": Job.select().count(),
        "change": ChangeEntry.select().count(),
    }


@pytest.fixture
def counts() -> Callable[[], dict[str, int]]:
    """Row counts (workers, employers, jobs, change entries) a failed write must leave unchanged."""
    return _table_counts


@pytest.fixture
def id_number() -> Callable[..., str]:
    """Build a valid resident ID number: id_number(area=, birth="YYYYMMDD", seq=)."""
    return make_id_number


# --- web tests: the app as a server sees it, staff tokens, a JSON client ---


@pytest.fixture
def web_app(tmp_path: Any) -> Iterator[Flask]:
    """The station app for web tests (no context held open: each request opens its own)."""
    app = make_web_app(tmp_path)
    yield app
    if not db.database.is_closed():
        db.database.close()


@pytest.fixture
def admin_token(web_app: Flask) -> str:
    return create_staff(web_app, "admin", "admin", ADMIN_PASSWORD)


@pytest.fixture
def staff_token(web_app: Flask) -> str:
    return create_staff(web_app, "clerk", "staff", STAFF_PASSWORD)


@pytest.fixture
def api(web_app: Flask, admin_token: str) -> Api:
    """JSON client authenticated as the station admin."""
    return Api(web_app.test_client(), admin_token)


@pytest.fixture
def employer_id(api: Api) -> str:
    response = api.post("/employers", employer_body())
    assert response.status_code == 201, response.get_json()
    return response.get_json()["employer"]["id"]


@pytest.fixture
def worker_ids(api: Api) -> list[str]:
    """Three registered workers, checked in today."""
    ids = []
    for _ in range(3):
        response = api.post("/workers", worker_body())
        assert response.status_code == 201, response.get_json()
        worker_id = response.get_json()["worker"]["id"]
        assert api.post(f"/workers/{worker_id}/checkin").status_code == 200
        ids.append(worker_id)
    return ids
