"""The apps' clock: services ask `now()`, which reads the clock installed on the current app.

The clocks are naive UTC: the system's, a hand-moved one (dispatch timelines, faster-than-real
runs) or one started at a pinned moment that then runs (tests: no test reads the real date).
Outside an app, `now()` is the system's time.
"""

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
        """The system's current UTC time without tzinfo."""
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class ManualClock:
    """A clock that moves only when told to: for dispatch timelines and faster-than-real runs."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or SystemClock().now()
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        """The time the clock was last set or moved to."""
        with self._lock:
            return self._now

    def set(self, when: dt.datetime) -> None:
        """Put the clock at `when` (forward or back)."""
        with self._lock:
            self._now = when

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
        """`start` plus the real time passed since the clock was made."""
        return self._start + dt.timedelta(seconds=time.monotonic() - self._origin)


_EXTENSION = "kuaigong_clock"
_system = SystemClock()


def install(app: Flask, clock: Clock) -> None:
    """Make `clock` the time source of every service called inside this app."""
    app.extensions[_EXTENSION] = clock


def installed(app: Flask) -> Clock | None:
    """The clock installed on `app`, if any."""
    found: Clock | None = app.extensions.get(_EXTENSION)
    return found


def now() -> dt.datetime:
    """Current naive UTC time from the app's clock (system time outside an app)."""
    if has_app_context():
        clock = current_app.extensions.get(_EXTENSION)
        if clock is not None:
            return clock.now()
    return _system.now()


def now_ms() -> int:
    """Current time as milliseconds since the Unix epoch."""
    return int(now().replace(tzinfo=dt.UTC).timestamp() * 1000)
