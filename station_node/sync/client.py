"""One sync round with the hub: push our unsent entries, then pull the hub's log.

Push: from the newest receipt, signed batches (one checkpoint each) bounded in entries and
bytes, gzip over HTTP; each reply is a hub-signed receipt, stored before the next batch, so an
interruption anywhere resumes from what the hub holds without sending it again. Pull: the hub
log after what we hold, verified against the pinned hub key, applied one entry per transaction.
`StationSession` (sync_protocol) decides what to send and what replies mean.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

import sync_protocol as sp
from station_node import clock, db
from station_node.sync import decisions, outbox, state
from station_node.sync.transport import HubClient, HubRefused, HubUnreachable, SyncError
from sync_protocol.signed import sign

# Bytes per pushed batch before gzip (the hub takes up to 4 MiB on the wire).
PUSH_LIMITS = sp.Limits(max_entries=500, max_batch_bytes=1024 * 1024)
PULL_PAGE = 500
_LOCK_KEY = "kuaigong_sync_lock"


@dataclass
class Outcome:
    """What one round did."""

    pushed: int = 0
    batches: int = 0
    pulled: int = 0
    accepted_seq: int = 0
    hub_seq: int = 0
    rejection: dict[str, Any] | None = None
    blocked: str | None = None
    notes: list[str] = field(default_factory=list)


def wall_ms() -> int:
    """The station's wall clock in ms (from the app's clock, so tests can move it)."""
    return int(clock.now().replace(tzinfo=dt.UTC).timestamp() * 1000)


def _now_text() -> str:
    return clock.now().replace(microsecond=0, tzinfo=dt.UTC).isoformat()


def session_for(enr: state.Enrolment, key: sp.SigningKey) -> sp.StationSession:
    """A StationSession from what we keep: pinned hub key, newest receipt, hub-log head."""
    acked = state.acked()
    receipt = acked.receipt if acked.receipt and acked.receipt.station == enr.station_id else None
    last = outbox.head()
    # Never below the hub's latest time nor our newest entry's stamp: a station whose clock ran
    # ahead and was set right keeps its entries' future stamps, and a checkpoint must not sign
    # earlier than the entries under it.
    clock_ = sp.HybridClock(enr.station_id, sp.Hlc(*max(acked.hlc_floor, outbox.newest_hlc())))
    session = sp.StationSession(enr.station_id, enr.hub_id, key, enr.hub_keys(), clock_,
                                receipt=receipt, hub_head=decisions.hub_head(enr.hub_id),
                                limits=PUSH_LIMITS)
    if receipt is None and last.epoch > 1:
        session.receipt = sp.Receipt(enr.station_id, last.epoch, 0, sp.GENESIS_HASH, enr.hub_id, 0, 0)
    return session


def _lock(app: Flask) -> threading.Lock:
    return app.extensions.setdefault(_LOCK_KEY, threading.Lock())


def sync_once(app: Flask, client: HubClient | None = None) -> Outcome:
    """Push then pull, once; raises HubUnreachable / SyncError; records the status either way."""
    with app.app_context(), db.database.connection_context():
        enr = state.enrolment()
        key = state.signing_key()
        if enr is None or key is None:
            raise SyncError("not_enrolled", "本站尚未在市级中心注册（kuaigong station enroll）",
                            "This station is not enrolled with a hub (kuaigong station enroll)",
                            status=409)
        lock = _lock(app)
        if not lock.acquire(timeout=60):
            raise SyncError("sync_busy", "同步正在进行中", "A sync is already running", status=409)
        state.update_status(last_attempt_at=_now_text())
        try:
            outcome = _round(enr, key, client or HubClient(enr.hub_url))
        except HubUnreachable as exc:
            state.update_status(reachable=False, last_error=_err(exc))
            raise
        except SyncError as exc:
            state.update_status(reachable=not isinstance(exc, HubUnreachable), last_error=_err(exc))
            raise
        finally:
            lock.release()
        state.update_status(reachable=True, last_ok_at=_now_text(), last_error=None,
                            accepted_seq=outcome.accepted_seq, hub_seq=outcome.hub_seq,
                            blocked=outcome.blocked, pending=pending_count())
        return outcome


def _err(exc: SyncError) -> dict[str, Any]:
    return {"code": exc.code, "zh": exc.message_zh, "en": exc.message_en, "at": _now_text()}


def pending_count() -> int:
    """Entries the hub has not acknowledged yet."""
    h = outbox.head()
    receipt = state.acked().receipt
    if receipt is None or receipt.epoch != h.epoch:
        return h.seq
    return max(0, h.seq - receipt.seq)


def _round(enr: state.Enrolment, key: sp.SigningKey, client: HubClient) -> Outcome:
    outcome = Outcome()
    client.health()
    session = session_for(enr, key)
    h = outbox.head()
    check = session.check(h.epoch, h.seq, h.hash)
    if check.may_append:
        _push(enr, session, client, outcome)
        h = outbox.head()
        check = session.check(h.epoch, h.seq, h.hash)
    if not check.may_append:
        outcome.blocked = check.reason
        state.update_status(blocked=check.reason)
    _pull(enr, session, client, outcome, blocked=not check.may_append)
    receipt = state.acked().receipt  # an epoch reset pulled just now replaces the session's
    h = outbox.head()
    check = sp.check_restore(h.epoch, h.seq, h.hash, receipt)
    outcome.blocked = None if check.may_append else check.reason
    outcome.accepted_seq = receipt.seq if receipt else 0
    outcome.hub_seq = session.hub_head.seq
    return outcome


def _store_reply(session: sp.StationSession, body: dict[str, Any], outcome: Outcome) -> sp.Receipt:
    wall = wall_ms()
    try:
        receipt = session.receive_reply(body["receipt"].encode(), wall)
    except (sp.ProtocolError, AttributeError) as exc:
        raise SyncError("bad_receipt", "市级中心的回执签名无效，已停止同步",
                        f"The hub's receipt does not verify ({exc}); sync stopped", status=502) from None
    assert isinstance(receipt, sp.Receipt)
    state.save_acked(session.receipt, (receipt.hub_time, 0))
    if "rejection" in body:
        try:
            rejection = session.receive_reply(body["rejection"].encode(), wall)
        except (sp.ProtocolError, AttributeError):
            rejection = None
        error = body.get("error") or {}
        outcome.rejection = {
            "reason": rejection.reason.value if isinstance(rejection, sp.Rejection) else error.get("code"),
            "detail": rejection.detail if isinstance(rejection, sp.Rejection) else "",
            "zh": error.get("message"), "en": error.get("message_en"), "at": _now_text()}
        state.update_status(rejection=outcome.rejection)
    return receipt


def runs(raws: list[bytes], first: int) -> list[list[bytes]]:
    """Split entries into batches the hub accepts; an entry too large for any batch is an error."""
    try:
        return [list(run) for run in sp.chunk(raws, PUSH_LIMITS)]
    except sp.LocalProtocolError as exc:
        raise SyncError("entry_oversized",
                        f"第 {first} 条起有一条变更记录超过单条上限（{PUSH_LIMITS.max_entry_bytes} 字节），无法上传；请联系技术支持",
                        f"An entry from {first} on is larger than {PUSH_LIMITS.max_entry_bytes} bytes and "
                        f"cannot be sent ({exc.detail})", status=409) from None


def _push(enr: state.Enrolment, session: sp.StationSession, client: HubClient, outcome: Outcome) -> None:
    while True:
        h = outbox.head()
        planned = session.next_push(h.epoch, h.seq)
        if planned is None:
            return
        raws = outbox.entries(h, planned[0], planned[1], enr.station_id)
        for run in runs(raws, planned[0]):
            before = session.receipt.seq if session.receipt else 0
            batch = session.build_push(run, wall_ms())
            _status, body = client.push(enr.station_id, batch, h.seq - before, wall_ms())
            receipt = _store_reply(session, body, outcome)
            if outcome.rejection is not None and body.get("verdict") not in ("apply", "replay", "gap"):
                raise SyncError(str(outcome.rejection.get("reason") or "rejected"),
                                f"市级中心拒收了本站的数据：{outcome.rejection.get('zh') or ''}",
                                f"The hub refused our batch: {outcome.rejection.get('en') or ''}",
                                details=outcome.rejection, status=409)
            state.update_status(rejection=None)
            outcome.batches += 1
            if receipt.seq <= before:
                if body.get("verdict") == "gap":
                    break  # the hub holds it and asks for the range before: plan again
                return  # no progress: stop rather than loop
            outcome.pushed += receipt.seq - before
            if receipt.seq > h.seq or receipt.epoch != h.epoch:
                return  # the hub holds more than we do: restore check follows


def _pull(enr: state.Enrolment, session: sp.StationSession, client: HubClient, outcome: Outcome,
          blocked: bool) -> None:
    for _ in range(10_000):
        after = session.hub_head.seq
        h = outbox.head()  # told to the hub, which notices a station whose database went back
        hub_now = client.hub_time_ms or wall_ms()
        auth = sign("request", {"after": after, "station": enr.station_id, "time": hub_now},
                    session.key).hex()
        try:
            page = client.pull(enr.station_id, after, PULL_PAGE, auth, head=(h.epoch, h.seq))
        except HubRefused as exc:
            if exc.code == "after_beyond_head":
                raise SyncError("hub_log_ahead", "本站记录的中心日志比中心还新：中心可能换了数据库，请联系管理员",
                                "We hold more of the hub log than the hub has; ask the hub admin",
                                status=409) from None
            raise
        batch = page.get("batch")
        if batch:
            now = max(wall_ms(), int(page.get("hub_time") or 0))
            verdict = session.receive_hub_batch(batch.encode(), now, hash_at=decisions.hash_at)
            if isinstance(verdict, sp.Apply):
                for item in verdict.entries:
                    outcome.notes.append(decisions.apply_entry(item, blocked))
                    if blocked and item.entry.entity == "station" and \
                            item.entry.fields.get("decision") == "reset_epoch" and \
                            item.entry.entity_id == enr.station_id:
                        blocked = False
                        decisions.run_deferred()
                session.commit_hub(verdict, now)
                if verdict.entries:
                    top = max(item.entry.hlc for item in verdict.entries)
                    state.save_acked(None, (top.wall, top.counter))
                outcome.pulled += len(verdict.entries)
            elif not isinstance(verdict, sp.Replay):
                reason = getattr(verdict, "reason", "fork")
                raise SyncError("hub_log_refused", f"市级中心日志未通过验证（{reason}），已停止同步",
                                f"The hub log did not verify ({reason}); sync stopped", status=502)
        if not page.get("more"):
            return
