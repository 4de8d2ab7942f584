"""Clocks both apps use: naive UTC time from the system, a hand-moved clock or a pinned start.

Each app keeps its own `now()` and `install()` (station_node/clock.py, central_hub/clock.py),
which read the clock installed on that app.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol


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
