"""Stations restored from an old backup (SYNC.md rule 9).

A restored station finds its database head behind its last receipt and refuses to append until
a hub-signed epoch reset arrives in the hub log. It sends nothing, so nothing at the hub would
ever ask for that reset: an admin restarts the station in a new epoch from its page
(`restart_station`), and the hub notices the restore by itself when the station's signed
hub-log pull shows it (`note_pull`): it asks from before what it had already acknowledged (its
database lost hub-log entries it held), or it reports a head behind what the hub accepted.
"""

from __future__ import annotations

from typing import Any

import sync_protocol as sp
from central_hub import db
from central_hub.models import Admin, AppliedEntry, Evidence, Issue, Station
from central_hub.services import reconcile
from central_hub.states import IssueKind, IssueStatus, Role, StationStatus
from kuaigong import clock
from kuaigong.errors import Conflict, FieldErrors, Forbidden, NotFound


def note_pull(station: Station, after: int, head: tuple[int, int] | None) -> None:
    """Open (once per accepted head) a "restored from backup" item when an authenticated pull
    shows the station's database went back in time (`head`: the (epoch, seq) it reported)."""
    if head is not None and head[0] < station.epoch:
        return  # a reset to a newer epoch is on its way to the station; it has not applied it yet
    signals: dict[str, Any] = {}
    if station.hub_seq_acked > after:
        signals["hub_log"] = {"acknowledged": station.hub_seq_acked, "asked_after": after}
    if head is not None and head < (station.epoch, station.head_seq):
        signals["head"] = {"reported": list(head), "accepted": [station.epoch, station.head_seq]}
    if not signals or station.status != StationStatus.ACTIVE:
        return
    with db.atomic():
        reconcile.open_issue(
            IssueKind.RESTORED,
            f"restored:{station.id}:{station.epoch}:{station.head_seq}",
            station.id,
            [station.id],
            {
                "reason": "restored_from_backup",
                "signal": "pull",
                **signals,
                "epoch": station.epoch,
                "head_seq": station.head_seq,
                "detected_ms": clock.now_ms(),
            },
        )


def restart_station(station_id: str, reason: str, actor: Admin | None) -> Issue:
    """An admin restarts a station in a new epoch (restored from backup): the hub-signed reset
    goes into the hub log for the station to pull; an open "restored" item is decided with it."""
    if actor is not None and actor.role != Role.ADMIN:
        raise Forbidden("read_only", "审计员只能查看，不能做决定", "Auditors may only read")
    reason = (reason or "").strip()
    errs = FieldErrors()
    if not reason:
        errs.add(
            "reason",
            "required",
            "请填写原因（例如：一体机从某日的备份恢复）",
            "Give the reason (for example: the kiosk was restored from a backup of some date)",
        )
    elif len(reason) > 500:
        errs.add(
            "reason", "too_long", "原因最多 500 个字", "The reason is longer than 500 characters"
        )
    errs.raise_if_any()
    with db.atomic():
        station = db.locked(Station.select().where(Station.id == str(station_id))).get_or_none()
        if station is None:
            raise NotFound(f"驿站 {station_id}", f"Station {station_id}")
        if station.status != StationStatus.ACTIVE:
            raise Conflict(
                "not_enrolled",
                "该驿站尚未注册密钥，无需重置纪元",
                "This station has not enrolled a key; there is no log to restart",
            )
        issue = (
            Issue.select()
            .where(
                (Issue.kind == IssueKind.RESTORED)
                & (Issue.subject == station.id)
                & (Issue.status == IssueStatus.OPEN)
            )
            .order_by(Issue.id)
            .first()
        )
        if issue is None:
            reconcile.open_issue(
                IssueKind.RESTORED,
                f"restored:{station.id}:{station.epoch}:{station.head_seq}:admin",
                station.id,
                [station.id],
                {
                    "reason": "restored_from_backup",
                    "signal": "admin",
                    "epoch": station.epoch,
                    "head_seq": station.head_seq,
                    "detected_ms": clock.now_ms(),
                },
            )
            issue = Issue.get(
                Issue.dedupe == f"restored:{station.id}:{station.epoch}:{station.head_seq}:admin"
            )
            if issue.status != IssueStatus.OPEN:
                raise Conflict(
                    "already_decided",
                    "该驿站已在此处重置过纪元",
                    "This station was already restarted at this point",
                )
        return reconcile.decide(issue.id, "reset_epoch", reason, actor)


def agreed_seq(station_id: str, epoch: int, evidence_id: Any) -> int | None:
    """Where a forked station's log went apart from ours: the last seq of `epoch` up to which the
    entries of its conflicting (signed) batch are the ones we hold; None without that evidence.
    The station carries everything after it into the new epoch (restore rule)."""
    try:
        evidence = Evidence.get_or_none(
            (Evidence.id == int(evidence_id)) & (Evidence.station == station_id)
        )
    except (TypeError, ValueError):
        evidence = None
    if evidence is None or not evidence.body:
        return None
    sent: dict[int, str] = {}
    for line in bytes(evidence.body).split(
        b"\n"
    ):  # a long batch is kept cut short: read what is whole
        try:
            entry = sp.decode_entry(line)
        except (sp.ProtocolError, ValueError):
            continue
        if entry.epoch == epoch and entry.station == station_id:
            sent[entry.seq] = sp.entry_hash(line)
    if not sent:
        return None
    first, last = min(sent), max(sent)
    held = dict(
        AppliedEntry.select(AppliedEntry.seq, AppliedEntry.entry_hash)
        .where(
            (AppliedEntry.station == station_id)
            & (AppliedEntry.epoch == epoch)
            & (AppliedEntry.seq >= first)
            & (AppliedEntry.seq <= last)
        )
        .tuples()
    )
    agreed = first - 1
    for seq in range(first, last + 1):
        if seq not in sent or held.get(seq) != sent[seq]:
            break
        agreed = seq
    return agreed
