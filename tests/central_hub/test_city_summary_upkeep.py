"""Changes the hub makes itself (an admin's decided value, a booking conflict's cancellations)
keep the city figures' summary current, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Flask

from central_hub import db
from central_hub.models import Assignment, Job, Station, Worker
from central_hub.services import citystats, merge

NOW = dt.datetime(2026, 4, 1, 4, 0, 0)
MARCH = dt.datetime(2026, 3, 10, 2, 0, 0)


def _seed() -> None:
    Station.create(id="sta", name="东城驿站", district="东城区", community="和平里")
    Worker.create(id="w1", station="sta", id_hash="1" * 64, created_at=MARCH)
    Job.create(
        id="j1",
        station="sta",
        category="property",
        status="filled",
        headcount=1,
        confirmed_count=1,
        posted_at=MARCH,
        dispatch_started_at=MARCH,
        filled_at=MARCH + dt.timedelta(seconds=30),
        fill_seconds=30,
    )
    Assignment.create(
        id="a1", station="sta", job_id="j1", worker_id="w1", status="confirmed", confirmed_at=MARCH
    )


def _both() -> tuple[dict[str, Any], dict[str, Any]]:
    cfg = citystats.settings(NOW)
    summary, counted = {}, {}
    for g in citystats.GROUPINGS:
        summary[g] = {k: f.as_dict() for k, f in citystats.summary_figures(g, NOW, cfg).items()}
        counted[g] = {k: f.as_dict() for k, f in citystats.figures_by(g, now=NOW).items()}
    return summary, counted


def test_decided_values_and_cancelled_bookings_keep_the_summary(app: Flask) -> None:
    with app.test_request_context(), db.database.connection_context():
        _seed()
        summary, counted = _both()  # the first view counts the station
        assert summary == counted and summary["sector"]["property"]["placements"] == 1

        with db.atomic():
            merge.store_decided_value("job", "j1", "category", "moving", [1, 0, "hub"])
            merge.store_decided_value("worker", "w1", "priority_groups", ["veteran"], [1, 0, "hub"])
        summary, counted = _both()
        assert summary == counted
        assert set(summary["sector"]) == {"moving"}
        assert summary["city"]["city"]["placements_by_group"]["veteran"] == 1

        with db.atomic():
            Assignment.update(status="cancelled").where(Assignment.id == "a1").execute()
            merge.refresh_figures("assignment", ["a1"])
        summary, counted = _both()
        assert summary == counted and summary["city"]["city"]["placements"] == 0
