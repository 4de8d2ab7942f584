"""Never over-assign: many grabs at once, from threads and over a real HTTP server."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from typing import Any

import pytest
import requests
import waitress
from dispatch_conftest import JOB_END, JOB_START, add_job, add_worker, clock_at_t0, engine_app
from flask import Flask

from kuaigong.errors import KuaigongError
from station_node import db
from station_node.models import Assignment, Job
from station_node.services import dispatch

__all__ = ["clock_at_t0", "engine_app"]  # fixtures used by name

THREADS = 30


def _no_overlaps() -> None:
    """No worker holds two live assignments whose windows overlap."""
    by_worker: dict[str, list[Assignment]] = {}
    for a in Assignment.select().where(Assignment.status.in_(("confirmed", "checked_in"))):
        by_worker.setdefault(a.worker_id, []).append(a)
    for held in by_worker.values():
        for i, a in enumerate(held):
            for b in held[i + 1 :]:
                if a.starts_at and b.starts_at:
                    assert not (a.starts_at < b.ends_at and b.starts_at < a.ends_at), (a.id, b.id)


def _run_together(calls: list[Any]) -> list[Any]:
    """Run every call in its own thread, all released at the same moment; collect outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            outcomes[i] = calls[i]()
        except Exception as exc:  # recorded and asserted on below
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_threads_grabbing_two_overlapping_jobs_never_over_assign(engine_app: Flask, clock_at_t0):
    workers = [add_worker(f"工{i}") for i in range(THREADS)]
    first = add_job(headcount=3, dispatch_mode="grab")
    second = add_job(
        headcount=3,
        dispatch_mode="grab",
        starts_at=JOB_START + dt.timedelta(hours=2),
        ends_at=JOB_END + dt.timedelta(hours=2),
    )

    def attempt(job_id: str, worker_id: str, manual: bool) -> Any:
        def call() -> str:
            with engine_app.app_context(), db.database.connection_context():
                try:
                    if manual:
                        dispatch.assign(job_id, worker_id, None)
                    else:
                        dispatch.grab(job_id, worker_id, None)
                    return "ok"
                except KuaigongError as exc:
                    return exc.code

        return call

    calls = []
    for i, w in enumerate(workers):
        calls.append(attempt(first.id, w.id, manual=i % 5 == 0))
        calls.append(attempt(second.id, w.id, manual=False))
    outcomes = _run_together(calls)
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    tally = Counter(outcomes)
    assert tally["ok"] == 6, tally
    assert set(tally) <= {"ok", "job_full", "overlapping_booking"}
    for job in (first, second):
        job = Job.get_by_id(job.id)
        assert Assignment.select().where(Assignment.job == job.id).count() == 3
        assert (job.confirmed_count, job.status) == (3, "filled")
    _no_overlaps()


@pytest.fixture
def station_server(tmp_path):
    """The whole station app (the real API) served by waitress on 127.0.0.1:0."""
    from station_node import create_app

    app = create_app(
        {"DATA_DIR": str(tmp_path), "TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    )
    db.migrate()
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=16)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.effective_port}/api/v1"
    finally:
        server.close()
        thread.join(timeout=5)


def test_grabs_through_the_station_api_fill_exactly_the_headcount(station_server):
    from station_node.services.staff import create_staff, issue_worker_token

    app, base = station_server
    with app.app_context(), db.database.connection_context():
        admin, _ = create_staff("race", "抢单测试", "admin", "password-1")
        tokens = [issue_worker_token(add_worker(f"客{i}").id, admin) for i in range(THREADS)]
        job = add_job(headcount=3, dispatch_mode="grab")

    def post(token: str) -> Any:
        return lambda: requests.post(
            f"{base}/jobs/{job.id}/grab",
            json={},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    responses = _run_together([post(t) for t in tokens])
    assert not [r for r in responses if isinstance(r, Exception)], responses
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 3, 409: THREADS - 3}, statuses
    refusals = [r.json()["error"] for r in responses if r.status_code == 409]
    assert {e["code"] for e in refusals} == {"job_full"}
    assert "已招满" in refusals[0]["message"]
    with app.app_context(), db.database.connection_context():
        assert Assignment.select().where(Assignment.job == job.id).count() == 3
        assert Job.get_by_id(job.id).confirmed_count == 3
        _no_overlaps()
