"""Hybrid logical clock (Kulkarni et al., 2014): wall milliseconds + a counter, node id last.

`send` stamps a local event, `receive` folds in a peer's stamp. A peer stamp further ahead of
our wall clock than `max_drift_ms` is refused, so one node with a clock a year ahead cannot drag
everyone's clock (and every last-writer-wins conflict) along with it. A node whose wall clock
fell back (to 1970, say) keeps its last stamp and only counts up.
"""

from __future__ import annotations

from typing import NamedTuple

from sync_protocol.errors import LocalProtocolError, Reason, RemoteProtocolError

DEFAULT_MAX_DRIFT_MS = 15 * 60 * 1000  # 15 minutes
COUNTER_MAX = 2**31 - 1


class Hlc(NamedTuple):
    """One HLC reading; tuples order by (wall, counter)."""

    wall: int
    counter: int = 0

    def to_json(self) -> list[int]:
        """The wire form: ``[wall_ms, counter]``."""
        return [self.wall, self.counter]


ZERO = Hlc(0, 0)


def stamp_key(hlc: Hlc, node: str) -> tuple[int, int, str]:
    """Total order of events across nodes: HLC first, the node id breaks what is left."""
    return (hlc.wall, hlc.counter, node)


def compare(a: Hlc, a_node: str, b: Hlc, b_node: str) -> int:
    """-1, 0 or 1 as (a, a_node) sorts before, equal to or after (b, b_node)."""
    ka, kb = stamp_key(a, a_node), stamp_key(b, b_node)
    return (ka > kb) - (ka < kb)


class HybridClock:
    """One node's clock; the caller passes the wall time in (no I/O here)."""

    def __init__(
        self, node: str, last: Hlc = ZERO, max_drift_ms: int = DEFAULT_MAX_DRIFT_MS
    ) -> None:
        self.node = node
        self.last = Hlc(*last)
        self.max_drift_ms = max_drift_ms

    def send(self, wall_ms: int) -> Hlc:
        """Stamp a local event (an append, a batch, a receipt)."""
        last = self.last
        if wall_ms > last.wall:
            self.last = Hlc(wall_ms, 0)
        else:
            if last.counter >= COUNTER_MAX:
                raise LocalProtocolError(Reason.CLOCK_DRIFT, "HLC counter overflow")
            self.last = Hlc(last.wall, last.counter + 1)
        return self.last

    def receive(self, remote: Hlc, wall_ms: int, *, trusted: bool = False) -> Hlc:
        """Fold in a peer's stamp; RemoteProtocolError(CLOCK_DRIFT) when it is too far ahead.

        `trusted` skips the drift check: a station takes the hub's time from verified receipts
        even when its own wall clock is far off (that is how a clock reset to 1970 is caught up).
        """
        if not trusted:
            check_drift(remote, wall_ms, self.max_drift_ms)
        last = self.last
        wall = max(last.wall, remote.wall, wall_ms)
        if wall == last.wall and wall == remote.wall:
            counter = _next(max(last.counter, remote.counter))
        elif wall == last.wall:
            counter = _next(last.counter)
        elif wall == remote.wall:
            counter = _next(remote.counter)
        else:
            counter = 0
        self.last = Hlc(wall, counter)
        return self.last


def check_drift(remote: Hlc, wall_ms: int, max_drift_ms: int) -> None:
    """Refuse a stamp more than `max_drift_ms` ahead of the receiver's wall clock."""
    if remote.wall > wall_ms + max_drift_ms:
        raise RemoteProtocolError(
            Reason.CLOCK_DRIFT,
            f"stamp {remote.wall} is {remote.wall - wall_ms} ms ahead (limit {max_drift_ms} ms)",
        )


def _next(counter: int) -> int:
    if counter >= COUNTER_MAX:
        raise RemoteProtocolError(Reason.CLOCK_DRIFT, "HLC counter overflow")
    return counter + 1
