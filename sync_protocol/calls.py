"""Signed calls: a station's HTTP request to the hub, authenticated before its body is read.

Bytes (one signed message, sent hex-encoded in one header, ``X-Kuaigong-Call``)::

    kg1/call {"body":"<sha256 hex of the body as sent>","bytes":N,"key":"<32 hex>","method":"POST",
              "nonce":"<32 hex>","path":"/stations/st-a/push","station":"st-a","time":<ms>}
    kg1/sig <128 hex>

The signature (the station's Ed25519 key, as for checkpoints) binds the method, the path below
the API root, the station, a time within the receiver's window, a one-time nonce and the
declared length and SHA-256 of the body exactly as it travels (after any Content-Encoding). The
receiver checks the header first (`check_call`), refuses a nonce it has seen, and only then
reads at most `bytes` bytes of the body and compares its digest (`body_matches`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from typing import NamedTuple

from sync_protocol.entries import MAX_SEQ, is_name
from sync_protocol.errors import Reason, RemoteProtocolError
from sync_protocol.keys import KeyRing, Position, SigningKey
from sync_protocol.signed import Signed, check_signed, parse_signed, sign

CALL_HEADER = "X-Kuaigong-Call"
MAX_CALL_HEADER = 2048  # hex characters: a call is about 350 bytes
METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})
_KEYS = ("body", "bytes", "key", "method", "nonce", "path", "station", "time")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_NONCE = re.compile(r"[0-9a-f]{32}")
_PATH = re.compile(r"/[A-Za-z0-9._~/%-]{1,255}")


class Call(NamedTuple):
    """A station's signed request line: what it asks, when, and which body it sends."""

    station: str
    method: str
    path: str
    time: int  # ms since the Unix epoch, on the receiver's clock as the sender knows it
    nonce: str
    body_sha256: str
    body_bytes: int
    key: str


class SignedCall(NamedTuple):
    """A call with the exact bytes that were signed."""

    call: Call
    signed: Signed


def body_digest(body: bytes) -> str:
    """SHA-256 hex of a body exactly as it travels."""
    return hashlib.sha256(bytes(body)).hexdigest()


def sign_call(
    station: str, method: str, path: str, body: bytes, time_ms: int, nonce: str, key: SigningKey
) -> str:
    """The header value (hex of the signed call) for sending `body` to `method` `path`."""
    obj = {
        "body": body_digest(body),
        "bytes": len(body),
        "method": method,
        "nonce": nonce,
        "path": path,
        "station": station,
        "time": time_ms,
    }
    return sign("call", obj, key).hex()


def parse_call(header: str) -> SignedCall:
    """Decode a call header (form only); RemoteProtocolError(MALFORMED) when it is not one."""
    if type(header) is not str or not 0 < len(header) <= MAX_CALL_HEADER:
        raise RemoteProtocolError(Reason.MALFORMED, "call: missing or too long")
    try:
        data = bytes.fromhex(header)
    except ValueError:
        raise RemoteProtocolError(Reason.MALFORMED, "call: not hex") from None
    signed = parse_signed("call", data)
    obj = signed.obj
    if tuple(obj) != _KEYS:
        raise RemoteProtocolError(Reason.MALFORMED, f"call keys must be {', '.join(_KEYS)}")
    ok = (
        type(obj["body"]) is str
        and _HEX64.fullmatch(obj["body"])
        and type(obj["bytes"]) is int
        and 0 <= obj["bytes"] <= MAX_SEQ
        and obj["method"] in METHODS
        and type(obj["nonce"]) is str
        and _NONCE.fullmatch(obj["nonce"])
        and type(obj["path"]) is str
        and _PATH.fullmatch(obj["path"])
        and ".." not in obj["path"]
        and is_name(obj["station"])
        and type(obj["time"]) is int
        and 0 <= obj["time"] <= MAX_SEQ
    )
    if not ok:
        raise RemoteProtocolError(Reason.MALFORMED, "call: a field has the wrong type or range")
    call = Call(
        obj["station"],
        obj["method"],
        obj["path"],
        obj["time"],
        obj["nonce"],
        obj["body"],
        obj["bytes"],
        obj["key"],
    )
    return SignedCall(call, signed)


def check_call(
    signed: SignedCall,
    keys: KeyRing,
    *,
    station: str,
    method: str,
    path: str,
    now_ms: int,
    window_ms: int,
    position: Position,
) -> tuple[Reason, str] | None:
    """Why this call is not `station`'s request for `method` `path` now, or None.

    Checks the station and request line, the time window and the signature by a key of the
    station valid at `position`. The caller still refuses a nonce it has seen and, after
    reading the body, checks it with `body_matches`.
    """
    call = signed.call
    if call.station != station:
        return Reason.WRONG_STATION, f"call is signed for {call.station!r}, not {station!r}"
    if (call.method, call.path) != (method, path):
        return Reason.NOT_ALLOWED, f"call is for {call.method} {call.path}, not {method} {path}"
    if abs(call.time - now_ms) > window_ms:
        return (
            Reason.CLOCK_DRIFT,
            f"call time is {call.time - now_ms} ms off (window {window_ms} ms)",
        )
    refusal = check_signed(signed.signed, keys, station, position)
    if refusal is not None:
        return refusal, f"call signed by key {call.key}"
    return None


def body_matches(call: Call, body: bytes) -> bool:
    """True when `body` is exactly the body the call declared (length and SHA-256)."""
    return len(body) == call.body_bytes and hmac.compare_digest(body_digest(body), call.body_sha256)
