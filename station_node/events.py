"""Live events inside the station process: what changed, pushed to the open pages at once.

A service publishes `(topic, kind, data)` after its transaction commits (a publish made inside a
transaction waits for the commit, and is dropped if the transaction rolls back: see
`db.on_commit`). Open pages subscribe over Server-Sent Events (`views/events.py`) to topics:

- `board`: public; jobs posted, changed, filled, cancelled (no names, no phone numbers);
- `worker:<id>`: one worker's offers and bookings (their phone page or the kiosk);
- `staff`: everything the console watches;
- `screen:<device id>`: one paired screen.

Events live in a ring buffer so a client that reconnects with the last id it saw gets what it
missed; one older than the buffer (or from before a restart) is told to reload instead. Ids
start from the wall clock in microseconds at start-up, so they keep increasing across restarts
and an id from an earlier run never names a new event.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from station_node import db

BUFFER = 4096  # events kept for resuming; minutes of a busy station
CONNECTED_GRACE_SECONDS = 10.0  # a stream reconnecting (every ~25 s) still counts as connected

BOARD = "board"
STAFF = "staff"


def worker_topic(worker_id: str) -> str:
    return f"worker:{worker_id}"


def screen_topic(device_id: str) -> str:
    return f"screen:{device_id}"


class Event(NamedTuple):
    id: int
    topic: str
    kind: str
    data: Mapping[str, Any]


_lock = threading.Condition()
_buffer: collections.deque[Event] = collections.deque(maxlen=BUFFER)
_next_id = [time.time_ns() // 1000]
_streams: dict[int, frozenset[str]] = {}  # live subscription → its topics
_left: dict[str, float] = {}  # worker id → monotonic time their last stream closed


def publish(topic: str, kind: str, data: Mapping[str, Any]) -> None:
    """Send an event to `topic`'s subscribers: now, or when the open transaction commits."""
    if db.database.obj is not None and db.database.in_transaction():
        db.on_commit(lambda: _append(topic, kind, data))
    else:
        _append(topic, kind, data)


def _append(topic: str, kind: str, data: Mapping[str, Any]) -> None:
    with _lock:
        event = Event(_next_id[0], topic, kind, dict(data))
        _next_id[0] += 1
        _buffer.append(event)
        _lock.notify_all()


def last_id() -> int:
    """The id of the newest event (or the one before the first, if none yet)."""
    with _lock:
        return _next_id[0] - 1


class Subscription:
    """One client's view of the bus: the events on its topics after a cursor, in order.

    `reload` is True when the client's last id is gone from the buffer (or unknown): it missed
    events and should fetch the page afresh. Close it when the stream ends (`with` does).
    """

    def __init__(self, topics: Iterable[str], last_event_id: int | None) -> None:
        self.topics = frozenset(topics)
        self.reload = False
        with _lock:
            newest = _next_id[0] - 1
            oldest = _buffer[0].id if _buffer else newest + 1
            if last_event_id is None:
                self.cursor = newest
            elif last_event_id > newest or last_event_id < oldest - 1:
                self.reload, self.cursor = True, newest
            else:
                self.cursor = last_event_id
            _streams[id(self)] = self.topics

    def wait(self, timeout: float) -> list[Event]:
        """The events on this subscription's topics after the cursor; waits up to `timeout`
        seconds for the first one (an empty list means none came)."""
        deadline = time.monotonic() + timeout
        with _lock:
            while True:
                found = self._after_cursor()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0 or self.reload:
                    return []
                _lock.wait(left)

    def _after_cursor(self) -> list[Event]:
        # Ids in the buffer are consecutive: the cursor's position is arithmetic.
        if not _buffer:
            return []
        start = self.cursor + 1 - _buffer[0].id
        if start < 0:
            self.reload, start = True, 0  # fell behind by more than the buffer while waiting
        if start >= len(_buffer):
            return []
        fresh = [_buffer[i] for i in range(start, len(_buffer))]
        self.cursor = fresh[-1].id
        return [e for e in fresh if e.topic in self.topics]

    def close(self) -> None:
        with _lock:
            if _streams.pop(id(self), None) is not None:
                now = time.monotonic()
                for topic in self.topics:
                    if topic.startswith("worker:"):
                        _left[topic[7:]] = now

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def subscribe(topics: Iterable[str], last_event_id: int | None = None) -> Subscription:
    """Follow `topics` from just after `last_event_id` (from now when None)."""
    return Subscription(topics, last_event_id)


def connected_workers() -> set[str]:
    """Workers with a live phone-page or kiosk stream (or one that closed moments ago and is
    reconnecting): an offer to them is seen on screen, so it need not go by SMS."""
    now = time.monotonic()
    with _lock:
        found = {t[7:] for topics in _streams.values() for t in topics if t.startswith("worker:")}
        for worker_id, at in list(_left.items()):
            if now - at <= CONNECTED_GRACE_SECONDS:
                found.add(worker_id)
            else:
                del _left[worker_id]
    return found


def open_streams() -> int:
    """How many subscriptions are open now (each an open page, holding a server thread)."""
    with _lock:
        return len(_streams)


def reset() -> None:
    """Forget every event and stream (tests, and a station reloading its data)."""
    with _lock:
        _buffer.clear()
        _streams.clear()
        _left.clear()
        _next_id[0] = max(_next_id[0], time.time_ns() // 1000)
