"""Unsigned requests a station sends: "hello" (what I have) and "pull" (send me your log).

    kg1/hello {"epoch":1,"hub_seq":42,"seq":500,"station":"st-a"}
    kg1/pull {"after":42,"limit":500,"station":"st-a"}

They carry no authority (the transport authenticates the station); the hub answers a hello
with a signed receipt and a pull with a batch of its own signed log.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from sync_protocol import canonical
from sync_protocol.entries import MAX_EPOCH, MAX_SEQ, is_name
from sync_protocol.errors import Reason, RemoteProtocolError


class Hello(NamedTuple):
    """A station's head (epoch, seq) and how far it has read the hub's log."""

    station: str
    epoch: int
    seq: int
    hub_seq: int


class Pull(NamedTuple):
    """Ask for up to `limit` hub-log entries after hub seq `after`."""

    station: str
    after: int
    limit: int


def encode_hello(hello: Hello) -> bytes:
    """Canonical hello bytes."""
    return canonical.encode("hello", hello._asdict())


def encode_pull(pull: Pull) -> bytes:
    """Canonical pull bytes."""
    return canonical.encode("pull", pull._asdict())


def parse_hello(data: bytes) -> Hello:
    """The Hello in `data`; RemoteProtocolError(MALFORMED) otherwise."""
    obj = canonical.decode("hello", data)
    _shape(
        obj,
        ("epoch", "hub_seq", "seq", "station"),
        epoch=(1, MAX_EPOCH),
        seq=(0, MAX_SEQ),
        hub_seq=(0, MAX_SEQ),
    )
    return Hello(obj["station"], obj["epoch"], obj["seq"], obj["hub_seq"])


def parse_pull(data: bytes) -> Pull:
    """The Pull in `data`; RemoteProtocolError(MALFORMED) otherwise."""
    obj = canonical.decode("pull", data)
    _shape(obj, ("after", "limit", "station"), after=(0, MAX_SEQ), limit=(1, 100_000))
    return Pull(obj["station"], obj["after"], obj["limit"])


def _shape(obj: dict[str, Any], keys: tuple[str, ...], **ranges: tuple[int, int]) -> None:
    if tuple(obj) != keys:
        raise RemoteProtocolError(Reason.MALFORMED, f"expected exactly the keys {', '.join(keys)}")
    if not is_name(obj["station"]):
        raise RemoteProtocolError(
            Reason.MALFORMED, "station must be 1-64 printable ASCII characters"
        )
    for name, (low, high) in ranges.items():
        if type(obj[name]) is not int or not low <= obj[name] <= high:
            raise RemoteProtocolError(
                Reason.MALFORMED, f"{name} must be an integer in {low}..{high}"
            )
