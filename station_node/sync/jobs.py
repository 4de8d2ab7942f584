"""The sync beat: every 30 s while the hub answers, exponential back-off with jitter while it
does not. Runs on the scheduler's own thread with its own database connection and short
transactions, so dispatch and the console never wait for the network."""

from __future__ import annotations

import logging
import random
import threading
import time
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from station_node import db
from station_node.sync import client, outbox, state
from station_node.sync.transport import HubUnreachable, SyncError

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 30 * 60.0
_EXTENSION = "kuaigong_sync_job"


class SyncBeat:
    """Decides when the next round runs; `tick` is called often and syncs when due."""

    def __init__(self, app: Flask, interval: float = INTERVAL_SECONDS,
                 max_backoff: float = MAX_BACKOFF_SECONDS, rng: random.Random | None = None) -> None:
        self.app = app
        self.interval = interval
        self.max_backoff = max_backoff
        self.failures = 0
        self.next_at = 0.0
        self.rng = rng or random.Random()
        self._running = threading.Lock()

    def delay(self) -> float:
        """Seconds until the next round: the interval, or back-off with full jitter."""
        if self.failures == 0:
            return self.interval
        ceiling = min(self.max_backoff, self.interval * 2 ** min(self.failures, 16))
        return self.interval + self.rng.uniform(0, ceiling - self.interval)

    def tick(self, now: float | None = None) -> client.Outcome | None:
        """Run a round if one is due (and none is running)."""
        now = time.monotonic() if now is None else now
        if now < self.next_at or not self._running.acquire(blocking=False):
            return None
        try:
            return self._round()
        finally:
            self.next_at = time.monotonic() + self.delay()
            self._running.release()

    def _round(self) -> client.Outcome | None:
        try:
            outcome = client.sync_once(self.app)
        except HubUnreachable as exc:
            self.failures += 1
            log.info("hub unreachable (%s); retry in about %.0f s", exc.message_en, self.delay())
            return None
        except SyncError as exc:
            self.failures += 1
            log.warning("sync stopped: %s", exc)
            return None
        except Exception:  # keep beating: one bad round must not stop sync for good
            self.failures += 1
            log.exception("sync round failed")
            return None
        self.failures = 0
        return outcome

    def now(self) -> None:
        """Run a round as soon as possible ("sync now"), in a thread of its own."""
        self.next_at = 0.0
        threading.Thread(target=self.tick, name="kuaigong-sync-now", daemon=True).start()


def beat(app: Flask) -> SyncBeat:
    """The app's sync beat (made on first use)."""
    found: SyncBeat | None = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions[_EXTENSION] = SyncBeat(app, float(app.config.get(
            "SYNC_INTERVAL_SECONDS", INTERVAL_SECONDS)))
    return found


def add_sync_job(scheduler: BaseScheduler, app: Flask) -> bool:
    """Add the sync beat to `scheduler` when the station is enrolled; returns whether it was."""
    with app.app_context():
        if state.enrolment() is None:
            return False
    scheduler.add_job(beat(app).tick, "interval", seconds=2, id="sync-beat", max_instances=1,
                      coalesce=True, misfire_grace_time=10)
    return True


def check_on_start(app: Flask) -> dict[str, Any]:
    """On start: is the log behind the hub's receipt, or altered? Recorded in the status."""
    with app.app_context(), db.database.connection_context():
        enr = state.enrolment()
        if enr is None:
            return {"enrolled": False}
        h = outbox.head()
        receipt = state.acked().receipt
        check = client.sp.check_restore(h.epoch, h.seq, h.hash, receipt)
        result: dict[str, Any] = {"enrolled": True, "may_append": check.may_append,
                                  "reason": check.reason, "head_seq": h.seq,
                                  "receipt_seq": receipt.seq if receipt else 0}
        try:
            outbox.verify_all(enr.station_id)
        except SyncError as exc:
            result["altered"] = exc.details.get("seq")
            state.update_status(last_error={"code": exc.code, "zh": exc.message_zh, "en": exc.message_en})
        state.update_status(blocked=None if check.may_append else check.reason,
                            pending=client.pending_count())
        return result
