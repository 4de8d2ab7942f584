"""Bundle files for stations with no link: our unsent signed batches for the hub, and the hub's
receipts and log for us. Both directions are verified exactly like HTTP replies, so importing a
bundle twice changes nothing; a cut or edited file is refused with a typed error.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

import sync_protocol as sp
from station_node import db
from station_node import station_state as state
from station_node.sync import client, decisions, outbox
from station_node.sync.transport import SyncError

_BUNDLE_TEXT = {
    sp.Reason.TRUNCATED: (
        "数据包不完整（文件被截断），请重新导出",
        "The bundle is cut short; export it again",
    ),
    sp.Reason.ALTERED: (
        "数据包内容被改动过（校验值不符），拒绝导入",
        "The bundle was altered (digest mismatch); not imported",
    ),
    sp.Reason.MALFORMED: ("不是有效的快工数据包", "This is not a valid Kuaigong bundle"),
    sp.Reason.OVERSIZED: ("数据包太大", "The bundle is too large"),
}


def _enrolled() -> tuple[state.Enrolment, sp.SigningKey]:
    enr, key = state.enrolment(), state.signing_key()
    if enr is None or key is None:
        raise SyncError(
            "not_enrolled", "本站尚未在市级中心注册", "This station is not enrolled", status=409
        )
    return enr, key


def export_bundle(app: Flask, path: str | Path) -> dict[str, Any]:
    """Write every entry the hub has not acknowledged, as signed batches, to a bundle file."""
    with app.app_context(), db.database.connection_context():
        enr, key = _enrolled()
        session = client.session_for(enr, key)
        h = outbox.head()
        check = session.check(h.epoch, h.seq, h.hash)
        if not check.may_append:
            raise SyncError(
                "log_behind_receipt",
                "本站数据落后于中心回执，不能导出",
                "The log is behind the hub's receipt; nothing to export",
                status=409,
            )
        accepted = session.receipt.seq if session.receipt else 0
        parts: list[tuple[str, bytes]] = []
        if h.seq > accepted:
            raws = outbox.entries(h, accepted + 1, h.seq, enr.station_id)
            for run in client.runs(raws, accepted + 1):
                parts.append(("batch", session.build_push(run, client.wall_ms())))
        blob = sp.write_bundle(
            station=enr.station_id,
            hub=enr.hub_id,
            direction="to_hub",
            epoch=h.epoch,
            first=accepted + 1,
            last=h.seq,
            parts=parts,
        )
    _write(Path(path), blob)
    return {
        "station": enr.station_id,
        "entries": max(0, h.seq - accepted),
        "batches": len(parts),
        "first": accepted + 1,
        "last": h.seq,
        "bytes": len(blob),
    }


def _write(path: Path, blob: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        fh.write(blob)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read(blob: bytes) -> sp.Bundle:
    """Parse a bundle file; SyncError with the bundle's reason as code when it is damaged."""
    try:
        return sp.read_bundle(blob)
    except sp.BundleError as exc:
        zh, en = _BUNDLE_TEXT.get(exc.reason, _BUNDLE_TEXT[sp.Reason.MALFORMED])
        raise SyncError(
            f"bundle_{exc.reason.value}", zh, f"{en} ({exc.detail})", status=422
        ) from None


def import_bundle(app: Flask, path: str | Path) -> dict[str, Any]:
    """Apply a hub → station bundle (receipt and hub log); twice changes nothing."""
    bundle = read(Path(path).read_bytes())
    with app.app_context(), db.database.connection_context():
        enr, key = _enrolled()
        header = bundle.header
        if header.direction != "to_station":
            raise SyncError(
                "bundle_wrong_direction",
                "这是发给市级中心的数据包，请在中心导入",
                "This bundle is for the hub, not for a station",
                status=422,
            )
        if header.station != enr.station_id or header.hub != enr.hub_id:
            raise SyncError(
                "bundle_wrong_station",
                f"该数据包是发给驿站 {header.station} 的",
                f"This bundle is for station {header.station}",
                status=422,
            )
        session = client.session_for(enr, key)
        outcome = client.Outcome()
        counts = {"receipts": 0, "hub_entries": 0}
        h = outbox.head()
        for part in bundle.parts:
            if part.kind == "receipt":
                receipt = client._store_reply(session, {"receipt": part.data.decode()}, outcome)
                counts["receipts"] += 1 if receipt else 0
            elif part.kind == "hub_batch":
                blocked = not session.check(h.epoch, h.seq, h.hash).may_append
                counts["hub_entries"] += _hub_batch(enr, session, part.data, blocked)
        h = outbox.head()
        check = session.check(h.epoch, h.seq, h.hash)
        state.update_status(
            blocked=None if check.may_append else check.reason,
            pending=client.pending_count(),
            hub_seq=session.hub_head.seq,
        )
    return {
        **counts,
        "hub_seq": session.hub_head.seq,
        "accepted_seq": session.receipt.seq if session.receipt else 0,
        "blocked": None if check.may_append else check.reason,
    }


def _hub_batch(enr: state.Enrolment, session: sp.StationSession, data: bytes, blocked: bool) -> int:
    now = max(client.wall_ms(), state.acked().hlc_floor[0])
    verdict = session.receive_hub_batch(
        data, now + 10 * 365 * 86_400_000, hash_at=decisions.hash_at
    )
    if isinstance(verdict, sp.Replay):
        return 0
    if isinstance(verdict, sp.Gap):
        raise SyncError(
            "bundle_gap",
            f"数据包缺少中心日志第 {verdict.missing_from}–{verdict.missing_to} 条，"
            "请让中心从本站已有的序号导出",
            f"The bundle lacks hub-log entries "
            f"{verdict.missing_from}-{verdict.missing_to}; export from our hub seq",
            status=422,
        )
    if not isinstance(verdict, sp.Apply):
        raise SyncError(
            "bundle_refused",
            f"数据包中的中心日志未通过验证（{getattr(verdict, 'reason', 'fork')}）",
            "The hub log in the bundle did not verify",
            status=422,
        )
    for item in verdict.entries:
        decisions.apply_entry(item, blocked)
        if (
            blocked
            and item.entry.entity == "station"
            and item.entry.entity_id == enr.station_id
            and item.entry.fields.get("decision") == "reset_epoch"
        ):
            blocked = False
            decisions.run_deferred()
    session.commit_hub(verdict, now)
    return len(verdict.entries)
