"""The one place that appends to the station's change log.

A service calls `record` inside its own transaction, right after it changes a row, so the
entry and the change commit (or roll back) together. Sequence numbers are gap-free (+1 from
the last entry); timestamps are a hybrid logical clock (wall milliseconds + counter) that never
goes backwards even if the wall clock does.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, has_app_context

from station_node import clock
from station_node.models import ChangeEntry


def _station_id() -> str:
    if has_app_context():
        return str(current_app.config["STATION_ID"])
    return "station-local"


def _wall_ms() -> int:
    return int(clock.now().replace(tzinfo=dt.UTC).timestamp() * 1000)


def _plain(value: Any) -> Any:
    """Turn dates, datetimes and bytes into JSON-ready values; the log holds no floats."""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        raise TypeError("the change log holds no floats: store integers (fen, tenths, ...)")
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def record(entity: str, entity_id: str | int, op: str, fields: dict[str, Any]) -> ChangeEntry:
    """Append one change entry; call inside the transaction that made the change."""
    last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    wall = _wall_ms()
    if last is None:
        seq, epoch, hlc_wall, counter = 1, 1, wall, 0
    else:
        seq, epoch = last.seq + 1, last.epoch
        if wall > last.hlc_wall:
            hlc_wall, counter = wall, 0
        else:
            hlc_wall, counter = last.hlc_wall, last.hlc_counter + 1
    return ChangeEntry.create(
        seq=seq,
        epoch=epoch,
        hlc_wall=hlc_wall,
        hlc_counter=counter,
        entity=entity,
        entity_id=str(entity_id),
        op=op,
        fields=_plain(fields),
        origin=_station_id(),
        prev_hash=last.entry_hash if last else None,
    )
