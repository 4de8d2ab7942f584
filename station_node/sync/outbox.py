"""The station's own log as the hub will see it: head, unsent entries, integrity check.

Entries are rebuilt from their rows and hashed again; a row whose hash or chain no longer
matches (changed in the database after it was logged) stops the push with `entry_altered`,
naming the entry — it is never sent silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import sync_protocol as sp
from station_node import changelog
from station_node import station_state as state
from station_node.models import ChangeEntry
from station_node.sync.transport import SyncError


@dataclass(frozen=True)
class Head:
    """The log's head in protocol terms."""

    epoch: int
    seq: int
    hash: str
    bases: dict[str, int]
    start_seq: int = 0  # the epoch continues after this seq and hash (a hub-signed reset)
    start_hash: str = sp.GENESIS_HASH


def head() -> Head:
    """Our log's epoch, last seq in that epoch and its hash."""
    log = state.log_state()
    epoch, bases = int(log["epoch"]), log["bases"]
    last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    if last is None or last.epoch != epoch:
        base_seq, base_hash = state.epoch_start(log, epoch)
        return Head(epoch, base_seq, base_hash, bases, base_seq, base_hash)
    return Head(
        epoch,
        changelog.protocol_seq(last, bases),
        last.entry_hash,
        bases,
        *state.epoch_start(log, epoch),
    )


def newest_hlc() -> tuple[int, int]:
    """The HLC of our newest entry ((0, 0) before the first): a batch is never signed before it."""
    row = (
        ChangeEntry.select(ChangeEntry.hlc_wall, ChangeEntry.hlc_counter)
        .order_by(ChangeEntry.seq.desc())
        .first()
    )
    return (int(row.hlc_wall), int(row.hlc_counter)) if row is not None else (0, 0)


def altered(seq: int, detail: str) -> SyncError:
    """The error for an entry changed after it was logged."""
    return SyncError(
        "entry_altered",
        f"第 {seq} 条变更记录在记录后被改动（{detail}），已停止上传；请联系技术支持核查数据库",
        f"Change-log entry {seq} was altered after it was logged ({detail}); "
        "nothing was sent — have the database checked",
        details={"seq": seq},
        status=409,
    )


def entries(h: Head, first: int, last: int, station: str) -> list[bytes]:
    """Canonical bytes of our entries first..last (protocol seqs) of the current epoch, checked."""
    base = int(h.bases.get(str(h.epoch), 0))
    rows = (
        ChangeEntry.select()
        .where((ChangeEntry.seq >= base + first) & (ChangeEntry.seq <= base + last))
        .order_by(ChangeEntry.seq)
    )
    out: list[bytes] = []
    if first - 1 == h.start_seq:
        prev: str | None = h.start_hash
    else:
        before = ChangeEntry.get_or_none(ChangeEntry.seq == base + first - 1)
        prev = before.entry_hash if before is not None else None
    for row in rows:
        seq = row.seq - base
        if row.epoch != h.epoch:
            raise altered(seq, "epoch")
        try:
            raw = changelog.encode_row(row, station, h.bases)
        except sp.ProtocolError as exc:
            raise altered(seq, exc.detail) from None
        digest = sp.entry_hash(raw)
        if digest != row.entry_hash:
            raise altered(seq, "hash")
        if prev is not None and row.prev_hash != prev:
            raise altered(seq, "chain")
        prev = digest
        out.append(raw)
    if len(out) != last - first + 1:
        raise altered(first, "missing rows")
    return out


def verify_all(station: str) -> int:
    """Check every entry of the current epoch; returns how many were checked."""
    h = head()
    checked = 0
    for start in range(h.start_seq + 1, h.seq + 1, 2000):
        checked += len(entries(h, start, min(h.seq, start + 1999), station))
    return checked
