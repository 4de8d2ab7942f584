"""A log writer: appends entries to one log (a station's or the hub's) and signs batches.

The station's change log can use `make_entry` / `encode_entry` / `entry_hash` directly inside
its own transaction; this class is the same steps with the head kept in memory, used by the
hub for its own log and by tests and benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sync_protocol.batches import sign_batch
from sync_protocol.entries import (
    GENESIS_HASH,
    ROTATION_ENTITY,
    Entry,
    encode_entry,
    entry_hash,
    make_entry,
)
from sync_protocol.hlc import Hlc, HybridClock
from sync_protocol.keys import SigningKey
from sync_protocol.verifier import AcceptedEntry


class LogWriter:
    """Appends to `station`'s log from head (`epoch`, `seq`, `head`); nothing is stored here."""

    def __init__(
        self,
        station: str,
        key: SigningKey,
        clock: HybridClock,
        *,
        epoch: int = 1,
        seq: int = 0,
        head: str = GENESIS_HASH,
    ) -> None:
        self.station = station
        self.key = key
        self.clock = clock
        self.epoch, self.seq, self.head = epoch, seq, head

    def append(
        self,
        entity: str,
        entity_id: str,
        op: str,
        fields: dict[str, Any],
        wall_ms: int,
        *,
        origin: str | None = None,
        hlc: Hlc | None = None,
    ) -> AcceptedEntry:
        """Append one change; `origin` and `hlc` are given when relaying another node's change."""
        if hlc is None:
            stamp = self.clock.send(wall_ms)
        else:
            self.clock.receive(hlc, wall_ms, trusted=True)
            stamp = hlc
        entry = make_entry(
            station=self.station,
            epoch=self.epoch,
            seq=self.seq + 1,
            prev_hash=self.head,
            hlc=stamp,
            entity=entity,
            entity_id=entity_id,
            op=op,
            fields=fields,
            origin=origin,
        )
        raw = encode_entry(entry)
        self.seq, self.head = entry.seq, entry_hash(raw)
        return AcceptedEntry(entry, raw, self.head)

    def relay(self, entry: Entry, wall_ms: int) -> AcceptedEntry:
        """Copy another log's change into this one, keeping its origin and HLC."""
        return self.append(
            entry.entity,
            entry.entity_id,
            entry.op,
            entry.fields,
            wall_ms,
            origin=entry.origin,
            hlc=entry.hlc,
        )

    def rotate(self, new_key: SigningKey, wall_ms: int) -> AcceptedEntry:
        """Append the rotation entry; sign the batch ending here with the old key, then switch."""
        return self.append(
            ROTATION_ENTITY,
            new_key.key_id,
            "rotate",
            {"public_key": new_key.public_key.hex()},
            wall_ms,
        )

    def sign(self, entries: Sequence[bytes], wall_ms: int, *, covering: bool = True) -> bytes:
        """A signed batch of `entries` (contiguous, oldest first) stamped now."""
        return sign_batch(entries, self.key, self.clock.send(wall_ms), covering=covering)
