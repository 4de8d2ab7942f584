"""The background beat: the scheduler runs the dispatch tick by itself, in its own thread."""

from __future__ import annotations

import threading
import time
from typing import Any

from dispatch_conftest import add_job, add_worker, clock_at_t0, engine_app

from station_node.models import Offer
from station_node.scheduler import run_tick, start_scheduler

__all__ = ["clock_at_t0", "engine_app"]  # fixtures used by name


def _in_thread(call: Any) -> Any:
    """Run `call` on a fresh thread, as the server does: an app context pushed and popped on
    the test's own thread would close the test's database connection on the way out."""
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(call()))
    thread.start()
    thread.join()
    return out[0]


def test_the_scheduler_expires_offers_and_cascades_without_being_asked(engine_app, clock_at_t0):
    add_worker("甲", present=True)
    add_worker("乙", present=True)
    job = add_job(headcount=1)
    clock_at_t0.advance(25)  # past the first offer's deadline
    scheduler = _in_thread(lambda: start_scheduler(engine_app, interval_seconds=0.05))
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            statuses = sorted(o.status for o in Offer.select().where(Offer.job == job.id))
            if statuses == ["expired", "pending"]:
                break
            time.sleep(0.05)
    finally:
        scheduler.shutdown(wait=True)
    assert statuses == ["expired", "pending"]


def test_a_failing_tick_is_logged_and_the_beat_goes_on(
    engine_app, clock_at_t0, monkeypatch, caplog
):
    from station_node.services import dispatch

    def broken() -> dict[str, int]:
        raise RuntimeError("disk unplugged")

    monkeypatch.setattr(dispatch, "tick", broken)
    assert _in_thread(lambda: run_tick(engine_app)) is None
    assert "dispatch tick failed" in caplog.text
    monkeypatch.undo()
    assert _in_thread(lambda: run_tick(engine_app)) == {
        "jobs": 0,
        "expired": 0,
        "offered": 0,
        "escalated": 0,
    }


def test_the_checkpoint_beat_moves_the_log_into_the_database_file(app):
    from station_node import db
    from station_node.models import StationState
    from station_node.scheduler import run_checkpoint

    path = db.database_path(app)
    db.checkpoint()
    before = path.stat().st_size
    with db.atomic():  # enough rows to need new pages; commits never copy them themselves
        StationState.insert_many(
            [{"key": f"k{i}", "value": {"text": "x" * 200}} for i in range(2000)]
        ).execute()
    assert path.stat().st_size == before
    beat = threading.Thread(target=run_checkpoint, args=(app,))  # the scheduler's own thread
    beat.start()
    beat.join()
    assert path.stat().st_size > before + 200_000


def test_the_checkpoint_beat_starts_the_log_over_so_commits_never_checkpoint(app):
    """After the beat copied everything, the WAL holds only the beat's own one-page commit: the
    next commit appends to a fresh log instead of one that grows until commits checkpoint."""
    from station_node import db
    from station_node.models import StationState

    with db.atomic():
        StationState.insert_many(
            [{"key": f"k{i}", "value": {"text": "x" * 200}} for i in range(2000)]
        ).execute()
    version = db.database.execute_sql("PRAGMA user_version").fetchone()[0]
    db.checkpoint()
    busy, frames, copied = db.database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert (busy, frames, copied) == (0, 1, 1)
    assert (
        db.database.execute_sql("PRAGMA user_version").fetchone()[0] == version
    )  # no data changed
    assert StationState.select().count() == 2000
    db.checkpoint()  # nothing new: the log is left as it is
    assert db.database.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1] == 1
