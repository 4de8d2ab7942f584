"""Checkpoints: a log owner's signed statement "my log at (epoch, seq) has head hash H".

Bytes::

    kg1/checkpoint {"epoch":1,"head":"<64 hex>","hlc":[wall,counter],"key":"<32 hex>","seq":500,"station":"st-a"}
    kg1/sig <128 hex>

Two valid checkpoints with the same station, epoch and seq but different heads prove a fork.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from sync_protocol.entries import MAX_EPOCH, MAX_SEQ, is_name
from sync_protocol.errors import Reason, RemoteProtocolError
from sync_protocol.hlc import COUNTER_MAX, Hlc
from sync_protocol.keys import SigningKey
from sync_protocol.signed import Signed, parse_signed, parse_signed_lines, sign

_KEYS = ("epoch", "head", "hlc", "key", "seq", "station")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Checkpoint(NamedTuple):
    """The head of one log at one point, as signed by key `key`."""

    station: str
    epoch: int
    seq: int
    head: str
    hlc: Hlc
    key: str


class SignedCheckpoint(NamedTuple):
    """A checkpoint with the exact bytes that were signed (kept as fork evidence)."""

    checkpoint: Checkpoint
    signed: Signed

    def to_bytes(self) -> bytes:
        """The two lines as sent."""
        return self.signed.to_bytes()


def sign_checkpoint(
    station: str, epoch: int, seq: int, head: str, hlc: Hlc, key: SigningKey
) -> bytes:
    """The signed checkpoint bytes (two lines)."""
    obj = {"epoch": epoch, "head": head, "hlc": list(hlc), "seq": seq, "station": station}
    return sign("checkpoint", obj, key)


def parse_checkpoint(data: bytes) -> SignedCheckpoint:
    """Decode signed checkpoint bytes (form only; the caller checks the signature)."""
    return _checked(parse_signed("checkpoint", data))


def parse_checkpoint_lines(body: bytes, sig_line: bytes) -> SignedCheckpoint:
    """Decode a checkpoint line and its signature line (without newlines)."""
    return _checked(parse_signed_lines("checkpoint", body, sig_line))


def _checked(signed: Signed) -> SignedCheckpoint:
    obj = signed.obj
    if tuple(obj) != _KEYS:
        raise RemoteProtocolError(Reason.MALFORMED, f"checkpoint keys must be {', '.join(_KEYS)}")
    station, epoch, seq, head, hlc = obj["station"], obj["epoch"], obj["seq"], obj["head"], obj["hlc"]
    ok = (
        is_name(station)
        and type(epoch) is int and 1 <= epoch <= MAX_EPOCH
        and type(seq) is int and 1 <= seq <= MAX_SEQ
        and type(head) is str and _HEX64.fullmatch(head)
        and type(hlc) is list and len(hlc) == 2
        and type(hlc[0]) is int and 0 <= hlc[0] <= MAX_SEQ
        and type(hlc[1]) is int and 0 <= hlc[1] <= COUNTER_MAX
    )
    if not ok:
        raise RemoteProtocolError(Reason.MALFORMED, "checkpoint: a field has the wrong type or range")
    return SignedCheckpoint(Checkpoint(station, epoch, seq, head, Hlc(*hlc), obj["key"]), signed)
