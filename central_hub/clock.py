"""The hub's clock. Services ask `now()`; tests install a ManualClock on the app."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol

from flask import Flask, current_app, has_app_context


class Clock(Protocol):
    """Anything that tells the time: naive UTC."""

    def now(self) -> dt.datetime: ...


class SystemClock:
    """Wall-clock UTC time (naive, as stored)."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or SystemClock().now()
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> dt.datetime:
        """Move the clock forward and return the new time."""
        with self._lock:
            self._now += dt.timedelta(seconds=seconds)
            return self._now


class RunningClock:
    """Time that starts at `start` and runs at real speed: a pinned date whose seconds pass."""

    def __init__(self, start: dt.datetime) -> None:
        self._start = start
        self._origin = time.monotonic()

    def now(self) -> dt.datetime:
        return self._start + dt.timedelta(seconds=time.monotonic() - self._origin)


_system = SystemClock()


def install(app: Flask, clock: Clock) -> None:
    """Make `clock` the time source of every service called inside this app."""
    app.extensions["kuaigong_hub_clock"] = clock


def now() -> dt.datetime:
    """Current naive UTC time from the app's clock (system time outside an app)."""
    if has_app_context():
        clock = current_app.extensions.get("kuaigong_hub_clock")
        if clock is not None:
            return clock.now()
    return _system.now()


def now_ms() -> int:
    """Current time as milliseconds since the Unix epoch."""
    return int(now().replace(tzinfo=dt.UTC).timestamp() * 1000)
