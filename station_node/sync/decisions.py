"""Applying the hub-signed log here: city rules, merge, booking and field decisions, epoch resets.

Each verified hub entry is applied in one transaction together with its HubEntry row (so it
is applied once), through the station's services, with the change-log origin set to the hub.
While the log is behind the hub's receipt (restored backup) only our epoch reset is applied;
the rest waits ("deferred") and is applied right after the reset.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from flask import current_app

import sync_protocol as sp
from kuaigong.errors import KuaigongError
from kuaigong.states import AssignmentStatus
from station_node import changelog, db
from station_node import station_state as state
from station_node.hub_records import CityRule, HubEntry
from station_node.models import Assignment, Employer, Staff, Worker
from station_node.services import assignments, registration
from station_node.sync import outbox

# What applying a hub entry did here, the first word of its stored outcome (see `_did`).
APPLIED, NOTHING_HERE, NOT_OURS, REFUSED, DEFERRED = (
    "applied",
    "nothing_here",
    "not_ours",
    "refused",
    "deferred",
)
OUTCOMES = (APPLIED, NOTHING_HERE, NOT_OURS, REFUSED, DEFERRED)


def _did(code: str, detail: str) -> str:
    """An outcome to store: its code, then what exactly happened (for whoever reads the row)."""
    return f"{code}: {detail}"


def hub_actor() -> Staff:
    """The hub acting through the station's services (not a stored account)."""
    return Staff(username="hub", display_name="市级中心", role="admin", active=True)


def hub_head(hub: str) -> sp.ChainHead:
    """How far we hold the hub's log."""
    last = HubEntry.select().order_by(HubEntry.seq.desc()).first()
    if last is None:
        return sp.ChainHead(hub)
    return sp.ChainHead(hub, 1, last.seq, last.entry_hash)


def hash_at(epoch: int, seq: int) -> str | None:
    """The hash of hub-log entry `seq` we hold (for verifying replays)."""
    row = HubEntry.get_or_none(HubEntry.seq == seq)
    return row.entry_hash if row else None


def _concerns(fields: dict[str, Any], station: str) -> bool:
    targets = fields.get("targets")
    return not targets or station in targets


def apply_entry(item: sp.AcceptedEntry, blocked: bool) -> str:
    """Apply one verified hub entry (once); returns what it did here."""
    e = item.entry
    enr = state.enrolment()
    assert enr is not None
    with db.atomic():
        if HubEntry.get_or_none(HubEntry.seq == e.seq) is not None:
            return "replay"
        is_reset = (
            e.entity == "station"
            and e.entity_id == enr.station_id
            and e.fields.get("decision") == "reset_epoch"
        )
        if blocked and not is_reset:
            outcome = DEFERRED
        else:
            outcome = _effect(e, enr.station_id, enr.hub_id)
        HubEntry.create(
            seq=e.seq,
            entry_hash=item.hash,
            entity=e.entity,
            entity_id=e.entity_id,
            op=e.op,
            fields=e.fields,
            outcome=outcome[:200],
        )
    return outcome


def run_deferred() -> int:
    """Apply hub entries that waited while the log was blocked; returns how many."""
    enr = state.enrolment()
    assert enr is not None
    done = 0
    for row in HubEntry.select().where(HubEntry.outcome == DEFERRED).order_by(HubEntry.seq):
        entry = sp.make_entry(
            station=enr.hub_id,
            epoch=1,
            seq=row.seq,
            prev_hash=None,
            hlc=(0, 0),
            entity=row.entity,
            entity_id=row.entity_id,
            op=row.op,
            fields=row.fields,
            origin=enr.hub_id,
        )
        with db.atomic():
            outcome = _effect(entry, enr.station_id, enr.hub_id)
            HubEntry.update(outcome=outcome[:200]).where(HubEntry.seq == row.seq).execute()
        done += 1
    return done


def _effect(e: sp.Entry, station: str, hub: str) -> str:
    if not _concerns(e.fields, station):
        return _did(NOT_OURS, "not for this station")
    try:
        with changelog.relaying(hub):
            return _dispatch(e, station)
    except KuaigongError as exc:
        return _did(REFUSED, f"skipped, {exc.code}")


def _dispatch(e: sp.Entry, station: str) -> str:
    f = e.fields
    if e.entity == "evaluation":  # kept as its HubEntry row, read by `evaluations`
        return _did(APPLIED, f"evaluation {f.get('year')} received")
    if e.entity == "city_rule":
        return _city_rule(e)
    if e.entity == "assignment" and f.get("kind") == "booking":
        return _booking(f)
    if e.entity == "person" and f.get("kind") == "merge":
        return _merge(e.entity_id, f)
    if f.get("kind") == "field":
        return _field(e)
    if e.entity == "station" and e.entity_id == station:
        return _station(f)
    if e.entity == "station_key" and f.get("station") == station:
        if e.op == "revoke":
            state.update_status(
                key_revoked={"reason": f.get("reason"), "after_seq": f.get("after_seq")}
            )
            return _did(APPLIED, "our key revoked")
        return _did(NOTHING_HERE, "key registered")
    return _did(NOTHING_HERE, "noted")


def _city_rule(e: sp.Entry) -> str:
    f = e.fields
    if e.op == "delete":
        CityRule.update(active=False).where(CityRule.id == e.entity_id).execute()
        return _did(APPLIED, "rule withdrawn")
    CityRule.insert(
        id=e.entity_id, kind=str(f.get("kind")), body=f, active=True, hub_seq=e.seq
    ).on_conflict_replace().execute()
    if f.get("kind") in ("blocked_employer", "blocked_intermediary"):
        return _block_employers(f)
    if f.get("kind") == "screening_phrase":
        return _did(APPLIED, "rule stored, screening uses the phrase from now on")
    return _did(APPLIED, "rule stored")


def _block_employers(f: dict[str, Any]) -> str:
    """Block the employers held here whose credit code or keyed ID hash the rule names; their
    live jobs are held at once (registration.block_employer)."""

    code = str(f.get("credit_code") or "").strip().upper()
    id_hash = str(f.get("id_hash") or "")
    match = []
    if code:
        match.append(Employer.credit_code == code)
    if id_hash:
        match.append(Employer.id_hash == id_hash)
    if not match:
        return _did(APPLIED, "rule stored")
    named = match[0] if len(match) == 1 else (match[0] | match[1])
    blocked = 0
    for employer in Employer.select(Employer.id).where(named & ~Employer.blocked):
        registration.block_employer(
            employer.id, f"市级规则：{f.get('reason') or ''}"[:200], hub_actor()
        )
        blocked += 1
    return _did(APPLIED, f"rule stored, {blocked} employer(s) blocked")


def _booking(f: dict[str, Any]) -> str:
    cancelled = 0
    for assignment_id in f.get("cancel") or []:
        row = Assignment.get_or_none(Assignment.id == assignment_id)
        if row is None or row.status != AssignmentStatus.CONFIRMED:
            continue
        assignments.cancel_assignment(
            row.id,
            "staff",
            "市级中心裁定：同一人在两个驿站的派工时间冲突，保留另一项派工",
            hub_actor(),
        )
        cancelled += 1
    return _did(
        APPLIED if cancelled else NOTHING_HERE, f"booking decided, {cancelled} cancelled here"
    )


def _merge(id_hash: str, f: dict[str, Any]) -> str:
    """A person decision is shown on the worker's page (`person_decisions`); nothing changes."""
    worker = Worker.get_or_none(Worker.id_hash == id_hash)
    if worker is None:
        return _did(NOTHING_HERE, f"merge {f.get('decision')}, no worker here")
    return _did(APPLIED, f"merge {f.get('decision')}, worker {worker.id}")


# Profile fields a hub decision may set here, through the same checks as the desk's edits.
# Priority groups need the worker's own consent at the desk; counts and status are the
# station's own record of what happened here.
DECIDABLE_WORKER_FIELDS = ("name", "mobile", "skills", "areas", "availability")


def _field(e: sp.Entry) -> str:
    """A field conflict decided at the hub: the decided value stands here too (SYNC.md rule 8)."""

    name = e.fields.get("field")
    if e.entity != "worker" or Worker.get_or_none(Worker.id == e.entity_id) is None:
        return _did(NOTHING_HERE, f"field decided, {e.entity} {e.entity_id} is not held here")
    if name not in DECIDABLE_WORKER_FIELDS:
        return _did(NOTHING_HERE, f"field decided, {name} is not set from the hub")
    registration.update_worker(e.entity_id, {name: e.fields.get("value")}, hub_actor())
    return _did(APPLIED, f"field decided, worker {name} set")


@dataclass(frozen=True)
class PersonDecision:
    """The hub's word on whether the records of one ID number at several stations are one person."""

    confirmed: bool
    note: str
    elsewhere: list[str]  # the other stations' names
    at: datetime.datetime


def person_decisions(worker: Worker) -> list[PersonDecision]:
    """What the hub decided about this worker's ID number at several stations, newest first."""
    enr = state.enrolment()
    ours = enr.station_id if enr is not None else None
    rows = HubEntry.select().where(
        (HubEntry.entity == "person") & (HubEntry.entity_id == worker.id_hash)
    )
    out = []
    for row in rows.order_by(HubEntry.seq.desc()):
        f = row.fields
        elsewhere = [
            str(w.get("station_name") or w.get("station"))
            for w in f.get("workers") or []
            if isinstance(w, dict) and w.get("station") != ours
        ]
        out.append(
            PersonDecision(
                f.get("decision") == "confirm", str(f.get("note") or ""), elsewhere, row.applied_at
            )
        )
    return out


@dataclass(frozen=True)
class Evaluation:
    """The hub's annual evaluation of this station, as last sent (fields: services.evaluation
    `_send` at the hub: score, grade, each indicator with what it lost, the rectification)."""

    year: int
    fields: dict[str, Any]
    received_at: datetime.datetime

    @property
    def deadline(self) -> datetime.datetime | None:
        """The rectification deadline (naive UTC), if the station has a case."""
        case = self.fields.get("case")
        raw = case.get("deadline") if isinstance(case, dict) else None
        if not isinstance(raw, str) or not raw.endswith("Z"):
            return None
        try:
            return datetime.datetime.fromisoformat(raw[:-1])
        except ValueError:
            return None

    @property
    def pulls_down(self) -> list[dict[str, Any]]:
        """The indicators that lost points, the most lost first."""
        lines = [i for i in self.fields.get("indicators") or [] if isinstance(i, dict)]

        def lost(line: dict[str, Any]) -> float:
            try:
                return float(line.get("lost") or 0)
            except ValueError:
                return 0.0

        return sorted((i for i in lines if lost(i) > 0), key=lambda i: -lost(i))


def evaluations() -> list[Evaluation]:
    """The hub's evaluations of this station, the latest of each year, newest year first."""
    latest: dict[int, Evaluation] = {}
    rows = HubEntry.select().where(HubEntry.entity == "evaluation").order_by(HubEntry.seq)
    for row in rows:
        f = row.fields if isinstance(row.fields, dict) else {}
        if isinstance(f.get("year"), int) and outcome_code(row.outcome) == APPLIED:
            latest[f["year"]] = Evaluation(f["year"], f, row.applied_at)
    return [latest[y] for y in sorted(latest, reverse=True)]


def recent(limit: int = 20) -> list[HubEntry]:
    """The hub entries applied here most recently, newest first."""
    return list(HubEntry.select().order_by(HubEntry.seq.desc()).limit(limit))


RULE_KINDS = (
    "blocked_employer",
    "blocked_intermediary",
    "announcement",
    "service_rules",
    "hotline",
    "screening_phrase",
)


def decision_code(row: HubEntry) -> str:
    """What a hub entry is, as a code the console labels (templating.HUB_DECISIONS)."""
    f: dict[str, Any] = row.fields if isinstance(row.fields, dict) else {}
    if row.entity == "city_rule":
        if row.op == "delete":
            return "rule:withdrawn"
        return f"rule:{f['kind']}" if f.get("kind") in RULE_KINDS else "rule:other"
    if row.entity == "station_key":
        return "key:revoked" if row.op == "revoke" else "key:registered"
    if row.entity == "station":
        return (
            f"station:{f.get('decision') or ('unfreeze' if f.get('frozen') is False else 'other')}"
        )
    if f.get("kind") in ("merge", "booking", "field"):
        return f"{f['kind']}:{f.get('decision')}"
    return "other"


def outcome_code(outcome: str) -> str:
    """How applying a hub entry went here: the code its outcome starts with (`_did`)."""
    code = outcome.partition(":")[0]
    return code if code in OUTCOMES else APPLIED


def _station(f: dict[str, Any]) -> str:
    if f.get("decision") == "reset_epoch" and isinstance(f.get("epoch"), int):
        return _reset(f)
    if f.get("frozen") is False or f.get("decision") == "unfreeze":
        state.update_status(rejection=None)
        return _did(APPLIED, "unfrozen")
    return _did(NOTHING_HERE, "noted")


def _reset(f: dict[str, Any]) -> str:
    """The hub signed a new epoch for us: append in it right after what the hub holds."""
    enr = state.enrolment()
    assert enr is not None
    h = outbox.head()
    if int(f["epoch"]) <= h.epoch:
        return _did(NOTHING_HERE, "reset already applied")
    try:
        reset = sp.verify_reset(
            str(f.get("reset") or "").encode(), enr.hub_keys(), enr.hub_id, enr.station_id
        )
    except sp.ProtocolError as exc:
        return _did(REFUSED, f"reset refused, {exc.reason.value}")
    if reset.epoch <= h.epoch:
        return _did(NOTHING_HERE, "reset already applied")
    # Imported here: backup imports client, which imports this module.
    from station_node.sync.backup import carry_into_epoch  # our unsent entries go along

    carried = carry_into_epoch(reset, f)
    state.replace_receipt(
        sp.Receipt(
            enr.station_id,
            reset.epoch,
            reset.base_seq,
            reset.base_hash,
            enr.hub_id,
            reset.hub_seq,
            reset.hub_time,
        )
    )
    floor = (reset.hlc_floor.wall, reset.hlc_floor.counter)
    state.save_acked(None, max(floor, (reset.hub_time, 0)))
    state.update_status(rejection=None, blocked=None)
    current_app.logger.warning(
        "hub reset our log to epoch %s after seq %s", reset.epoch, reset.base_seq
    )
    return _did(APPLIED, f"epoch reset to {reset.epoch}, {carried} entries carried")
