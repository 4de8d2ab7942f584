"""The hub stamps rows by its app's clock, never the machine's: a hub test pins the date."""

from __future__ import annotations

import datetime as dt
import time

from flask import Flask

from central_hub import db
from central_hub.models import Station
from kuaigong import clock

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)


def test_a_running_clock_starts_where_it_is_told_and_runs_on() -> None:
    running = clock.RunningClock(T0)
    first = running.now()
    assert T0 <= first < T0 + dt.timedelta(seconds=5)
    time.sleep(0.02)
    assert running.now() - first >= dt.timedelta(seconds=0.02)


def test_rows_are_stamped_by_the_apps_clock(sqlite_app: Flask) -> None:
    clock.install(sqlite_app, clock.ManualClock(T0))
    with sqlite_app.app_context(), db.database.connection_context():
        Station.create(
            id="sta", name="东城驿站", district="东城区", community="和平里", status="active"
        )
        assert Station.get_by_id("sta").created_at == T0
        assert clock.now_ms() == int(T0.replace(tzinfo=dt.UTC).timestamp() * 1000)
