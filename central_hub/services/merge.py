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

from peewee import fn

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
    """Record and apply a verified run of entries; returns how many changed a record.

    Set-based: the batch's records are read in one query per kind, merged in memory entry by
    entry (order matters within a batch), then written back with one insert per kind plus one
    update per changed existing record.
    """
    now = clock.now()
    db.insert_rows(AppliedEntry, [
        {"station": station.id, "epoch": a.entry.epoch, "seq": a.entry.seq, "entry_hash": a.hash,
         "entity": a.entry.entity, "entity_id": a.entry.entity_id, "op": a.entry.op,
         "hlc": a.entry.hlc_wall, "applied_at": now}
        for a in accepted
    ])
    entries = [a.entry for a in accepted if a.entry.entity in REPLICATED]
    if not entries:
        return 0
    batch = _Batch(station.id, entries)
    changed = sum(batch.apply(e) for e in entries)
    batch.write()
    _check_identities(station.id, batch.touched("worker"))
    _check_bookings(station.id, batch.touched("assignment"))
    return changed


class _Batch:
    """The records one batch touches, loaded once, merged in memory, written once."""

    def __init__(self, station_id: str, entries: list[Any]) -> None:
        self.station_id = station_id
        self.rows: dict[tuple[str, str], dict[str, Any]] = {}
        self.new: set[tuple[str, str]] = set()
        self.dirty: set[tuple[str, str]] = set()
        self.watch: dict[str, set[str]] = {"worker": set(), "assignment": set()}
        wanted: dict[str, set[str]] = {}
        for e in entries:
            wanted.setdefault(e.entity, set()).add(e.entity_id)
        for entity, ids in wanted.items():
            model = REPLICATED[entity]
            for row in db.locked(model.select(model.id, model.station, model.data, model.stamps)
                                 .where(model.id.in_(sorted(ids))).order_by(model.id)):
                self.rows[(entity, row.id)] = {"station": row.station, "data": row.data,
                                               "stamps": row.stamps, "deleted": False}
        job_ids = {str(e.fields.get("job_id")) for e in entries
                   if e.entity == "assignment" and e.op == "create"} - wanted.get("job", set())
        self.job_owner = {j.id: j.station for j in Job.select(Job.id, Job.station).where(
            Job.id.in_(sorted(job_ids)))} if job_ids else {}

    def apply(self, e: Any) -> int:
        """Merge one entry into the batch's records."""
        key = (e.entity, e.entity_id)
        stamp = [e.hlc_wall, e.hlc_counter, e.origin]
        row = self.rows.get(key)
        if row is None:
            if e.op == "delete":
                return _ignore(self.station_id, e, "unknown_record")
            if e.entity == "assignment":
                owner = self._job_owner(str(e.fields.get("job_id")))
                if owner is not None and owner != self.station_id:
                    return _ignore(self.station_id, e, "not_job_owner")
            data = dict(e.fields)
            self.rows[key] = {"station": self.station_id, "data": data,
                              "stamps": dict.fromkeys(data, stamp), "deleted": False}
            self.new.add(key)
        else:
            if e.entity in OWNER_ONLY and row["station"] != self.station_id:
                return _ignore(self.station_id, e, "not_owner")
            if e.op == "delete":
                row["deleted"] = True
            for name, value in e.fields.items():
                _merge_field(e.entity, e.entity_id, name, value, stamp, row["data"], row["stamps"])
            self.dirty.add(key)
        if e.entity == "worker" and (e.op == "create" or "id_hash" in e.fields):
            self.watch["worker"].add(e.entity_id)
        elif e.entity == "assignment" and (e.op == "create" or _BOOKING_FIELDS & set(e.fields)):
            self.watch["assignment"].add(e.entity_id)
        return 1

    def _job_owner(self, job_id: str) -> str | None:
        row = self.rows.get(("job", job_id))
        return row["station"] if row is not None else self.job_owner.get(job_id)

    def write(self) -> None:
        """Insert the new records (one statement per kind) and update the changed ones."""
        received = clock.now()
        for entity, model in REPLICATED.items():
            fresh = [
                {"id": eid, "station": row["station"], "data": row["data"], "stamps": row["stamps"],
                 "deleted": row["deleted"], "received_at": received,
                 "created_at": parse_time(row["data"].get(_CREATED[entity])),
                 **_defaults(entity, row["data"])}
                for (kind, eid), row in self.rows.items() if kind == entity and (kind, eid) in self.new
            ]
            db.insert_rows(model, fresh)
        for entity, eid in sorted(self.dirty - self.new):
            row, model = self.rows[(entity, eid)], REPLICATED[entity]
            model.update(data=row["data"], stamps=row["stamps"], deleted=row["deleted"],
                         **_columns(entity, row["data"])).where(model.id == eid).execute()

    def touched(self, entity: str) -> list[str]:
        """Ids of `entity` records whose identity or booking may have changed."""
        return sorted(self.watch[entity])


def _defaults(entity: str, data: dict[str, Any]) -> dict[str, Any]:
    """Every query column of a new row (absent fields get the column's default)."""
    fields = REPLICATED[entity]._meta.fields
    given = _columns(entity, data)
    return {col: given[col] if col in given else fields[col].default for col in _COLUMNS[entity]}


def _ignore(station_id: str, e: Any, reason: str) -> int:
    Ignored.create(station=station_id, seq=e.seq, entity=e.entity, entity_id=e.entity_id,
                   reason=reason, at=clock.now())
    return 0


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


def _lock_persons(id_hashes: list[str], masked: dict[str, Any]) -> None:
    """Create and lock the person rows (sorted, so two hub processes never deadlock)."""
    rows = [{"id_hash": h, "id_masked": masked.get(h, {}).get("id_masked"),
             "id_sealed": masked.get(h, {}).get("id_sealed"), "created_at": clock.now()}
            for h in id_hashes]
    db.insert_rows(Person, rows)
    list(db.locked(Person.select(Person.id_hash).where(Person.id_hash.in_(id_hashes))
                   .order_by(Person.id_hash)).tuples())


def _check_identities(station_id: str, worker_ids: list[str]) -> None:
    """The same keyed ID hash at another station: propose a merge."""
    if not worker_ids:
        return
    mine = dict(Worker.select(Worker.id_hash, Worker.data).where(
        Worker.id.in_(worker_ids) & Worker.id_hash.is_null(False)).tuples())
    if not mine:
        return
    hashes = sorted(mine)
    _lock_persons(hashes, mine)
    shared = [h for h, n in Worker.select(Worker.id_hash, fn.COUNT(fn.DISTINCT(Worker.station)))
              .where(Worker.id_hash.in_(hashes) & ~Worker.deleted).group_by(Worker.id_hash)
              .tuples() if n > 1]
    same: dict[str, list[Worker]] = {}
    if shared:
        for w in Worker.select().where(Worker.id_hash.in_(shared) & ~Worker.deleted).order_by(
                Worker.station, Worker.id):
            same.setdefault(w.id_hash, []).append(w)
    for id_hash, workers in same.items():
        stations = sorted({w.station for w in workers})
        reconcile.open_issue(
            "merge", f"merge:{id_hash}:{','.join(stations)}", id_hash, stations,
            {"workers": [{"id": w.id, "station": w.station, "name": w.name,
                          "id_masked": w.data.get("id_masked")} for w in workers]},
        )


def _overlaps(a: Assignment, b: Assignment) -> bool:
    if None in (a.starts_at, a.ends_at, b.starts_at, b.ends_at):
        return False
    return a.starts_at < b.ends_at and b.starts_at < a.ends_at


def _check_bookings(station_id: str, assignment_ids: list[str]) -> None:
    """One person booked into overlapping jobs at two stations: a booking conflict."""
    if not assignment_ids:
        return
    bookings = list(Assignment.select().where(Assignment.id.in_(assignment_ids)))
    hashes = {w.id: w.id_hash for w in Worker.select(Worker.id, Worker.id_hash).where(
        Worker.id.in_(sorted({b.worker_id for b in bookings})))}
    for b in bookings:
        if hashes.get(b.worker_id) and b.id_hash != hashes[b.worker_id]:
            b.id_hash = hashes[b.worker_id]
            Assignment.update(id_hash=b.id_hash).where(Assignment.id == b.id).execute()
    active = [b for b in bookings if b.id_hash and b.status in ACTIVE_BOOKINGS]
    if not active:
        return
    people = sorted({b.id_hash for b in active})
    _lock_persons(people, {})
    others: dict[str, list[Assignment]] = {}
    for o in Assignment.select().where(
            Assignment.id_hash.in_(people) & (Assignment.station != station_id)
            & Assignment.status.in_(ACTIVE_BOOKINGS) & ~Assignment.deleted):
        others.setdefault(o.id_hash, []).append(o)
    for booking in active:
        clashes = [o for o in others.get(booking.id_hash, []) if _overlaps(booking, o)]
        if clashes:
            _open_booking(booking.id_hash, [booking, *clashes])


def _open_booking(id_hash: str, group: list[Assignment]) -> None:
    group = sorted(group, key=lambda a: a.id)
    jobs = {j.id: j.title for j in Job.select(Job.id, Job.title).where(
        Job.id.in_([a.job_id for a in group]))}
    reconcile.open_issue(
        "booking", "booking:" + ",".join(a.id for a in group)[:180], id_hash,
        [a.station for a in group],
        {"assignments": [{"id": a.id, "station": a.station, "job_id": a.job_id,
                          "job_title": jobs.get(a.job_id), "starts_at": str(a.starts_at),
                          "ends_at": str(a.ends_at)} for a in group]},
    )
