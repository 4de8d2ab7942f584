"""The reconciliation queue: merge proposals, booking conflicts, field conflicts, forks,
rejected batches and stations' integrity alerts. Every decision is an entry in the hub-signed
log for the stations concerned."""

from __future__ import annotations

from typing import Any

from peewee import fn

import sync_protocol as sp
from central_hub import db, signing
from central_hub.models import KINDS, Admin, Assignment, Issue, Station
from central_hub.services import city_blocks, drift, hublog, merge
from central_hub.states import IssueKind, IssueStatus, Role
from kuaigong import clock
from kuaigong.errors import Conflict, FieldErrors, Forbidden, NotFound
from kuaigong.states import AssignmentStatus
from sync_protocol.receipts import EpochReset, sign_reset

DECISIONS: dict[str, tuple[str, ...]] = {
    IssueKind.MERGE: ("confirm", "reject"),
    IssueKind.BOOKING: ("keep",),  # keep one assignment (`keep` names it); the others are cancelled
    IssueKind.FIELD: ("accept_winner", "use_loser"),
    IssueKind.FORK: ("unfreeze", "reset_epoch"),
    IssueKind.REJECTED: ("unfreeze", "reset_epoch"),
    IssueKind.RESTORED: ("reset_epoch", "dismiss"),  # restored from backup (services.restores)
    IssueKind.CLOCK: (
        "accept_hub_time",
    ),  # a clock far ahead (services.drift); open = keep refusing
    IssueKind.ALTERED: (
        "acknowledge",
    ),  # a station's signed alert: a logged entry changed (services.alerts)
}


def open_issue(
    kind: str, dedupe: str, subject: str, stations: list[str], details: dict[str, Any]
) -> None:
    """Queue an item (inside the caller's transaction); the same `dedupe` key is queued once."""
    assert kind in KINDS
    Issue.insert(
        kind=kind,
        dedupe=dedupe[:200],
        subject=subject[:64],
        stations=sorted(set(stations)),
        details=details,
        created_at=clock.now(),
        status=IssueStatus.OPEN,
    ).on_conflict_ignore().execute()


# Kinds about one person: a further station showing the same person joins the open item
# instead of queueing another (the caller holds the person's lock).
PER_PERSON = frozenset({IssueKind.MERGE, IssueKind.BOOKING})


def open_issues(items: list[tuple[str, str, str, list[str], dict[str, Any]]]) -> None:
    """Queue many items (kind, dedupe, subject, stations, details) with one insert, in dedupe
    order (two hub processes wait on each other the same way round). An open merge or booking
    item about the same person is widened to the new stations and details instead."""
    now = clock.now()
    rows: dict[str, dict[str, Any]] = {
        dedupe[:200]: {
            "kind": kind,
            "dedupe": dedupe[:200],
            "subject": subject[:64],
            "stations": sorted(set(stations)),
            "details": details,
            "created_at": now,
            "status": IssueStatus.OPEN,
        }
        for kind, dedupe, subject, stations, details in items
    }
    assert all(row["kind"] in KINDS for row in rows.values())
    for key, row in list(rows.items()):
        if row["kind"] not in PER_PERSON:
            continue
        for current in Issue.select().where(
            (Issue.kind == row["kind"])
            & (Issue.status == IssueStatus.OPEN)
            & (Issue.subject == row["subject"])
        ):
            details = _widened(row["kind"], current.details, row["details"])
            if details is not None:
                Issue.update(
                    stations=sorted(set(current.stations) | set(row["stations"])), details=details
                ).where(Issue.id == current.id).execute()
                del rows[key]
                break
    if rows:
        Issue.insert_many([rows[k] for k in sorted(rows)]).on_conflict_ignore().execute()


def _widened(kind: str, old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """The details of an open per-person item with a new station's records added, or None when
    the new records are another matter (a booking clash at other hours)."""
    field = "workers" if kind == "merge" else "assignments"
    known = {r["id"]: r for r in old.get(field, [])}
    fresh = {r["id"]: r for r in new.get(field, [])}
    if kind == IssueKind.BOOKING and not known.keys() & fresh.keys():
        return None
    return {**old, field: [(known | fresh)[i] for i in sorted(known | fresh)]}


def queue(
    status: IssueStatus = IssueStatus.OPEN, kind: str | None = None, limit: int = 200
) -> list[Issue]:
    """Items of the queue, oldest first."""
    query = Issue.select().where(Issue.status == status)
    if kind:
        query = query.where(Issue.kind == kind)
    return list(query.order_by(Issue.id).limit(limit))


def get_issue(issue_id: Any) -> Issue:
    """One queue item or a 404 error."""
    try:
        issue = Issue.get_or_none(Issue.id == int(issue_id))
    except (TypeError, ValueError):
        issue = None
    if issue is None:
        raise NotFound(f"待处理事项 {issue_id}", f"Queue item {issue_id}")
    return issue


def decide(
    issue_id: Any, decision: str, note: str, actor: Admin | None, keep: str | None = None
) -> Issue:
    """Record an admin's decision on a queue item and put it in the hub log."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("read_only", "审计员只能查看，不能做决定", "Auditors may only read")
    with db.atomic():
        issue = db.locked(Issue.select().where(Issue.id == get_issue(issue_id).id)).get()
        errs = FieldErrors()
        if decision not in DECISIONS[issue.kind]:
            errs.add(
                "decision",
                "invalid",
                "请选择一个有效的处理决定",
                "Choose one of the offered decisions",
            )
        ids = [a["id"] for a in issue.details.get("assignments", [])]
        if issue.kind == IssueKind.BOOKING and keep not in ids:
            errs.add("keep", "invalid", "请选择保留哪一个派工", "Choose which booking stands")
        if (
            issue.kind == IssueKind.FIELD
            and decision == "use_loser"
            and city_blocks.rules_the_field(issue.details)
        ):
            errs.add(
                "decision",
                "city_rule",
                "该用工方由市级规则停用，不能选用驿站的值；如需解除请撤销该规则",
                "A city rule blocks this employer: the station's value cannot be chosen; "
                "withdraw the rule instead",
            )
        errs.raise_if_any()
        if issue.status != IssueStatus.OPEN:
            raise Conflict("already_decided", "该事项已处理过", "This item was already decided")
        fields: dict[str, Any] = {
            "issue": issue.id,
            "kind": issue.kind,
            "decision": decision,
            "note": (note or "")[:500],
            "by": actor.username if actor else "hub",
        }
        entity, entity_id = _apply(issue, decision, keep, fields, actor)
        entry = hublog.append(entity, entity_id, "update", fields, targets=issue.stations or None)
        Issue.update(
            status=IssueStatus.DECIDED,
            decision=decision,
            note=(note or "")[:500],
            decided_by=actor,
            decided_at=clock.now(),
            hub_seq=entry.seq,
        ).where(Issue.id == issue.id).execute()
        return Issue.get_by_id(issue.id)


def _apply(
    issue: Issue, decision: str, keep: str | None, fields: dict[str, Any], actor: Admin | None
) -> tuple[str, str]:
    """The decision's effect at the hub; returns the hub-log entity it concerns."""
    d = issue.details
    if issue.kind == "merge":
        workers = d.get("workers", [])
        names = dict(
            Station.select(Station.id, Station.name)
            .where(Station.id.in_([w["station"] for w in workers]))
            .tuples()
        )
        fields.update(
            id_hash=issue.subject,
            workers=[w | {"station_name": names.get(w["station"], w["station"])} for w in workers],
        )
        return "person", issue.subject
    if issue.kind == IssueKind.BOOKING:
        cancel = [a["id"] for a in d["assignments"] if a["id"] != keep]
        Assignment.update(status=AssignmentStatus.CANCELLED).where(
            Assignment.id.in_(cancel)
        ).execute()
        merge.refresh_figures("assignment", cancel)
        fields.update(keep=keep, cancel=cancel, id_hash=issue.subject)
        return "assignment", keep or ""
    if issue.kind == IssueKind.FIELD:
        fields.update(entity=d["entity"], entity_id=d["entity_id"], field=d["field"])
        if decision == "use_loser":
            merge.store_decided_value(
                d["entity"],
                d["entity_id"],
                d["field"],
                d["loser_value"],
                [clock.now_ms(), 0, signing.hub_id()],
            )
            fields["value"] = d["loser_value"]
        else:
            fields["value"] = d["winner_value"]
        return d["entity"], d["entity_id"]
    if issue.kind == "clock":
        return drift.accept(issue, actor, fields)
    station = Station.get_by_id(issue.stations[0])
    if decision in ("dismiss", "acknowledge"):
        fields.update(epoch=station.epoch, head_seq=station.head_seq)
    elif decision == "reset_epoch":
        # The station continues in a new epoch right after what the hub holds (SYNC.md rule 9).
        base_hash = station.head_hash or sp.GENESIS_HASH
        reset = EpochReset(
            station.id,
            signing.hub_id(),
            station.epoch + 1,
            station.head_seq,
            base_hash,
            sp.Hlc(station.head_hlc, station.head_hlc_counter),
            hublog.head()[0] + 1,
            clock.now_ms(),
        )
        Station.update(
            epoch=station.epoch + 1, frozen=False, frozen_reason=None, frozen_at=None
        ).where(Station.id == station.id).execute()
        fields.update(
            epoch=station.epoch + 1,
            base_seq=station.head_seq,
            base_hash=base_hash,
            reset=sign_reset(reset, signing.hub_key()).decode(),
        )
        if issue.kind == IssueKind.FORK and d.get("epoch") == station.epoch:
            # Here, not at the top: services.restores queues and decides through this module.
            from central_hub.services.restores import agreed_seq

            agreed = agreed_seq(station.id, station.epoch, d.get("evidence"))
            if agreed is not None:  # where its log went apart from ours: it carries what follows
                fields.update(agreed_seq=agreed, from_epoch=station.epoch)
    else:
        Station.update(frozen=False, frozen_reason=None, frozen_at=None).where(
            Station.id == station.id
        ).execute()
        fields.update(epoch=station.epoch, head_seq=station.head_seq)
    return "station", station.id


def open_counts() -> dict[str, int]:
    """How many open items of each kind."""
    counts: dict[str, int] = dict.fromkeys(KINDS, 0)
    query = (
        Issue.select(Issue.kind, fn.COUNT(Issue.id))
        .where(Issue.status == IssueStatus.OPEN)
        .group_by(Issue.kind)
    )
    for kind, n in query.tuples():
        counts[kind] = n
    return counts
