"""Batches: one signed checkpoint followed by the entries it covers, one per line.

Bytes::

    kg1/checkpoint {...}\n
    kg1/sig <128 hex>\n
    kg1/entry {...}\n      (seq = first)
    ...
    kg1/entry {...}\n      (seq = checkpoint seq; its hash = checkpoint head)

Entries are contiguous, and each names the previous one's hash, so the single signature on the
checkpoint covers every byte of the batch. A covering checkpoint (the form `sign_batch` writes)
also names the SHA-256 of the entry lines, so the signature proves which entry bytes the signer
sent even when they do not chain (`entries_digest`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sync_protocol.checkpoints import SignedCheckpoint, parse_checkpoint_lines, sign_checkpoint
from sync_protocol.entries import decode_entry, entry_hash
from sync_protocol.errors import LocalProtocolError, Reason, RemoteProtocolError
from sync_protocol.hlc import DEFAULT_MAX_DRIFT_MS, Hlc
from sync_protocol.keys import SigningKey


@dataclass(frozen=True)
class Limits:
    """Bounds a receiver enforces (and a sender chunks to)."""

    max_entries: int = 500
    max_entry_bytes: int = 64 * 1024
    max_batch_bytes: int = 4 * 1024 * 1024
    max_drift_ms: int = DEFAULT_MAX_DRIFT_MS


DEFAULT_LIMITS = Limits()


class Batch(NamedTuple):
    """A parsed batch: its signed checkpoint and the exact bytes of each entry."""

    checkpoint: SignedCheckpoint
    entries: tuple[bytes, ...]

    def to_bytes(self) -> bytes:
        """The batch as sent."""
        return self.checkpoint.to_bytes() + b"".join(e + b"\n" for e in self.entries)


def entries_digest(entry_lines: bytes) -> str:
    """SHA-256 hex of a batch's entry lines (every byte after the signature line)."""
    return hashlib.sha256(entry_lines).hexdigest()


def sign_batch(
    entries: Sequence[bytes], key: SigningKey, hlc: Hlc, *, covering: bool = True
) -> bytes:
    """Sign a run of contiguous entries of one log (canonical bytes, oldest first).

    The checkpoint covers the entry bytes (`entries_digest`) unless `covering` is False, which
    writes the older form that only names the head (kept for the version 1 test vectors)."""
    if not entries:
        raise LocalProtocolError(Reason.MALFORMED, "a batch holds at least one entry")
    first, last = decode_entry(entries[0]), decode_entry(entries[-1])
    if (first.station, first.epoch) != (last.station, last.epoch) or (
        last.seq - first.seq + 1 != len(entries)
    ):
        raise LocalProtocolError(Reason.BROKEN_CHAIN, "entries must be contiguous in one epoch")
    hlc = max(Hlc(*hlc), last.hlc)  # a checkpoint is never stamped before its last entry
    body = b"".join(bytes(e) + b"\n" for e in entries)
    digest = entries_digest(body) if covering else None
    checkpoint = sign_checkpoint(
        station=last.station,
        epoch=last.epoch,
        seq=last.seq,
        head=entry_hash(entries[-1]),
        hlc=hlc,
        key=key,
        entries=digest,
    )
    return checkpoint + body


def parse_batch(data: bytes, limits: Limits = DEFAULT_LIMITS) -> Batch:
    """Split batch bytes into checkpoint and entry lines; checks form and size, not content."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise LocalProtocolError(
            Reason.MALFORMED, f"batch: expected bytes, got {type(data).__name__}"
        )
    data = bytes(data)
    if len(data) > limits.max_batch_bytes:
        raise RemoteProtocolError(
            Reason.OVERSIZED, f"batch of {len(data)} bytes (limit {limits.max_batch_bytes})"
        )
    lines = data.split(b"\n")
    if len(lines) < 4 or lines[-1] != b"":
        raise RemoteProtocolError(
            Reason.MALFORMED,
            "batch: needs checkpoint, signature and entry lines, each ending in a newline",
        )
    entries = tuple(lines[2:-1])
    if len(entries) > limits.max_entries:
        raise RemoteProtocolError(
            Reason.OVERSIZED, f"batch of {len(entries)} entries (limit {limits.max_entries})"
        )
    if max(map(len, entries)) > limits.max_entry_bytes:
        raise RemoteProtocolError(
            Reason.OVERSIZED, f"an entry is over {limits.max_entry_bytes} bytes"
        )
    return Batch(parse_checkpoint_lines(lines[0], lines[1]), entries)


def chunk(entries: Sequence[bytes], limits: Limits = DEFAULT_LIMITS) -> Iterator[Sequence[bytes]]:
    """Split a long run of entries into runs a receiver with `limits` accepts."""
    overhead = 1024  # checkpoint + signature lines, generously
    start, size = 0, overhead
    for i, entry in enumerate(entries):
        if len(entry) > limits.max_entry_bytes:
            raise LocalProtocolError(
                Reason.OVERSIZED, f"entry {i} is over {limits.max_entry_bytes} bytes"
            )
        if i > start and (
            i - start >= limits.max_entries or size + len(entry) + 1 > limits.max_batch_bytes
        ):
            yield entries[start:i]
            start, size = i, overhead
        size += len(entry) + 1
    if start < len(entries):
        yield entries[start:]
