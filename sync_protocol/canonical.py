"""Canonical bytes: a domain tag, then sorted-key, compact, UTF-8 JSON holding no floats.

One value has exactly one byte form: `tag + json` where tag is ``kg1/<kind> `` (protocol
version 1). Decoding accepts only that form, so a receiver can hash and verify the bytes it got
and still know every other party would have produced the same bytes.
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any

from sync_protocol.errors import LocalProtocolError, Reason, RemoteProtocolError

VERSION = 1
INT_MIN = -(2**63)
INT_MAX = 2**63 - 1

ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _no_float(text: str) -> Any:
    raise ValueError(f"floats are not allowed: {text}")


def _bounded_int(text: str, _int: type[int] = int) -> int:
    value = _int(text)
    if len(text) > 18 and not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"integer outside 64 bits: {text[:24]}...")
    return value


DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float, parse_int=_bounded_int)
# For callers that check integer ranges themselves (the entry hot path): no per-integer hook.
FAST_DECODER = json.JSONDecoder(parse_float=_no_float, parse_constant=_no_float)


def check_scalars(obj: dict[str, Any], path: str) -> None:
    """`_check` for an object of mostly scalars: scalars inline, containers walked."""
    for name, value in obj.items():
        kind = type(value)
        if type(name) is not str or (
            kind is not str
            and kind is not bool
            and value is not None
            and not (kind is int and INT_MIN <= value <= INT_MAX)
        ):
            _check({name: value}, path)


def tag(kind: str) -> bytes:
    """The domain tag that starts every `kind` message: ``kg1/<kind> ``."""
    return f"kg{VERSION}/{kind} ".encode()


def _check(value: Any, path: str) -> None:
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return
    if kind is int:
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError(f"{path}: integer outside 64 bits")
        return
    if kind is list:
        for i, item in enumerate(value):
            _check(item, f"{path}[{i}]")
        return
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise ValueError(f"{path}: object keys must be strings")
            _check(item, f"{path}.{key}")
        return
    raise ValueError(
        f"{path}: {kind.__name__} is not allowed (integers, strings, bools, null, lists, objects)"
    )


def encode(kind: str, obj: dict[str, Any]) -> bytes:
    """Canonical bytes of `obj` tagged as `kind`; raises LocalProtocolError on floats etc."""
    try:
        _check(obj, kind)
        return tag(kind) + ENCODER.encode(obj).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        raise LocalProtocolError(Reason.MALFORMED, f"cannot encode {kind}: {exc}") from exc


def chunk_encoder() -> Callable[[Any, int], Any]:
    """ENCODER's C encoder itself: `enc(obj, 0)` gives chunks of obj's canonical text.

    Calling ENCODER.encode builds a new C encoder each time, which costs as much as encoding
    an entry's fields; hot paths build one here and join its chunks. Same settings as ENCODER
    but no circular-reference markers, so a cycle ends in RecursionError, which every caller
    already treats as "cannot encode". Floats are written, not refused: callers check scalars
    first or hold decoded values, which have none. Falls back to ENCODER's Python encoder
    where the C accelerator is missing.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return lambda obj, _level: ENCODER.iterencode(obj)
    quote = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
    return make(None, ENCODER.default, quote, None, ":", ",", True, False, False)  # type: ignore[no-any-return]


_CHUNKS = chunk_encoder()


def encode_text(obj: Any) -> str:
    """Canonical JSON text of already-checked `obj` (ENCODER.encode, faster)."""
    return "".join(_CHUNKS(obj, 0))


def encode_body(obj: dict[str, Any]) -> str:
    """Canonical JSON text of an already-checked object (the hot path of entry encoding)."""
    return encode_text(obj)


def decode(kind: str, data: bytes) -> dict[str, Any]:
    """The object inside canonical `kind` bytes; RemoteProtocolError(MALFORMED) otherwise."""
    prefix = tag(kind)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise LocalProtocolError(
            Reason.MALFORMED, f"{kind}: expected bytes, got {type(data).__name__}"
        )
    data = bytes(data)
    if not data.startswith(prefix):
        raise RemoteProtocolError(Reason.MALFORMED, f"not a {kind}: wrong tag")
    return decode_body(kind, data[len(prefix) :])


def decode_body(kind: str, body: bytes) -> dict[str, Any]:
    """Decode and check canonical JSON text that follows a tag already matched."""
    try:
        text = body.decode("utf-8")
        obj = DECODER.decode(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError too
        raise RemoteProtocolError(Reason.MALFORMED, f"{kind}: not JSON: {exc}") from None
    if type(obj) is not dict:
        raise RemoteProtocolError(Reason.MALFORMED, f"{kind}: not a JSON object")
    try:
        canonical = ENCODER.encode(obj) == text
    except (ValueError, RecursionError):
        canonical = False
    if not canonical:
        raise RemoteProtocolError(Reason.MALFORMED, f"{kind}: bytes are not canonical")
    return obj
