"""Rows for the dispatch tests, written straight to the tables (no registration or posting
rules involved), so the tests exercise the engine alone."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from kuaigong import clock
from station_node import db
from station_node.models import Employer, Job, Presence, PriorityConsent, Worker

# 2025-05-06 01:00 UTC = Tuesday 09:00 at the station (UTC+8).
T0 = dt.datetime(2025, 5, 6, 1, 0, 0)
# Tomorrow 08:00–17:00 station time.
JOB_START = dt.datetime(2025, 5, 7, 0, 0, 0)
JOB_END = dt.datetime(2025, 5, 7, 9, 0, 0)

_numbers = itertools.count(1)


def add_worker(
    name: str | None = None, *, present: bool = False, consent: bool = True, **fields: Any
) -> Worker:
    """A worker row with dummy identity values; `present` checks them in today (T0)."""
    n = next(_numbers)
    values: dict[str, Any] = {
        "name": name or f"工人{n}",
        "id_cipher": b"\x00" * 16,
        "id_hash": f"{n:064x}",
        "id_masked": "110105********001X",
        "birth_date": dt.date(1980, 1, 1),
        "sex": "M",
        "mobile": f"138{n:08d}",
        "skills": ["cleaning"],
        "areas": ["团结湖社区"],
        "availability": {},
        # registered in the order made, even on a clock held still (ties go to the first)
        "created_at": clock.now() + dt.timedelta(microseconds=n),
    }
    values.update(fields)
    with db.atomic():
        worker = Worker.create(**values)
        if present:
            Presence.create(
                worker=worker, day=(T0 + dt.timedelta(hours=8)).date(), checked_in_at=T0
            )
        if values.get("priority_groups") and consent:
            PriorityConsent.create(
                worker=worker, groups=values["priority_groups"], purpose="优先派工"
            )
    return worker


def add_employer() -> Employer:
    with db.atomic():
        return Employer.create(
            kind="organisation",
            name="朝阳物业",
            credit_code="91110105MA00000001",
            contact_name="李经理",
            mobile="13912345678",
            address="团结湖路1号",
        )


def add_job(*, start: bool = True, **fields: Any) -> Job:
    """An open job row (tomorrow 08:00–17:00, cleaning, 团结湖社区); `start` starts dispatch."""
    from station_node.services.dispatch import start_dispatch

    values: dict[str, Any] = {
        "employer": add_employer(),
        "title": "小区保洁",
        "category": "property",
        "skills": ["cleaning"],
        "headcount": 2,
        "pay_fen": 2500,
        "pay_unit": "hour",
        "address": "团结湖北里3号楼",
        "community": "团结湖社区",
        "starts_at": JOB_START,
        "ends_at": JOB_END,
        "source": "walk_in",
        "dispatch_mode": "offer",
        "status": "open",
    }
    values.update(fields)
    with db.atomic():
        job = Job.create(**values)
        if start:
            start_dispatch(job)
    return Job.get_by_id(job.id)


def make_app(data_dir: str, **config: Any) -> Flask:
    """A station app on a fresh SQLite file in `data_dir`, without the web blueprints (the
    engine's tests need none, and must not break while the views change)."""
    import station_node

    real = station_node._register_views
    station_node._register_views = lambda app: None
    try:
        app = station_node.create_app({"DATA_DIR": data_dir, "TESTING": True, **config})
    finally:
        station_node._register_views = real
    clock.install(app, clock.RunningClock(T0))  # the real date never matters; clock_at_t0 holds it
    db.migrate()
    return app


@pytest.fixture
def engine_app(tmp_path) -> Iterator[Flask]:
    """The station app inside an app context with an open connection."""
    app = make_app(str(tmp_path))
    with app.app_context(), db.database.connection_context():
        yield app


@pytest.fixture
def clock_at_t0(engine_app: Flask) -> clock.ManualClock:
    """The app's clock pinned at T0 (Tuesday 09:00 at the station)."""
    manual = clock.ManualClock(T0)
    clock.install(engine_app, manual)
    return manual
