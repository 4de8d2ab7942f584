"""Bundle files: signed batches and replies packed into one file for a USB stick.

Each ``kg1/`` record is one line (the first is shown wrapped here)::

    kg1/bundle {"direction":"to_hub","epoch":1,"first":1,"hub":"hub","last":500,
                "parts":2,"station":"st-a"}\n
    kg1/part {"bytes":N,"kind":"batch","sha256":"<64 hex>"}\n
    <N bytes: the part exactly as it would travel over HTTP>
    ...
    kg1/end {"sha256":"<64 hex of every byte before this line>"}\n

A bundle that does not end in a valid end line is TRUNCATED; one whose bytes do not match the
end digest is ALTERED. The parts are verified again by the receiver like any message, so
importing a bundle twice only yields Replay verdicts.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from typing import NamedTuple

from sync_protocol import canonical
from sync_protocol.entries import MAX_EPOCH, MAX_SEQ, is_name
from sync_protocol.errors import BundleError, LocalProtocolError, Reason, RemoteProtocolError

KINDS = frozenset({"batch", "hub_batch", "receipt", "reset", "reject", "hello"})
DIRECTIONS = frozenset({"to_hub", "to_station"})
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
_HEX64 = re.compile(r"[0-9a-f]{64}")
_END_TAG = canonical.tag("end")


class BundleHeader(NamedTuple):
    """Who the bundle is from and for, and the seq range its batches cover."""

    station: str
    hub: str
    direction: str  # to_hub: the station's batches; to_station: receipts and hub-log batches
    epoch: int
    first: int
    last: int
    parts: int


class BundlePart(NamedTuple):
    """One message inside a bundle."""

    kind: str
    data: bytes


class Bundle(NamedTuple):
    """A read bundle."""

    header: BundleHeader
    parts: tuple[BundlePart, ...]


def write_bundle(
    *,
    station: str,
    hub: str,
    direction: str,
    epoch: int,
    first: int,
    last: int,
    parts: Sequence[tuple[str, bytes]],
) -> bytes:
    """The bundle file bytes for `parts` ((kind, message bytes) pairs, in sending order)."""
    if direction not in DIRECTIONS or any(kind not in KINDS for kind, _ in parts):
        raise LocalProtocolError(Reason.MALFORMED, "bundle: unknown direction or part kind")
    out = [
        canonical.encode(
            "bundle",
            {
                "direction": direction,
                "epoch": epoch,
                "first": first,
                "hub": hub,
                "last": last,
                "parts": len(parts),
                "station": station,
            },
        )
        + b"\n"
    ]
    for kind, data in parts:
        data = bytes(data)
        head = {"bytes": len(data), "kind": kind, "sha256": hashlib.sha256(data).hexdigest()}
        out.append(canonical.encode("part", head) + b"\n")
        out.append(data)
    body = b"".join(out)
    return body + canonical.encode("end", {"sha256": hashlib.sha256(body).hexdigest()}) + b"\n"


def read_bundle(data: bytes, max_bytes: int = MAX_BUNDLE_BYTES) -> Bundle:
    """Parse and check a bundle file; BundleError (truncated, altered, malformed, oversized)."""
    data = bytes(data)
    if len(data) > max_bytes:
        raise BundleError(Reason.OVERSIZED, f"bundle of {len(data)} bytes (limit {max_bytes})")
    end_at = data.rfind(b"\n", 0, len(data) - 1) + 1
    end_line = data[end_at:]
    if not data.endswith(b"\n") or not end_line.startswith(_END_TAG):
        raise BundleError(Reason.TRUNCATED, "bundle has no end line: it was cut short")
    try:
        end = canonical.decode("end", end_line[:-1])
    except RemoteProtocolError:
        raise BundleError(Reason.ALTERED, "bundle end line is damaged") from None
    if tuple(end) != ("sha256",) or end["sha256"] != hashlib.sha256(data[:end_at]).hexdigest():
        raise BundleError(Reason.ALTERED, "bundle bytes do not match its digest")
    try:
        return _parse(data[:end_at])
    except RemoteProtocolError as exc:
        raise BundleError(Reason.MALFORMED, f"bundle: {exc.detail}") from None


def _line(data: bytes, pos: int) -> tuple[bytes, int]:
    nl = data.find(b"\n", pos)
    if nl < 0:
        raise RemoteProtocolError(Reason.MALFORMED, "missing line end")
    return data[pos:nl], nl + 1


def _parse(body: bytes) -> Bundle:
    line, pos = _line(body, 0)
    h = canonical.decode("bundle", line)
    keys = ("direction", "epoch", "first", "hub", "last", "parts", "station")
    ints_ok = all(
        type(h.get(k)) is int and 0 <= h[k] <= MAX_SEQ for k in ("first", "last", "parts")
    )
    if (
        tuple(h) != keys
        or not ints_ok
        or h["direction"] not in DIRECTIONS
        or type(h["epoch"]) is not int
        or not 1 <= h["epoch"] <= MAX_EPOCH
        or not all(is_name(h[k]) for k in ("hub", "station"))
    ):
        raise RemoteProtocolError(Reason.MALFORMED, "bad header")
    header = BundleHeader(
        h["station"], h["hub"], h["direction"], h["epoch"], h["first"], h["last"], h["parts"]
    )
    parts = []
    for _ in range(header.parts):
        line, pos = _line(body, pos)
        p = canonical.decode("part", line)
        if (
            tuple(p) != ("bytes", "kind", "sha256")
            or type(p["bytes"]) is not int
            or p["bytes"] < 0
            or p["kind"] not in KINDS
            or type(p["sha256"]) is not str
            or not _HEX64.fullmatch(p["sha256"])
        ):
            raise RemoteProtocolError(Reason.MALFORMED, "bad part header")
        chunk = body[pos : pos + p["bytes"]]
        if len(chunk) != p["bytes"] or hashlib.sha256(chunk).hexdigest() != p["sha256"]:
            raise RemoteProtocolError(Reason.MALFORMED, "part does not match its header")
        parts.append(BundlePart(p["kind"], chunk))
        pos += p["bytes"]
    if pos != len(body):
        raise RemoteProtocolError(Reason.MALFORMED, "bytes after the last part")
    return Bundle(header, tuple(parts))
