"""Applying accepted station entries to the hub's records, by kind of data (SYNC.md rule 8):

- what wins is sync_protocol.merge's to say (`wins`, `written`, `takes`, `is_conflict`, the rules
  its property tests prove); this module only stores it. Per field the highest rank wins (hub
  first, HLC, station); a delete is the field ``~deleted`` (a create sets it false), merged the
  same way, so a later re-create stands and a delete the hub hears of first is kept as a
  tombstone; the loser is kept (FieldLoss) and queued when `is_conflict` says so;
- city block rules hold on every employer record a batch touches (`services.city_blocks`): a
  station's create or unblock is outranked by the hub, never queued, and told the rule again;
- jobs and assignments: only the station that posted the job (and the hub) change them; a
  change to one the hub has not seen created is ignored (`unknown_record`);
- the same keyed ID hash at two stations, one person booked into overlapping jobs at two
  stations: see `services.people`.

Set-based, inside the ingest transaction: a batch's records are read in one query per kind
(locked on PostgreSQL, in id order), merged in memory entry by entry (order matters within a
batch), then written with one multi-row insert per kind for new records and one batched update
per kind for changed ones. Each record's JSON is encoded once per batch, never per field.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from central_hub import db, signing
from central_hub.models import REPLICATED, AppliedEntry, FieldLoss, Ignored
from central_hub.services import city_blocks, citystats, people, reconcile
from central_hub.states import IssueKind
from kuaigong import clock
from kuaigong.states import BOOKED_ASSIGNMENTS
from sync_protocol import merge as rules
from sync_protocol.merge import DELETED, OWNED, Version

_BOOKING_FIELDS = {"status", "starts_at", "ends_at", "worker_id"}
# Columns kept beside `data` so the city view can query them: column -> (field, type).
_COLUMNS: dict[str, dict[str, str]] = {
    "worker": {"id_hash": "str", "name": "str", "status": "str", "priority_groups": "codes"},
    "employer": {
        "kind": "str",
        "name": "str",
        "credit_code": "str",
        "id_hash": "str",
        "blocked": "bool",
    },
    "job": {
        "title": "str",
        "category": "str",
        "status": "str",
        "headcount": "int",
        "posted_at": "time",
        "dispatch_started_at": "time",
        "filled_at": "time",
        "starts_at": "time",
        "ends_at": "time",
        "confirmed_count": "int",
    },
    "assignment": {
        "job_id": "str",
        "worker_id": "str",
        "status": "str",
        "starts_at": "time",
        "ends_at": "time",
        "confirmed_at": "time",
        "pay_fen": "int",
        "paid_at": "time",
    },
    "complaint": {"kind": "str", "status": "str", "resolved_at": "time"},
}
_CREATED = {
    "worker": "created_at",
    "employer": "created_at",
    "job": "posted_at",
    "assignment": "confirmed_at",
    "complaint": "created_at",
}
ALL_FIELDS = "*"  # in stored stamps: the stamp of every field without one of its own
_BASE = ("id", "station", "data", "stamps", "deleted", "created_at", "received_at")
_ENCODE = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode
_DECODE = json.JSONDecoder().decode
_APPLIED_COLUMNS = tuple(
    AppliedEntry._meta.fields[name].column_name
    for name in (
        "station",
        "epoch",
        "seq",
        "entry_hash",
        "entity",
        "entity_id",
        "op",
        "hlc",
        "applied_at",
    )
)


def parse_time(value: Any) -> dt.datetime | None:
    """A change-log time ("2026-05-01T08:00:00Z") as naive UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        if value[-1] == "Z":  # the change log's own form: UTC, read as naive at once
            parsed = dt.datetime.fromisoformat(value[:-1])
            return parsed if parsed.tzinfo is None else None  # "…+08:00Z" is no time
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is not None:
        offset = parsed.utcoffset()
        parsed = (parsed - offset if offset else parsed).replace(tzinfo=None)
    return parsed


def _cast(kind: str, value: Any) -> Any:
    if kind == "time":
        return parse_time(value)
    if kind == "int":
        return value if isinstance(value, int) and not isinstance(value, bool) else 0
    if kind == "bool":
        return bool(value)
    if kind == "codes":  # a list of codes, kept as ",a,b," for LIKE '%,a,%'
        codes = sorted(str(v) for v in value) if isinstance(value, list) else []
        return ",".join(["", *codes, ""]) if codes else None
    return None if value is None else str(value)[:200]


def _time_value(value: Any, sqlite: bool) -> Any:
    """A change-log time as the engine stores it (text on SQLite), or None."""
    parsed = parse_time(value)
    return str(parsed) if sqlite and parsed is not None else parsed


def _extra_columns(entity: str) -> tuple[str, ...]:
    return (*_COLUMNS[entity], *_DERIVED.get(entity, ()))


def fill_seconds(data: dict[str, Any]) -> int | None:
    """A job's whole seconds from the start of dispatch (else posting) to full, or None."""
    filled = parse_time(data.get("filled_at"))
    start = parse_time(data.get("dispatch_started_at")) or parse_time(data.get("posted_at"))
    if filled is None or start is None:
        return None
    return max(0, int((filled - start).total_seconds()))


# Columns a batch derives rather than copies: an assignment's person, a job's fill seconds.
_DERIVED = {"assignment": ("id_hash",), "job": ("fill_seconds",)}


# Each query column of a new row takes the model's default when the entry does not name it.
_DEFAULTS = {
    entity: {col: REPLICATED[entity]._meta.fields[col].default for col in _COLUMNS[entity]}
    for entity in REPLICATED
}


def store_decided_value(
    entity: str, entity_id: str, name: str, value: Any, stamp: list[Any]
) -> bool:
    """Store an admin's decided value of one field as the hub's own (its data, its stamp and
    the query column it feeds); False when the hub holds no such record."""
    model = REPLICATED.get(entity)
    row = model.get_or_none(model.id == entity_id) if model is not None else None
    if model is None or row is None:
        return False
    changes: dict[str, Any] = {
        "data": dict(row.data, **{name: value}),
        "stamps": dict(row.stamps, **{name: stamp}),
    }
    if name in _COLUMNS[entity]:
        changes[name] = _cast(_COLUMNS[entity][name], value)
    model.update(**changes).where(model.id == entity_id).execute()
    citystats.refresh_stations(_figure_stations(entity, [(entity_id, row.station)]))
    return True


def refresh_figures(entity: str, ids: list[str]) -> None:
    """Count the city figures again after the hub itself changed these records."""
    model = REPLICATED[entity]
    rows = model.select(model.id, model.station).where(model.id.in_(ids)).tuples()
    citystats.refresh_stations(_figure_stations(entity, [(str(i), str(s)) for i, s in rows]))


def _figure_stations(entity: str, records: list[tuple[str, str]]) -> set[str]:
    """Stations whose city figures change with these (id, station) records of a kind: their
    own, and for jobs and workers those of the assignments that count their sector and
    priority groups."""
    if entity not in citystats.FIGURE_KINDS:
        return set()
    stations = {station for _id, station in records}
    if entity in ("job", "worker"):
        stations |= citystats.stations_of("assignment", f"{entity}_id", [i for i, _s in records])
    return stations


def fields_text(raw: bytes) -> str | None:
    """The JSON text of an entry's `fields`, cut from its verified canonical bytes.

    Canonical entries are sorted-key compact JSON (docs/sync-protocol.md): `"fields":` is the
    first such key and `,"hlc":[` follows the object; no string value can hold either with bare
    quotes. Whatever does not look like that returns None and is encoded instead.
    """
    start, end = raw.find(b'"fields":{'), raw.rfind(b'},"hlc":[')
    if start < 0 or end < start:
        return None
    return raw[start + 9 : end + 1].decode("utf-8")


def field_stamps(data: dict[str, Any], stored: dict[str, Any]) -> dict[str, Any]:
    """The per-field stamps of a record from their stored form ({"*": stamp} covers every field
    that has no stamp of its own)."""
    if ALL_FIELDS not in stored:
        return stored
    stamps = dict.fromkeys(data, stored[ALL_FIELDS])
    stamps.update((k, v) for k, v in stored.items() if k != ALL_FIELDS)
    return stamps


class Record:
    """One replicated record as a batch sees it; `text` is its data's JSON while one create
    entry alone wrote it (the entry's own bytes), else None."""

    __slots__ = ("data", "deleted", "id_hash", "new", "stamp", "stamps", "station", "text")

    def __init__(
        self,
        station: str,
        data: dict[str, Any],
        stamps: dict[str, Any],
        deleted: bool,
        new: bool,
        id_hash: str | None = None,
    ) -> None:
        self.station, self.data, self.stamps = station, data, stamps
        self.deleted, self.new, self.id_hash = deleted, new, id_hash
        self.text: str | None = None
        self.stamp: list[Any] | None = None


def apply_entries(station: Any, accepted: Any) -> int:
    """Record and apply a verified run of entries; returns how many changed a record."""
    now = clock.now()
    stamp = db.dbtime(now)
    db.insert_values(
        AppliedEntry._meta.table_name,
        _APPLIED_COLUMNS,
        [
            (station.id, e.epoch, e.seq, a.hash, e.entity, e.entity_id, e.op, e.hlc_wall, stamp)
            for a in accepted
            for e in (a.entry,)
        ],
    )
    entries = [a for a in accepted if a.entry.entity in REPLICATED]
    if not entries:
        return 0
    batch = Batch(station.id, [a.entry for a in entries], now)
    changed = sum(batch.apply(a.entry, a.raw) for a in entries)
    batch.resolve_booking_people()
    restate = batch.hold_city_blocks()
    batch.write()
    people.check_identities(station.id, batch.identities())
    people.check_bookings(station.id, batch.bookings())
    citystats.refresh_stations(batch.figure_stations())
    if restate:  # last: the hub-log head is the last lock an ingest takes
        city_blocks.restate(restate, station.id)
    return changed


class Batch:
    """The records one batch touches, loaded once, merged in memory, written once."""

    def __init__(self, station_id: str, entries: list[Any], now: dt.datetime) -> None:
        self.station_id, self.now, self.hub = station_id, now, signing.hub_id()
        self.rows: dict[tuple[str, str], Record] = {}
        self.dirty: set[tuple[str, str]] = set()
        self.watch: dict[str, set[str]] = {"worker": set(), "assignment": set()}
        self.losses: list[dict[str, Any]] = []
        self.ignored: list[dict[str, Any]] = []
        self.unblocks: dict[str, tuple[list[Any], Any]] = {}  # employer -> a station's unblock
        wanted: dict[str, set[str]] = {}
        for e in entries:
            wanted.setdefault(e.entity, set()).add(e.entity_id)
        for entity in REPLICATED:  # a fixed order of kinds and ids: row locks never deadlock
            if entity in wanted:
                self._load(entity, sorted(wanted[entity]))
        job_ids = sorted(
            {
                str(e.fields.get("job_id"))
                for e in entries
                if e.entity == "assignment" and e.op == "create"
            }
            - wanted.get("job", set())
        )
        self.job_owner = (
            dict(db.fetch_in('SELECT "id", "station" FROM "job" WHERE {in}', "id", job_ids))
            if job_ids
            else {}
        )

    def _load(self, entity: str, ids: list[str]) -> None:
        model = REPLICATED[entity]
        extra = ', "id_hash"' if entity == "assignment" else ""
        sql = (
            f'SELECT "id", "station", "data", "stamps", "deleted"{extra} '
            f'FROM "{model._meta.table_name}" WHERE {{in}} ORDER BY "id"'
        )
        for row in db.fetch_in(sql, "id", ids, lock=True):
            data, stored = _DECODE(row[2]), _DECODE(row[3])
            stamps = field_stamps(data, stored)
            deleted_stamp = stored.get(DELETED) or stored.get(ALL_FIELDS)
            if deleted_stamp is not None:  # one stamp of the record's create covers "~deleted"
                stamps[DELETED] = deleted_stamp
            self.rows[(entity, row[0])] = Record(
                row[1], data, stamps, bool(row[4]), False, row[5] if extra else None
            )

    def apply(self, e: Any, raw: bytes = b"") -> int:
        """Merge one entry (and its canonical bytes) into the batch's records."""
        key = (e.entity, e.entity_id)
        stamp = [e.hlc_wall, e.hlc_counter, e.origin]
        rec = self.rows.get(key)
        if rec is None:
            if e.entity in OWNED and e.op != "create" and e.origin != self.hub:
                return self._ignore(e, "unknown_record")
            if e.op == "delete":  # a tombstone: an older create heard later stays deleted
                rec = self.rows[key] = Record(self.station_id, {}, {DELETED: stamp}, True, True)
                return 1
            if e.entity == "assignment":
                owner = self._job_owner(str(e.fields.get("job_id")))
                if owner is not None and owner != self.station_id:
                    return self._ignore(e, "not_job_owner")
            # Written by this one entry so far: its fields and one stamp stand for the record
            # (copied only if a later entry of the batch merges into it).
            if e.op != "create":  # an update says nothing of "~deleted": stamp its fields only
                self.rows[key] = Record(
                    self.station_id, dict(e.fields), dict.fromkeys(e.fields, stamp), False, True
                )
            else:
                rec = self.rows[key] = Record(self.station_id, e.fields, {}, False, True)
                rec.text, rec.stamp = fields_text(raw), stamp
        else:
            if not rules.takes(e.entity, e.origin, rec.station, self.hub):
                return self._ignore(e, "not_owner")
            self._expand(rec)
            for name, value in rules.written(rules.change_of(e)).items():
                self._merge_field(e.entity, e.entity_id, name, value, stamp, rec)
            if not rec.new:
                self.dirty.add(key)
            if e.entity == "employer" and e.fields.get("blocked") is False and e.origin != self.hub:
                self.unblocks[e.entity_id] = (stamp, e.fields.get("block_reason"))
        if e.entity == "worker" and (e.op == "create" or "id_hash" in e.fields):
            self.watch["worker"].add(e.entity_id)
        elif e.entity == "assignment" and (
            e.op == "create" or not _BOOKING_FIELDS.isdisjoint(e.fields)
        ):
            self.watch["assignment"].add(e.entity_id)
        return 1

    def _job_owner(self, job_id: str) -> str | None:
        rec = self.rows.get(("job", job_id))
        return rec.station if rec is not None else self.job_owner.get(job_id)

    def _ignore(self, e: Any, reason: str) -> int:
        self.ignored.append(
            {
                "station": self.station_id,
                "seq": e.seq,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "reason": reason,
                "at": self.now,
            }
        )
        return 0

    def _merge_field(
        self, entity: str, entity_id: str, name: str, value: Any, stamp: list[Any], rec: Record
    ) -> None:
        """Store what sync_protocol.merge says wins for one field; keep a conflicting loser."""
        shown = rec.deleted if name == DELETED else rec.data.get(name)
        current = rec.stamps.get(name)
        incoming = Version(value, *stamp)
        old = None if current is None else Version(shown, *current)
        winner: Version | None
        loser: Version | None
        if rules.wins(incoming, old, self.hub):
            if name == DELETED:
                rec.deleted = bool(value)
            else:
                rec.data[name] = value
            rec.stamps[name] = stamp
            winner, loser = incoming, old
        else:
            winner, loser = old, incoming
        if winner is None or loser is None or name == DELETED:
            return  # a delete or re-create against an edit is no admin's question
        decided = entity == "employer" and name in city_blocks.BLOCK_FIELDS
        if not rules.is_conflict(winner, loser, self.hub, decided=decided):
            return
        self.losses.append(
            {
                "entity": entity,
                "entity_id": entity_id,
                "field": name,
                "winner_value": winner.value,
                "winner_station": winner.origin,
                "winner_hlc": winner.hlc_wall,
                "loser_value": loser.value,
                "loser_station": loser.origin,
                "loser_hlc": loser.hlc_wall,
                "loser_counter": loser.hlc_counter,
            }
        )

    def hold_city_blocks(self) -> dict[int, city_blocks.Block]:
        """Keep the city's blocks on the employers of this batch as the hub's decision; returns
        the rules to tell the pushing station again (it tried to unblock what they block)."""
        touched = [
            (eid, rec)
            for (kind, eid), rec in self.rows.items()
            if kind == "employer" and (rec.new or (kind, eid) in self.dirty)
        ]
        blocks = city_blocks.active_blocks() if touched else []
        restate: dict[int, city_blocks.Block] = {}
        for eid, rec in touched:
            block = city_blocks.block_for(rec.data, blocks)
            tried = self.unblocks.get(eid)
            stamps = rec.stamps if rec.stamp is None else {"*": rec.stamp}
            if block is None:
                if tried is not None and city_blocks.held(rec.data, stamps):
                    # No rule blocks it any more: the station's later unblock stands.
                    self._expand(rec)
                    rec.data.update(blocked=False, block_reason=tried[1])
                    rec.stamps.update(blocked=tried[0], block_reason=tried[0])
                    if not rec.new:
                        self.dirty.add(("employer", eid))
                continue
            if tried is not None:
                restate[block.rule_id] = block
            if not city_blocks.held(rec.data, stamps):
                self._expand(rec)
                stamp = city_blocks.hub_stamp()
                already = rec.data.get("blocked") is True  # its station's own block: keep its words
                rec.data.update(
                    blocked=True,
                    block_reason=rec.data.get("block_reason") if already else block.reason,
                )
                rec.stamps.update(blocked=stamp, block_reason=stamp)
                if not rec.new:
                    self.dirty.add(("employer", eid))
        return restate

    @staticmethod
    def _expand(rec: Record) -> None:
        """Give a record one entry wrote alone its own data and per-field stamps."""
        if rec.stamp is not None:
            rec.data, rec.stamps = dict(rec.data), dict.fromkeys((*rec.data, DELETED), rec.stamp)
            rec.text = rec.stamp = None

    def resolve_booking_people(self) -> None:
        """Give each booking the keyed ID hash of its worker (from this batch or the hub)."""
        watched = [self.rows[("assignment", a)] for a in sorted(self.watch["assignment"])]
        wanted = {str(r.data.get("worker_id")) for r in watched if r.data.get("worker_id")}
        hashes: dict[str, Any] = {}
        for wid in wanted:
            worker = self.rows.get(("worker", wid))
            if worker is not None:
                hashes[wid] = worker.data.get("id_hash")
        rest = sorted(wanted - set(hashes))
        if rest:
            hashes.update(
                db.fetch_in('SELECT "id", "id_hash" FROM "worker" WHERE {in}', "id", rest)
            )
        for rec in watched:
            found = hashes.get(str(rec.data.get("worker_id")))
            if found:
                rec.id_hash = str(found)

    def write(self) -> None:
        """Insert the new records (one statement per kind), update the changed ones, and store
        the field losses, their queue items and the ignored entries."""
        sqlite = db.is_sqlite()
        received = db.dbtime(self.now)
        by_kind: dict[str, list[tuple[str, Record]]] = {}
        for (kind, eid), rec in self.rows.items():
            if rec.new or (kind, eid) in self.dirty:
                by_kind.setdefault(kind, []).append((eid, rec))
        origins: dict[str, str] = {}
        for entity, recs in by_kind.items():
            cols, created = _extra_columns(entity), _CREATED[entity]
            plan = [(c, t, _DEFAULTS[entity][c]) for c, t in _COLUMNS[entity].items()]
            fresh, changed = [], []
            for eid, rec in recs:
                data = rec.data
                values = [
                    (_time_value(data[c], sqlite) if t == "time" else _cast(t, data[c]))
                    if c in data
                    else default
                    for c, t, default in plan
                ]
                if entity == "assignment":
                    values.append(rec.id_hash)
                elif entity == "job":
                    values.append(fill_seconds(data))
                if not rec.new:
                    changed.append((_ENCODE(data), _ENCODE(rec.stamps), rec.deleted, *values, eid))
                    continue
                if rec.stamp is not None:  # one entry wrote every field: {"*": stamp}
                    wall, counter, origin = rec.stamp
                    if origin not in origins:
                        origins[origin] = _ENCODE(origin)
                    stamps = f'{{"{ALL_FIELDS}":[{int(wall)},{int(counter)},{origins[origin]}]}}'
                else:
                    stamps = _ENCODE(rec.stamps)
                fresh.append(
                    (
                        eid,
                        rec.station,
                        rec.text or _ENCODE(data),
                        stamps,
                        rec.deleted,
                        _time_value(data.get(created), sqlite),
                        received,
                        *values,
                    )
                )
            table = REPLICATED[entity]._meta.table_name
            db.insert_values(table, (*_BASE, *cols), fresh)
            db.update_values(table, "id", ("data", "stamps", "deleted", *cols), changed)
        if self.ignored:
            Ignored.insert_many(self.ignored).execute()
        if self.losses:
            self._write_losses()

    def _write_losses(self) -> None:
        FieldLoss.insert_many(
            [
                {k: v for k, v in loss.items() if k != "loser_counter"} | {"at": self.now}
                for loss in self.losses
            ]
        ).execute()
        reconcile.open_issues(
            [
                (
                    IssueKind.FIELD,
                    f"field:{x['entity']}:{x['entity_id']}:{x['field']}:{x['loser_station']}:"
                    f"{x['loser_hlc']}:{x['loser_counter']}",
                    x["entity_id"],
                    [x["winner_station"], x["loser_station"]],
                    {k: v for k, v in x.items() if k != "loser_counter"},
                )
                for x in self.losses
            ]
        )

    def figure_stations(self) -> set[str]:
        """Stations whose city figures the written records change."""
        written: dict[str, list[tuple[str, str]]] = {}
        for (kind, eid), rec in self.rows.items():
            if rec.new or (kind, eid) in self.dirty:
                written.setdefault(kind, []).append((eid, rec.station))
        return set().union(*(_figure_stations(k, recs) for k, recs in written.items()))

    def identities(self) -> dict[str, dict[str, Any]]:
        """Keyed ID hash → the worker's data, for live workers whose identity may be new."""
        out: dict[str, dict[str, Any]] = {}
        for wid in sorted(self.watch["worker"]):
            rec = self.rows[("worker", wid)]
            id_hash = _cast("str", rec.data.get("id_hash"))
            if id_hash and not rec.deleted:
                out[id_hash] = rec.data
        return out

    def bookings(self) -> list[people.Booking]:
        """The live bookings of this batch whose person or times may have changed."""
        out = []
        for aid in sorted(self.watch["assignment"]):
            rec = self.rows[("assignment", aid)]
            if rec.id_hash and not rec.deleted and rec.data.get("status") in BOOKED_ASSIGNMENTS:
                out.append(
                    people.Booking(
                        aid,
                        rec.station,
                        str(rec.data.get("job_id")),
                        rec.id_hash,
                        parse_time(rec.data.get("starts_at")),
                        parse_time(rec.data.get("ends_at")),
                    )
                )
        return out
