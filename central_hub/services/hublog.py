"""The hub-signed log: decisions every station pulls and verifies against the pinned hub key.

`append` must be called inside the caller's transaction, so a decision and its log entry
commit together. The log head is one locked row, so two hub processes never take one seq.
"""

from __future__ import annotations

from typing import Any

from central_hub import db, signing
from central_hub.models import HubLogEntry, HubState, Station
from central_hub.states import StationStatus
from kuaigong import clock


def append(
    entity: str,
    entity_id: str,
    op: str,
    fields: dict[str, Any],
    targets: list[str] | None = None,
) -> HubLogEntry:
    """Add one entry to the hub log, inside the caller's transaction.

    `op` is a sync_protocol op (create, update, delete, revoke, rotate); what the decision was
    is in `fields`. `targets` (the stations concerned; None: all) travels in fields too.
    """
    state = db.locked(HubState.select().where(HubState.key == "hub_log")).get()
    seq = state.seq + 1
    wall = clock.now_ms()
    hlc = (wall, 0) if wall > state.hlc_wall else (state.hlc_wall, state.hlc_counter + 1)
    body = dict(fields, targets=targets) if targets else dict(fields)
    raw, entry_hash = signing.encode_hub_entry(
        seq=seq,
        prev_hash=state.head,
        hlc=hlc,
        entity=entity,
        entity_id=str(entity_id),
        op=op,
        fields=body,
    )
    row = HubLogEntry.create(
        seq=seq,
        entry_hash=entry_hash,
        prev_hash=state.head,
        entity=entity,
        entity_id=str(entity_id),
        op=op,
        fields=body,
        targets=targets,
        raw=raw.decode("utf-8"),
        created_at=clock.now(),
    )
    HubState.update(seq=seq, head=entry_hash, hlc_wall=hlc[0], hlc_counter=hlc[1]).where(
        HubState.key == "hub_log"
    ).execute()
    return row


def head() -> tuple[int, str]:
    """The hub log's last seq and head hash."""
    state = HubState.get(HubState.key == "hub_log")
    return state.seq, state.head


def seq() -> int:
    """The hub log's last seq (one narrow read: every push answer carries it)."""
    p = db.database.param
    row = db.database.execute_sql(
        f'SELECT "seq" FROM "{HubState._meta.table_name}" WHERE "key" = {p}', ("hub_log",)
    ).fetchone()
    return int(row[0]) if row else 0


def entries_after(station: Station, after: int, limit: int) -> list[HubLogEntry]:
    """Entries after `after` that concern `station` (or every station), oldest first."""
    rows = (
        HubLogEntry.select().where(HubLogEntry.seq > after).order_by(HubLogEntry.seq).limit(limit)
    )
    return list(rows)


def concerns(entry: HubLogEntry, station_id: str) -> bool:
    """True when the entry is meant for that station (targets empty means all)."""
    return not entry.targets or station_id in entry.targets


def record_pull(station: Station, after: int, served_to: int) -> None:
    """Note what the station acknowledged (`after`) and what it was just served."""
    with db.atomic():
        Station.update(
            hub_seq_acked=max(after, 0),
            hub_seq_served=served_to,
            last_pull_at=clock.now(),
            last_contact_at=clock.now(),
        ).where(Station.id == station.id).execute()


def delivery(seq: int) -> list[dict[str, Any]]:
    """For a hub-log entry: each concerned station, whether it was served and acknowledged."""
    entry = HubLogEntry.get_or_none(HubLogEntry.seq == seq)
    if entry is None:
        return []
    query = Station.select().where(Station.status != StationStatus.PENDING).order_by(Station.id)
    out = []
    for station in query:
        if not concerns(entry, station.id):
            continue
        out.append(
            {
                "station": station.id,
                "name": station.name,
                "served": station.hub_seq_served >= seq,
                "acked": station.hub_seq_acked >= seq,
            }
        )
    return out


def head_hlc() -> tuple[int, int]:
    """The HLC of the hub log's newest entry."""
    state = HubState.get(HubState.key == "hub_log")
    return state.hlc_wall, state.hlc_counter
