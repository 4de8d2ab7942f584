"""The one place that appends to the station's change log.

A service calls `record` inside its own transaction, right after it changes a row, so the
entry and the change commit (or roll back) together. Each entry is a `sync_protocol` entry:
gap-free seq (+1 in its epoch), the previous entry's hash, a hybrid logical clock stamp that
never goes backwards (nor below the hub's time from the last receipt), and the SHA-256 of its
canonical bytes, stored beside it so an entry altered later in the database is detected.

A station whose database is behind the hub's newest receipt (restored from an old backup) goes
on appending and notes where it went on: those entries wait for the hub's signed epoch reset,
which carries them into the new epoch (see station_node.sync.backup).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import enum
from collections.abc import Iterator
from typing import Any

from flask import has_app_context

import sync_protocol as sp
from kuaigong import clock
from station_node import sealing
from station_node import station_state as state
from station_node.db import database
from station_node.models import ChangeEntry

_origin: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "kuaigong_origin", default=None
)
SEALED_ENTITIES = ("worker", "employer")


def _station_id() -> str:
    if has_app_context():
        return state.station_id()
    return "station-local"


def _wall_ms() -> int:
    return int(clock.now().replace(tzinfo=dt.UTC).timestamp() * 1000)


def plain(value: Any) -> Any:
    """What `record` logs of a value: dates, datetimes and bytes as text; the log holds no
    floats."""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        raise TypeError("the change log holds no floats: store integers (fen, tenths, ...)")
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, enum.Enum):  # a state (kuaigong.states): the log holds its text
        return value.value
    return value


@contextlib.contextmanager
def relaying(origin: str) -> Iterator[None]:
    """Entries recorded inside keep `origin` (e.g. the hub, when applying its decisions)."""
    token = _origin.set(origin)
    try:
        yield
    finally:
        _origin.reset(token)


def protocol_seq(row: ChangeEntry, bases: dict[str, int]) -> int:
    """The entry's seq in its epoch (row seqs run on across epochs)."""
    return int(row.seq) - int(bases.get(str(row.epoch), 0))


def encode_row(row: ChangeEntry, station: str, bases: dict[str, int]) -> bytes:
    """The canonical bytes of a stored entry, rebuilt from its columns."""
    entry = sp.make_entry(
        station=station,
        epoch=row.epoch,
        seq=protocol_seq(row, bases),
        prev_hash=row.prev_hash or None,
        hlc=(row.hlc_wall, row.hlc_counter),
        entity=row.entity,
        entity_id=row.entity_id,
        op=row.op,
        fields=row.fields,
        origin=row.origin,
    )
    return sp.encode_entry(entry)


def _note_if_restored(
    receipt: sp.Receipt | None, station: str, epoch: int, head_seq: int, head_hash: str
) -> None:
    """A head behind the hub's receipt (restored backup): note where the log goes on; keep writing.

    The station keeps serving its users; its sync holds these entries back until the hub signs
    an epoch reset, which carries them into the new epoch (station_node.sync.backup).
    """
    if receipt is None or receipt.station != station:
        return
    check = sp.check_restore(epoch, head_seq, head_hash, receipt)
    if not check.may_append:
        state.mark_restored(epoch, head_seq, head_hash, check.reason)


def _sealed(entity: str, entity_id: str, op: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Add a copy of the ID number sealed to the hub key where the hub may need it."""
    if entity not in SEALED_ENTITIES or op != "create" and "id_hash" not in fields:
        return fields
    if not fields.get("id_hash") or "id_sealed" in fields:
        return fields

    sealed = sealing.sealed_copy(entity, entity_id)
    return fields if sealed is None else {**fields, "id_sealed": sealed}


_TABLE = ChangeEntry._meta.table_name
# The chain head, read inside the caller's write transaction: one index step on the primary key.
_HEAD = (
    f'SELECT "seq", "epoch", "entry_hash", "hlc_wall", "hlc_counter" FROM "{_TABLE}" '
    'ORDER BY "seq" DESC LIMIT 1'
)
_FIELDS = ChangeEntry._meta.fields
_INSERT = (
    f'INSERT INTO "{_TABLE}" ("seq", "epoch", "hlc_wall", "hlc_counter", "entity", "entity_id", '
    '"op", "fields", "origin", "prev_hash", "entry_hash", "created_at") '
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def record(entity: str, entity_id: str | int, op: str, fields: dict[str, Any]) -> ChangeEntry:
    """Append one change entry; call inside the transaction that made the change.

    Nothing is cached between calls but what the files in DATA_DIR say (re-checked by one
    stat each): the head of the chain is read from the database every time, inside the
    caller's transaction, so a restored database or another writer is always seen.
    """

    last = database.execute_sql(_HEAD).fetchone()  # (seq, epoch, hash, wall, counter) | None
    in_app = has_app_context()
    log: dict[str, Any] = state.log_state() if in_app else {"epoch": 1, "bases": {"1": 0}}
    epoch, bases = int(log["epoch"]), log["bases"]
    if last is not None and last[1] == epoch:
        seq, prev = last[0] - int(bases.get(str(epoch), 0)) + 1, last[2]
    else:
        base_seq, base_hash = state.epoch_start(log, epoch)
        seq, prev = base_seq + 1, base_hash
    station = _station_id()
    floor = (0, 0)
    if in_app:
        acked = state.acked()
        _note_if_restored(acked.receipt, station, epoch, seq - 1, prev or sp.GENESIS_HASH)
        floor = acked.hlc_floor
    high = max(floor, (last[3], last[4]) if last is not None else (0, 0))
    stamp = sp.HybridClock(station, sp.Hlc(*high)).send(_wall_ms())
    values = plain(fields)
    if in_app:
        values = _sealed(entity, str(entity_id), op, values)
    origin = _origin.get() or station
    entry = sp.make_entry(
        station=station,
        epoch=epoch,
        seq=seq,
        prev_hash=prev,
        hlc=stamp,
        entity=entity,
        entity_id=str(entity_id),
        op=op,
        fields=values,
        origin=origin,
    )
    digest = sp.entry_hash(sp.encode_entry(entry))
    row = ChangeEntry(
        seq=(last[0] + 1) if last is not None else 1,
        epoch=epoch,
        hlc_wall=stamp.wall,
        hlc_counter=stamp.counter,
        entity=entity,
        entity_id=entry.entity_id,
        op=op,
        fields=values,
        origin=origin,
        prev_hash=entry.prev,
        entry_hash=digest,
        created_at=clock.now(),
    )
    database.execute_sql(
        _INSERT,
        [
            row.seq,
            epoch,
            stamp.wall,
            stamp.counter,
            entity,
            entry.entity_id,
            op,
            _FIELDS["fields"].db_value(values),
            origin,
            entry.prev,
            digest,
            _FIELDS["created_at"].db_value(row.created_at),
        ],
    )
    row._dirty.clear()
    return row


def rechain(station: str, local_origin: str, bases: dict[str, int]) -> int:
    """At enrolment: re-chain the entries logged before it (none was sent) under the station id
    the hub gave, with the local origin renamed to it. Returns how many entries were rewritten."""
    rows = list(ChangeEntry.select().order_by(ChangeEntry.seq))
    prev = None
    with database.atomic():
        for row in rows:
            if row.origin == local_origin:
                row.origin = station
            row.prev_hash = prev or sp.GENESIS_HASH
            prev = row.entry_hash = sp.entry_hash(encode_row(row, station, bases))
            ChangeEntry.update(origin=row.origin, prev_hash=row.prev_hash, entry_hash=prev).where(
                ChangeEntry.seq == row.seq
            ).execute()
    return len(rows)
