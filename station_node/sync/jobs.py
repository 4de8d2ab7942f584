"""The sync beat: every 30 s while the hub answers, back-off with jitter while it does not.

The back-off is capped at 90 s, so however long and often the hub was down, a station is never
more than 90 s from its next try; while the hub cannot be reached the beat also probes its
health endpoint (one small GET) every 10 s and runs a full round as soon as the hub answers. A
station is back in sync within seconds of the hub's return, never 30 minutes later. Runs on the
scheduler's own thread with its own database connection and short transactions, so dispatch and
the console never wait for the network."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from station_node import db
from station_node import station_state as state
from station_node.sync import client, outbox
from station_node.sync.transport import HubClient, HubUnreachable, SyncError

log = logging.getLogger(__name__)

INTERVAL_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 90.0
PROBE_SECONDS = 10.0
_EXTENSION = "kuaigong_sync_job"


class SyncBeat:
    """Decides when the next round runs; `tick` is called often and syncs when due."""

    def __init__(
        self,
        app: Flask,
        interval: float = INTERVAL_SECONDS,
        max_backoff: float = MAX_BACKOFF_SECONDS,
        rng: random.Random | None = None,
        probe_every: float = PROBE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.interval = interval
        self.max_backoff = max(max_backoff, interval)
        self.probe_every = probe_every
        self.failures = 0
        self.unreachable = False  # the last round found no hub: probe it between rounds
        self.next_at = 0.0
        self.next_probe_at = 0.0
        self.rounds = self.probes = 0
        self.rng = rng or random.Random()
        self._monotonic = monotonic
        self._running = threading.Lock()

    def delay(self) -> float:
        """Seconds until the next round: the interval, or back-off with full jitter."""
        if self.failures == 0:
            return self.interval
        ceiling = min(self.max_backoff, self.interval * 2 ** min(self.failures, 16))
        return self.interval + self.rng.uniform(0, ceiling - self.interval)

    def tick(self, now: float | None = None) -> client.Outcome | None:
        """Run a round if one is due, or if the hub answers a probe again (and none is running)."""
        given = now is not None
        now = self._monotonic() if now is None else now
        if not self._running.acquire(blocking=False):
            return None
        try:
            if now < self.next_at and not self._hub_is_back(now):
                return None
            outcome = self._round()
            self.next_at = (now if given else self._monotonic()) + self.delay()
            self.next_probe_at = (now if given else self._monotonic()) + self.probe_every
            return outcome
        finally:
            self._running.release()

    def _hub_is_back(self, now: float) -> bool:
        """While the hub is unreachable: probe it when a probe is due; True when it answers."""
        if not self.unreachable or now < self.next_probe_at:
            return False
        self.next_probe_at = now + self.probe_every
        self.probes += 1
        return probe(self.app)

    def _round(self) -> client.Outcome | None:
        self.rounds += 1
        self.unreachable = False
        try:
            outcome = client.sync_once(self.app)
        except HubUnreachable as exc:
            self.failures += 1
            self.unreachable = True
            log.info("hub unreachable (%s); retry in about %.0f s", exc.message_en, self.delay())
            return None
        except SyncError as exc:  # the hub answered and refused: no probing, plain back-off
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


def probe(app: Flask) -> bool:
    """True when the enrolled hub answers its health endpoint (any answer: it is there)."""
    with app.app_context(), db.database.connection_context():
        enr = state.enrolment()
    if enr is None:
        return False
    try:
        HubClient(enr.hub_url).health()
    except HubUnreachable:
        return False
    except SyncError:
        return True
    return True


def beat(app: Flask) -> SyncBeat:
    """The app's sync beat (made on first use)."""
    found: SyncBeat | None = app.extensions.get(_EXTENSION)
    if found is None:
        found = app.extensions[_EXTENSION] = SyncBeat(
            app,
            float(app.config.get("SYNC_INTERVAL_SECONDS", INTERVAL_SECONDS)),
            float(app.config.get("SYNC_MAX_BACKOFF_SECONDS", MAX_BACKOFF_SECONDS)),
            probe_every=float(app.config.get("SYNC_PROBE_SECONDS", PROBE_SECONDS)),
        )
    return found


def add_sync_job(scheduler: BaseScheduler, app: Flask) -> bool:
    """Add the sync beat to `scheduler` when the station is enrolled; returns whether it was."""
    with app.app_context():
        if state.enrolment() is None:
            return False
    scheduler.add_job(
        beat(app).tick,
        "interval",
        seconds=2,
        id="sync-beat",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=10,
    )
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
        result: dict[str, Any] = {
            "enrolled": True,
            "may_append": check.may_append,
            "reason": check.reason,
            "head_seq": h.seq,
            "receipt_seq": receipt.seq if receipt else 0,
        }
        try:
            outbox.verify_all(enr.station_id)
        except SyncError as exc:
            result["altered"] = exc.details.get("seq")
            state.update_status(
                last_error={"code": exc.code, "zh": exc.message_zh, "en": exc.message_en}
            )
        state.update_status(
            blocked=None if check.may_append else check.reason, pending=client.pending_count()
        )
        return result
