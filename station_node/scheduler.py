"""The station's background beat: runs the dispatch engine's `tick()` every second."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from station_node import db
from station_node.services import dispatch
from station_node.sync.jobs import add_sync_job

log = logging.getLogger(__name__)
CHECKPOINT_SECONDS = 5


def run_tick(app: Flask) -> dict[str, int] | None:
    """One dispatch tick inside an app context with its own database connection."""

    with app.app_context(), db.database.connection_context():
        try:
            return dispatch.tick()
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


class Beat:
    """Calls `job` every `interval_seconds` on its own thread, timed by the monotonic clock, so a
    station PC whose wall clock is set back (a flat RTC battery, a staff correction) never stalls
    dispatch; APScheduler's interval triggers wait for the wall clock."""

    def __init__(self, job: Callable[[], object], interval_seconds: float) -> None:
        self._job, self._interval = job, interval_seconds
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dispatch-beat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        due = time.monotonic()
        while not self._stopped.is_set():
            self._job()
            due = max(due + self._interval, time.monotonic())  # coalesce missed beats
            self._stopped.wait(max(0.0, due - time.monotonic()))

    def stop(self, wait: bool = True) -> None:
        self._stopped.set()
        if wait and self._thread is not threading.current_thread():
            self._thread.join()


class StationScheduler:
    """The dispatch beat plus APScheduler's slower jobs (WAL checkpoint, sync); one shutdown."""

    def __init__(self, beat: Beat, jobs: BackgroundScheduler) -> None:
        self.beat, self.jobs = beat, jobs

    def shutdown(self, wait: bool = True) -> None:
        self.beat.stop(wait)
        self.jobs.shutdown(wait=wait)


def start_scheduler(app: Flask, interval_seconds: float = 1.0) -> StationScheduler:
    """Start the dispatch tick every `interval_seconds`, and the checkpoint and sync jobs."""
    jobs = BackgroundScheduler(daemon=True, timezone="UTC")
    jobs.add_job(
        run_checkpoint,
        "interval",
        seconds=CHECKPOINT_SECONDS,
        args=[app],
        id="wal-checkpoint",
        max_instances=1,
        coalesce=True,
    )
    add_sync_job(jobs, app)  # only when enrolled; runs on its own thread, never blocks ticks
    jobs.start()
    beat = Beat(lambda: run_tick(app), interval_seconds)
    beat.start()
    return StationScheduler(beat, jobs)
