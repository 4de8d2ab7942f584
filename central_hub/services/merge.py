"""Applying accepted station entries to the hub's records, by kind of data (SYNC.md rule 8):

- profile fields: last writer wins per field on (HLC, station); the loser is kept (FieldLoss)
  and, when two stations disagree, queued for an admin;
- jobs and assignments: only the station that posted the job changes them;
- the same keyed ID hash at two stations: a merge proposal;
- one person booked into overlapping jobs at two stations: a booking conflict.

Runs inside the ingest transaction. Rows that two hub processes could race on are locked first
(the person row for merges and bookings, the record row for field merges).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from central_hub import clock, db, signing
from central_hub.models import (
    REPLICATED,
    AppliedEntry,
    Assignment,
    FieldLoss,
    Ignored,
    Job,
    Person,
    Station,
    Worker,
)
from central_hub.services import reconcile
from sync_protocol.merge import Version, rank

OWNER_ONLY = {"job", "assignment"}
ACTIVE_BOOKINGS = ("confirmed", "checked_in")
_BOOKING_FIELDS = {"status", "starts_at", "ends_at", "worker_id"}
# Columns kept beside `data` so the city view can query them: column -> (field, type).
_COLUMNS: dict[str, dict[str, str]] = {
    "worker": {"id_hash": "str", "name": "str", "status": "str"},
    "employer": {"kind": "str", "name": "str", "credit_code": "str", "id_hash": "str",
                 "blocked": "bool"},
    "job": {"title": "str", "category": "str", "status": "str", "headcount": "int",
            "posted_at": "time", "dispatch_started_at": "time", "filled_at": "time",
            "starts_at": "time", "ends_at": "time"},
    "assignment": {"job_id": "str", "worker_id": "str", "status": "str", "starts_at": "time",
                   "ends_at": "time", "confirmed_at": "time"},
    "complaint": {"kind": "str", "status": "str", "resolved_at": "time"},
}
_CREATED = {"worker": "created_at", "employer": "created_at", "job": "posted_at",
            "assignment": "confirmed_at", "complaint": "created_at"}


def parse_time(value: Any) -> dt.datetime | None:
    """A change-log time ("2026-05-01T08:00:00Z") as naive UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _cast(kind: str, value: Any) -> Any:
    if kind == "time":
        return parse_time(value)
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else 0
    if kind == "bool":
        return bool(value)
    return None if value is None else str(value)[:200]


def _columns(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    return {col: _cast(kind, data.get(col)) for col, kind in _COLUMNS[entity].items() if col in data}


def apply_entries(station: Station, accepted: Any) -> int:
    """Record and apply a verified run of entries; returns how many changed a record."""
    now = clock.now()
    AppliedEntry.insert_many([
        {"station": station.id, "epoch": a.entry.epoch, "seq": a.entry.seq, "entry_hash": a.hash,
         "entity": a.entry.entity, "entity_id": a.entry.entity_id, "op": a.entry.op,
         "hlc": a.entry.hlc_wall, "applied_at": now}
        for a in accepted
    ]).execute()
    changed = 0
    for item in accepted:
        if item.entry.entity in REPLICATED:
            changed += _apply(station.id, item.entry)
    return changed


def _ignore(station_id: str, e: Any, reason: str) -> int:
    Ignored.create(station=station_id, seq=e.seq, entity=e.entity, entity_id=e.entity_id,
                   reason=reason, at=clock.now())
    return 0


def _apply(station_id: str, e: Any) -> int:
    model = REPLICATED[e.entity]
    stamp = [e.hlc_wall, e.hlc_counter, e.origin]
    row = db.locked(model.select().where(model.id == e.entity_id)).get_or_none()
    if row is None and e.entity == "assignment" and e.op != "delete":
        job = Job.get_or_none(Job.id == str(e.fields.get("job_id")))
        if job is not None and job.station != station_id:
            return _ignore(station_id, e, "not_job_owner")
    if row is None:
        if e.op == "delete":
            return _ignore(station_id, e, "unknown_record")
        data = dict(e.fields)
        model.insert(
            id=e.entity_id, station=station_id, data=data, stamps=dict.fromkeys(data, stamp),
            created_at=parse_time(data.get(_CREATED[e.entity])), received_at=clock.now(),
            **_columns(e.entity, data),
        ).on_conflict_ignore().execute()
    else:
        if e.entity in OWNER_ONLY and row.station != station_id:
            return _ignore(station_id, e, "not_owner")
        data, stamps = dict(row.data), dict(row.stamps)
        if e.op == "delete":
            model.update(deleted=True).where(model.id == row.id).execute()
            return 1
        for name, value in e.fields.items():
            _merge_field(e.entity, row.id, name, value, stamp, data, stamps)
        model.update(data=data, stamps=stamps, **_columns(e.entity, data)).where(
            model.id == row.id).execute()
    if e.entity == "worker" and (e.op == "create" or "id_hash" in e.fields):
        _after_worker(station_id, e.entity_id)
    elif e.entity == "assignment" and (e.op == "create" or _BOOKING_FIELDS & set(e.fields)):
        _after_assignment(station_id, e.entity_id)
    return 1


def _merge_field(entity: str, entity_id: str, name: str, value: Any, stamp: list[Any],
                 data: dict[str, Any], stamps: dict[str, Any]) -> None:
    """Per-field last writer wins on sync_protocol's rank (hub first, HLC, origin); the loser
    is kept."""
    current = stamps.get(name)
    if current is None:
        data[name], stamps[name] = value, stamp
        return
    incoming_wins = _rank(stamp) > _rank(current)
    winner, loser = (stamp, current) if incoming_wins else (current, stamp)
    win_value, lose_value = (value, data.get(name)) if incoming_wins else (data.get(name), value)
    if incoming_wins:
        data[name], stamps[name] = value, stamp
    if winner[2] == loser[2] or win_value == lose_value:
        return
    FieldLoss.create(entity=entity, entity_id=entity_id, field=name, winner_value=win_value,
                     winner_station=winner[2], winner_hlc=winner[0], loser_value=lose_value,
                     loser_station=loser[2], loser_hlc=loser[0], at=clock.now())
    reconcile.open_issue(
        "field", f"field:{entity}:{entity_id}:{name}:{loser[2]}:{loser[0]}:{loser[1]}", entity_id,
        [winner[2], loser[2]],
        {"entity": entity, "entity_id": entity_id, "field": name, "winner_value": win_value,
         "winner_station": winner[2], "winner_hlc": winner[0], "loser_value": lose_value,
         "loser_station": loser[2], "loser_hlc": loser[0]},
    )


def _rank(stamp: list[Any]) -> tuple[bool, int, int, str]:
    wall, counter, origin = stamp
    return rank(Version(None, wall, counter, origin), signing.hub_id())


def _lock_person(id_hash: str, data: dict[str, Any]) -> None:
    Person.insert(id_hash=id_hash, id_masked=data.get("id_masked"), id_sealed=data.get("id_sealed"),
                  created_at=clock.now()).on_conflict_ignore().execute()
    db.locked(Person.select().where(Person.id_hash == id_hash)).get()


def _after_worker(station_id: str, worker_id: str) -> None:
    """The same keyed ID hash at another station: propose a merge."""
    worker = Worker.get_by_id(worker_id)
    if not worker.id_hash:
        return
    _lock_person(worker.id_hash, worker.data)
    same = list(Worker.select().where((Worker.id_hash == worker.id_hash) & ~Worker.deleted)
                .order_by(Worker.station, Worker.id))
    stations = sorted({w.station for w in same})
    if len(stations) < 2:
        return
    reconcile.open_issue(
        "merge", f"merge:{worker.id_hash}:{','.join(stations)}", worker.id_hash, stations,
        {"workers": [{"id": w.id, "station": w.station, "name": w.name,
                      "id_masked": w.data.get("id_masked")} for w in same]},
    )


def _overlaps(a: Assignment, b: Assignment) -> bool:
    if None in (a.starts_at, a.ends_at, b.starts_at, b.ends_at):
        return False
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _after_assignment(station_id: str, assignment_id: str) -> None:
    """One person booked into overlapping jobs at two stations: a booking conflict."""
    booking = Assignment.get_by_id(assignment_id)
    worker = Worker.get_or_none(Worker.id == booking.worker_id)
    if worker is None or not worker.id_hash:
        return
    if booking.id_hash != worker.id_hash:
        Assignment.update(id_hash=worker.id_hash).where(Assignment.id == booking.id).execute()
    if booking.status not in ACTIVE_BOOKINGS:
        return
    _lock_person(worker.id_hash, worker.data)
    clashes = [
        other for other in Assignment.select().where(
            (Assignment.id_hash == worker.id_hash) & (Assignment.station != station_id)
            & Assignment.status.in_(ACTIVE_BOOKINGS) & ~Assignment.deleted)
        if _overlaps(booking, other)
    ]
    if not clashes:
        return
    group = sorted([booking, *clashes], key=lambda a: a.id)
    jobs = {j.id: j.title for j in Job.select(Job.id, Job.title).where(
        Job.id.in_([a.job_id for a in group]))}
    reconcile.open_issue(
        "booking", "booking:" + ",".join(a.id for a in group)[:180], worker.id_hash,
        [a.station for a in group],
        {"assignments": [{"id": a.id, "station": a.station, "job_id": a.job_id,
                          "job_title": jobs.get(a.job_id), "starts_at": str(a.starts_at),
                          "ends_at": str(a.ends_at)} for a in group]},
    )
