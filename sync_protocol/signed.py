"""Signed messages: canonical bytes, a newline, then ``kg1/sig <128 hex>`` and a newline.

The signature is Ed25519 over the canonical line exactly as sent (tag included, newline not).
Every signed object names its signer in a ``key`` field, so the receiver knows which key of
its ring to check without trying them all.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from sync_protocol import canonical
from sync_protocol.errors import Reason, RemoteProtocolError
from sync_protocol.keys import KeyRing, Position, SigningKey, verify_signature

SIG_TAG = canonical.tag("sig")
_SIG_HEX = re.compile(rb"[0-9a-f]{128}")
_KID = re.compile(r"[0-9a-f]{32}")


class Signed(NamedTuple):
    """A parsed signed message: the exact signed line, its object and the signature."""

    body: bytes
    obj: dict[str, Any]
    signature: bytes

    def to_bytes(self) -> bytes:
        """The message as sent: body, newline, signature line, newline."""
        return self.body + b"\n" + SIG_TAG + self.signature.hex().encode() + b"\n"


def sign(kind: str, obj: dict[str, Any], key: SigningKey) -> bytes:
    """Canonical `kind` bytes of `obj` (with ``key`` set to the signer's id), signed."""
    body = canonical.encode(kind, {**obj, "key": key.key_id})
    return Signed(body, obj, key.sign(body)).to_bytes()


def parse_signed(kind: str, data: bytes) -> Signed:
    """Split and decode a signed `kind` message; checks the form, not the signature."""
    lines = bytes(data).split(b"\n")
    if len(lines) != 3 or lines[2] != b"":
        raise RemoteProtocolError(Reason.MALFORMED, f"{kind}: expected a line and a signature line")
    return parse_signed_lines(kind, lines[0], lines[1])


def parse_signed_lines(kind: str, body: bytes, sig_line: bytes) -> Signed:
    """Decode a signed `kind` line pair (without their newlines)."""
    obj = canonical.decode(kind, body)
    kid = obj.get("key")
    if type(kid) is not str or not _KID.fullmatch(kid):
        raise RemoteProtocolError(Reason.MALFORMED, f"{kind}: key must be a 32-hex key id")
    sig_hex = sig_line[len(SIG_TAG) :]
    if not sig_line.startswith(SIG_TAG) or not _SIG_HEX.fullmatch(sig_hex):
        raise RemoteProtocolError(
            Reason.MALFORMED, f"{kind}: signature line must be 128 hex digits"
        )
    return Signed(body, obj, bytes.fromhex(sig_hex.decode()))


def check_signed(signed: Signed, keys: KeyRing, owner: str, position: Position) -> Reason | None:
    """Why `signed` is not acceptable as `owner`'s statement at `position`, or None."""
    record = keys.get(signed.obj["key"])
    if record is None:
        return Reason.UNKNOWN_KEY
    refusal = record.refusal(owner, position)
    if refusal is not None:
        return refusal
    if not verify_signature(record.public_key, signed.signature, signed.body):
        return Reason.BAD_SIGNATURE
    return None
