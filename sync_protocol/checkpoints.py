"""Checkpoints: a log owner's signed statement "my log at (epoch, seq) has head hash H".

Bytes (two lines; the first is shown wrapped)::

    kg1/checkpoint {"epoch":1,"head":"<64 hex>","hlc":[wall,counter],"key":"<32 hex>",
                    "seq":500,"station":"st-a"}
    kg1/sig <128 hex>

A checkpoint that also names ``"entries"`` (SHA-256 hex of every entry line of its batch, each
with its newline) covers the batch's exact entry bytes, so a batch whose entries do not match
it was not sent by the signer, and one whose entries match but break the chain is the signer's
own, provably. Receivers accept both forms; senders write the covering form.

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
_COVERING_KEYS = ("entries", *_KEYS)
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Checkpoint(NamedTuple):
    """The head of one log at one point, as signed by key `key`."""

    station: str
    epoch: int
    seq: int
    head: str
    hlc: Hlc
    key: str
    entries: str | None = (
        None  # SHA-256 of the batch's entry lines, when the checkpoint covers them
    )


class SignedCheckpoint(NamedTuple):
    """A checkpoint with the exact bytes that were signed (kept as fork evidence)."""

    checkpoint: Checkpoint
    signed: Signed

    def to_bytes(self) -> bytes:
        """The two lines as sent."""
        return self.signed.to_bytes()


def sign_checkpoint(
    *,
    station: str,
    epoch: int,
    seq: int,
    head: str,
    hlc: Hlc,
    key: SigningKey,
    entries: str | None = None,
) -> bytes:
    """The signed checkpoint bytes (two lines).

    `entries` (64 hex, from entries_digest) makes it cover the batch's entry lines.
    """
    obj: dict[str, object] = {
        "epoch": epoch,
        "head": head,
        "hlc": list(hlc),
        "seq": seq,
        "station": station,
    }
    if entries is not None:
        obj["entries"] = entries
    return sign("checkpoint", obj, key)


def parse_checkpoint(data: bytes) -> SignedCheckpoint:
    """Decode signed checkpoint bytes (form only; the caller checks the signature)."""
    return _checked(parse_signed("checkpoint", data))


def parse_checkpoint_lines(body: bytes, sig_line: bytes) -> SignedCheckpoint:
    """Decode a checkpoint line and its signature line (without newlines)."""
    return _checked(parse_signed_lines("checkpoint", body, sig_line))


def _checked(signed: Signed) -> SignedCheckpoint:
    obj = signed.obj
    if tuple(obj) != _KEYS and tuple(obj) != _COVERING_KEYS:
        raise RemoteProtocolError(
            Reason.MALFORMED, f"checkpoint keys must be [entries,] {', '.join(_KEYS)}"
        )
    entries = obj.get("entries")
    station, epoch, seq, head, hlc = (
        obj["station"],
        obj["epoch"],
        obj["seq"],
        obj["head"],
        obj["hlc"],
    )
    ok = (
        is_name(station)
        and type(epoch) is int
        and 1 <= epoch <= MAX_EPOCH
        and type(seq) is int
        and 1 <= seq <= MAX_SEQ
        and type(head) is str
        and _HEX64.fullmatch(head)
        and type(hlc) is list
        and len(hlc) == 2
        and type(hlc[0]) is int
        and 0 <= hlc[0] <= MAX_SEQ
        and type(hlc[1]) is int
        and 0 <= hlc[1] <= COUNTER_MAX
        and (entries is None or (type(entries) is str and _HEX64.fullmatch(entries)))
    )
    if not ok:
        raise RemoteProtocolError(
            Reason.MALFORMED, "checkpoint: a field has the wrong type or range"
        )
    return SignedCheckpoint(
        Checkpoint(station, epoch, seq, head, Hlc(*hlc), obj["key"], entries), signed
    )
