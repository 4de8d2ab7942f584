"""The station's background beat: runs the dispatch engine's `tick()` every second."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from station_node import db

log = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 5


def run_tick(app: Flask) -> dict[str, int] | None:
    """One dispatch tick inside an app context with its own database connection."""
    from station_node.services.dispatch import tick

    with app.app_context(), db.database.connection_context():
        try:
            return tick()
        except Exception:  # keep beating: one bad tick must not stop dispatch
            log.exception("dispatch tick failed")
            return None


def run_checkpoint(app: Flask) -> None:
    """Fold the write-ahead log into the database file, off the request path."""
    with app.app_context(), db.database.connection_context():
        try:
            db.checkpoint()
        except Exception:  # a busy or failed checkpoint is retried on the next beat
            log.exception("WAL checkpoint failed")


def start_scheduler(app: Flask, interval_seconds: float = 1.0) -> BackgroundScheduler:
    """Start a background scheduler that runs the dispatch tick every `interval_seconds`."""
    scheduler = BackgroundScheduler(daemon=True, timezone="UTC")
    scheduler.add_job(
        run_tick,
        "interval",
        seconds=interval_seconds,
        args=[app],
        id="dispatch-tick",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=5,
    )
    scheduler.add_job(run_checkpoint, "interval", seconds=CHECKPOINT_SECONDS, args=[app],
                      id="wal-checkpoint", max_instances=1, coalesce=True)
    from station_node.sync.jobs import add_sync_job

    add_sync_job(scheduler, app)  # only when enrolled; runs on its own thread, never blocks ticks
    scheduler.start()
    return scheduler
