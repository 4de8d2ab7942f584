"""Integrity alerts from stations, signed by the station's own key.

A station reports what it finds wrong with its own log: an entry changed in its database after
it was logged (`entry_altered`, with the row as it reads now and both hashes), a log that went
on after a restore and waits for an epoch reset (`log_restored`), and how many of its entries an
epoch reset carried into the new epoch (`reset_carried`). Only an alert that verifies against the
station's registered key changes anything; the same alert twice changes nothing.
"""

from __future__ import annotations

from typing import Any

import sync_protocol as sp
from central_hub import db, signing
from central_hub.models import AppliedEntry, Issue, Station
from central_hub.services import reconcile, stations
from central_hub.services.rejections import refusal_error
from central_hub.states import (
    LOG_APART_KINDS,
    AlertKind,
    IssueKind,
    IssueStatus,
    StationStatus,
)
from kuaigong import clock
from kuaigong.errors import FieldError, InvalidInput, KuaigongError

KINDS = tuple(AlertKind)
MAX_ALERT_BYTES = 64 * 1024


def receive(station_id: str, body: bytes, skew_ms: int) -> dict[str, Any]:
    """Verify one signed alert and queue (or annotate) the item it calls for."""
    station = stations.get_station(station_id)
    if station.status != StationStatus.ACTIVE:
        raise KuaigongError(
            "not_enrolled", "该驿站尚未注册密钥", "This station has not enrolled a key", status=403
        )
    if len(body) > MAX_ALERT_BYTES:
        raise KuaigongError(
            "body_too_large",
            f"告警超过 {MAX_ALERT_BYTES} 字节上限",
            f"The alert is larger than {MAX_ALERT_BYTES} bytes",
            status=413,
        )
    result = signing.check_station_request("alert", body, station)
    if isinstance(result, str):  # not provably the station's: counted, nothing else changes
        stations.count_refused_push(station.id, f"alert_{result}", "alert")
        raise refusal_error(sp.Reason(result), "alert")
    try:
        alert = _valid(result, clock.now_ms(), skew_ms)
    except KuaigongError as exc:
        if exc.code == "stale_request":  # signed, but possibly replayed
            stations.count_refused_push(station.id, "alert_stale", "alert")
        raise
    with db.atomic():
        station = db.locked(Station.select().where(Station.id == station.id)).get()
        outcome = _queue(station, alert)
    return {"station": station.id, "id": alert["id"], "kind": alert["kind"], "outcome": outcome}


def _valid(obj: dict[str, Any], now_ms: int, skew_ms: int) -> dict[str, Any]:
    errors = []
    if obj.get("kind") not in KINDS:
        errors.append(
            FieldError("kind", "invalid", "告警类型无效", f"kind must be one of {', '.join(KINDS)}")
        )
    ident = obj.get("id")
    if not isinstance(ident, str) or not 0 < len(ident) <= 150:
        errors.append(
            FieldError("id", "invalid", "告警编号须为 1–150 个字符", "id must be 1-150 characters")
        )
    if not isinstance(obj.get("details"), dict):
        errors.append(
            FieldError("details", "invalid", "告警内容须为对象", "details must be an object")
        )
    if errors:
        raise InvalidInput(errors)
    if not isinstance(obj.get("time"), int) or abs(obj["time"] - now_ms) > skew_ms:
        raise KuaigongError(
            "stale_request",
            "签名的告警已过期，请重新签名",
            "The signed alert is stale; sign it again",
            status=401,
        )
    return obj


def _queue(station: Station, alert: dict[str, Any]) -> str:
    kind, details = alert["kind"], alert["details"]
    now = clock.now_ms()
    if kind == AlertKind.ENTRY_ALTERED:
        held = _held_hash(station.id, details)
        reconcile.open_issue(
            IssueKind.ALTERED,
            f"altered:{station.id}:{alert['id']}",
            station.id,
            [station.id],
            {
                **details,
                "alert": alert["id"],
                "hub_hash": held,
                "detected_ms": now,
                "reason": "entry_altered",
            },
        )
        return "queued"
    if kind == AlertKind.LOG_RESTORED:
        current = _open_log_item(station.id)
        if current is not None:
            Issue.update(details={**current.details, "station_report": details}).where(
                Issue.id == current.id
            ).execute()
            return f"noted on #{current.id}"
        reconcile.open_issue(
            IssueKind.RESTORED,
            f"restored:{station.id}:alert:{alert['id']}",
            station.id,
            [station.id],
            {
                "reason": "restored_from_backup",
                "signal": "alert",
                "station_report": details,
                "epoch": station.epoch,
                "head_seq": station.head_seq,
                "detected_ms": now,
            },
        )
        return "queued"
    decided = (
        Issue.select()
        .where(
            (Issue.subject == station.id)
            & Issue.kind.in_(LOG_APART_KINDS)
            & (Issue.decision == "reset_epoch")
        )
        .order_by(Issue.decided_at.desc(), Issue.id.desc())
        .first()
    )
    if decided is None:
        return "no reset item"
    carried = {
        k: details.get(k) for k in ("epoch", "carried", "first_seq", "last_seq", "from_epoch")
    }
    Issue.update(details={**decided.details, "carried": carried}).where(
        Issue.id == decided.id
    ).execute()
    return f"noted on #{decided.id}"


def _held_hash(station_id: str, details: dict[str, Any]) -> str | None:
    """The hash the hub holds for the altered entry (None when it never received it)."""
    epoch, seq = details.get("epoch"), details.get("seq")
    if not isinstance(epoch, int) or not isinstance(seq, int):
        return None
    row = AppliedEntry.get_or_none(
        (AppliedEntry.station == station_id)
        & (AppliedEntry.epoch == epoch)
        & (AppliedEntry.seq == seq)
    )
    return row.entry_hash if row is not None else None


def _open_log_item(station_id: str) -> Issue | None:
    return (
        Issue.select()
        .where(
            (Issue.subject == station_id)
            & Issue.kind.in_(LOG_APART_KINDS)
            & (Issue.status == IssueStatus.OPEN)
        )
        .order_by(Issue.id)
        .first()
    )
