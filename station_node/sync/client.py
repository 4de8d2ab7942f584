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

from flask import Flask, current_app

import sync_protocol as sp
from kuaigong import clock
from station_node import changelog, db
from station_node import station_state as state
from station_node.models import ChangeEntry
from station_node.sync import alerts, decisions, outbox
from station_node.sync.transport import HubClient, HubRefused, HubUnreachable, SyncError
from sync_protocol.signed import sign

# Bytes per pushed batch before gzip (the hub takes up to 4 MiB on the wire).
PUSH_LIMITS = sp.Limits(max_entries=500, max_batch_bytes=1024 * 1024)
PULL_PAGE = 500
# Sent entries hashed again per round (about 0.5 s at 40,000 a second); a longer log in turns.
CHECK_PER_ROUND = 20_000
_CHECK_CURSOR = "kuaigong_log_check_cursor"
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
    session = sp.StationSession(
        enr.station_id,
        enr.hub_id,
        key,
        enr.hub_keys(),
        clock_,
        receipt=receipt,
        hub_head=decisions.hub_head(enr.hub_id),
        limits=PUSH_LIMITS,
    )
    if receipt is None and last.epoch > 1:
        session.receipt = sp.Receipt(
            enr.station_id, last.epoch, 0, sp.GENESIS_HASH, enr.hub_id, 0, 0
        )
    return session


def _lock(app: Flask) -> threading.Lock:
    return app.extensions.setdefault(_LOCK_KEY, threading.Lock())


def sync_once(app: Flask, client: HubClient | None = None) -> Outcome:
    """Push then pull, once; raises HubUnreachable / SyncError; records the status either way."""
    with app.app_context(), db.database.connection_context():
        enr = state.enrolment()
        key = state.signing_key()
        if enr is None or key is None:
            raise SyncError(
                "not_enrolled",
                "本站尚未在市级中心注册（kuaigong station enroll）",
                "This station is not enrolled with a hub (kuaigong station enroll)",
                status=409,
            )
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
        state.update_status(
            reachable=True,
            last_ok_at=_now_text(),
            last_error=None,
            accepted_seq=outcome.accepted_seq,
            hub_seq=outcome.hub_seq,
            blocked=outcome.blocked,
            pending=pending_count(),
        )
        return outcome


def _err(exc: SyncError) -> dict[str, Any]:
    return {"code": exc.code, "zh": exc.message_zh, "en": exc.message_en, "at": _now_text()}


def pending_count() -> int:
    """Entries the hub has not acknowledged yet (after a restore: those made since)."""
    h = outbox.head()
    mark = state.restore_mark()
    if mark is not None and int(mark["epoch"]) == h.epoch and isinstance(mark.get("seq"), int):
        return max(0, h.seq - int(mark["seq"]))
    receipt = state.acked().receipt
    if receipt is None or receipt.epoch != h.epoch:
        return h.seq - h.start_seq
    return max(0, h.seq - receipt.seq)


def _paused(h: outbox.Head, check: sp.RestoreCheck) -> str | None:
    """Why our entries must wait for a hub-signed reset (restored or forked log), or None."""
    if not check.may_append:
        return check.reason
    mark = state.restore_mark()
    return str(mark.get("reason") or "restored") if mark is not None else None


def _round(enr: state.Enrolment, key: sp.SigningKey, client: HubClient) -> Outcome:
    """Push (unless the log waits for a reset or is altered), pull always, report, then raise
    what went wrong: a refusal never keeps city rules and decisions from arriving."""
    outcome = Outcome()
    client.health()
    session = session_for(enr, key)
    h = outbox.head()
    check = session.check(h.epoch, h.seq, h.hash)
    paused = _paused(h, check)
    failure = _check_log(enr, paused is not None)
    if paused is None and failure is None:
        failure = _push_or_note(enr, session, client, outcome)
        h = outbox.head()
        check = session.check(h.epoch, h.seq, h.hash)
        paused = _paused(h, check)
    if paused is not None:
        _note_paused(h, check, paused)
        outcome.blocked = paused
        state.update_status(blocked=paused, pending=pending_count())
    _pull(enr, session, client, outcome, blocked=not check.may_append)
    receipt = state.acked().receipt  # an epoch reset pulled just now replaces the session's
    h = outbox.head()
    check = sp.check_restore(h.epoch, h.seq, h.hash, receipt)
    if paused is not None and _paused(h, check) is None and failure is None:
        session.receipt = receipt  # the reset's base: push what it carried, now
        failure = _push_or_note(enr, session, client, outcome)
        receipt = state.acked().receipt
        h = outbox.head()
        check = sp.check_restore(h.epoch, h.seq, h.hash, receipt)
    alerts.try_send(enr.station_id, key, client, client.hub_time_ms or wall_ms())
    outcome.blocked = _paused(h, check)
    outcome.accepted_seq = receipt.seq if receipt else 0
    outcome.hub_seq = session.hub_head.seq
    if failure is not None:
        state.update_status(
            blocked=outcome.blocked, pending=pending_count(), hub_seq=outcome.hub_seq
        )
        raise failure
    return outcome


def _check_log(enr: state.Enrolment, paused: bool) -> SyncError | None:
    """Hash our sent entries again (a long log in turns of CHECK_PER_ROUND; the push checks the
    unsent ones, so these too while it waits): an altered entry is reported to the hub (signed
    alert); one not yet sent also stops our push (returned), never the pull."""
    h = outbox.head()
    receipt = state.acked().receipt
    sent = receipt.seq if receipt is not None and receipt.epoch == h.epoch else h.start_seq
    sent = min(max(sent, h.start_seq), h.seq)
    first, whole = h.start_seq + 1, sent - h.start_seq <= CHECK_PER_ROUND
    if not whole:
        first = current_app.extensions.get(_CHECK_CURSOR, first)
        first = first if h.start_seq < first <= sent else h.start_seq + 1
    last = min(sent, first + CHECK_PER_ROUND - 1)
    current_app.extensions[_CHECK_CURSOR] = last + 1
    ranges = [(first, last), (sent + 1, h.seq if paused else sent)]
    try:
        for low, high in ranges:
            for start in range(low, high + 1, 2000):
                outbox.entries(h, start, min(high, start + 1999), enr.station_id)
    except SyncError as exc:
        if exc.code != "entry_altered":
            raise
        return _note_altered(enr, exc)
    if whole:
        state.update_status(altered=None)
    return None


def _note_altered(enr: state.Enrolment, exc: SyncError) -> SyncError | None:
    h = outbox.head()
    seq = int(exc.details.get("seq") or 0)
    receipt = state.acked().receipt
    pushed = receipt is not None and receipt.epoch == h.epoch and seq <= receipt.seq
    row = ChangeEntry.get_or_none(ChangeEntry.seq == int(h.bases.get(str(h.epoch), 0)) + seq)
    details: dict[str, Any] = {
        "epoch": h.epoch,
        "seq": seq,
        "pushed": pushed,
        "problem": exc.message_en,
    }
    if row is not None:
        details.update(
            entity=row.entity,
            entity_id=row.entity_id,
            op=row.op,
            fields=row.fields,
            stored_hash=row.entry_hash,
            prev_hash=row.prev_hash,
            hlc=[row.hlc_wall, row.hlc_counter],
        )
        try:
            details["computed_hash"] = sp.entry_hash(
                changelog.encode_row(row, enr.station_id, h.bases)
            )
        except sp.ProtocolError as err:
            details["computed_hash"] = f"unencodable: {err.detail}"
    key = f"{h.epoch}:{seq}:{details.get('computed_hash', '')}"
    state.note_alert("entry_altered", key, details)
    state.update_status(
        altered={"seq": seq, "pushed": pushed, "zh": exc.message_zh, "en": exc.message_en}
    )
    return None if pushed else exc


def _push_or_note(
    enr: state.Enrolment, session: sp.StationSession, client: HubClient, outcome: Outcome
) -> SyncError | None:
    """Push; a refusal is returned (the pull still runs). A fork means our log went on apart
    from the hub's copy (a restore): note where, and hold our entries for the hub's reset."""
    h = outbox.head()
    receipt = session.receipt
    acked = receipt.seq if receipt is not None and receipt.epoch == h.epoch else h.start_seq
    try:
        _push(enr, session, client, outcome)
    except HubUnreachable:
        raise
    except SyncError as exc:
        if exc.code == "entry_altered":
            return _note_altered(enr, exc)
        if exc.code == "fork":
            h = outbox.head()
            with db.database.atomic():  # the hub never acknowledged what we sent after `acked`
                state.mark_restored(h.epoch, acked, None, "fork")
        return exc
    return None


def _note_paused(h: outbox.Head, check: sp.RestoreCheck, reason: str) -> None:
    """The log waits for a reset: make sure the hub hears of it (a "restored" queue item)."""
    mark = state.restore_mark()
    if mark is None:
        with db.database.atomic():
            state.mark_restored(h.epoch, h.seq, h.hash, reason)
        mark = state.restore_mark() or {}
    receipt = state.acked().receipt
    state.note_alert(
        "log_restored",
        f"{mark.get('epoch')}:{mark.get('seq')}:{reason}",
        {
            "reason": reason,
            "epoch": h.epoch,
            "head_seq": h.seq,
            "went_on_after": mark.get("seq"),
            "receipt": [receipt.epoch, receipt.seq] if receipt else None,
            "pending": pending_count(),
        },
    )


def _store_reply(session: sp.StationSession, body: dict[str, Any], outcome: Outcome) -> sp.Receipt:
    wall = wall_ms()
    try:
        receipt = session.receive_reply(body["receipt"].encode(), wall)
    except (sp.ProtocolError, AttributeError) as exc:
        raise SyncError(
            "bad_receipt",
            "市级中心的回执签名无效，已停止同步",
            f"The hub's receipt does not verify ({exc}); sync stopped",
            status=502,
        ) from None
    assert isinstance(receipt, sp.Receipt)
    state.save_acked(session.receipt, (receipt.hub_time, 0))
    if "rejection" in body:
        try:
            rejection = session.receive_reply(body["rejection"].encode(), wall)
        except (sp.ProtocolError, AttributeError):
            rejection = None
        error = body.get("error") or {}
        outcome.rejection = {
            "reason": rejection.reason.value
            if isinstance(rejection, sp.Rejection)
            else error.get("code"),
            "detail": rejection.detail if isinstance(rejection, sp.Rejection) else "",
            "zh": error.get("message"),
            "en": error.get("message_en"),
            "at": _now_text(),
        }
        state.update_status(rejection=outcome.rejection)
    return receipt


def runs(raws: list[bytes], first: int) -> list[list[bytes]]:
    """Split entries into batches the hub accepts; an entry too large for any batch is an error."""
    try:
        return [list(run) for run in sp.chunk(raws, PUSH_LIMITS)]
    except sp.LocalProtocolError as exc:
        raise SyncError(
            "entry_oversized",
            f"第 {first} 条起有一条变更记录超过单条上限（{PUSH_LIMITS.max_entry_bytes} 字节），"
            "无法上传；请联系技术支持",
            f"An entry from {first} on is larger than {PUSH_LIMITS.max_entry_bytes} bytes and "
            f"cannot be sent ({exc.detail})",
            status=409,
        ) from None


def _push(
    enr: state.Enrolment, session: sp.StationSession, client: HubClient, outcome: Outcome
) -> None:
    while True:
        h = outbox.head()
        planned = session.next_push(h.epoch, h.seq)
        if planned is None:
            return
        raws = outbox.entries(h, planned[0], planned[1], enr.station_id)
        for run in runs(raws, planned[0]):
            before = session.receipt.seq if session.receipt else 0
            batch = session.build_push(run, wall_ms())
            _status, body = client.push(
                enr.station_id, batch, h.seq - before, wall_ms(), session.key
            )
            receipt = _store_reply(session, body, outcome)
            if outcome.rejection is not None and body.get("verdict") not in (
                "apply",
                "replay",
                "gap",
            ):
                raise SyncError(
                    str(outcome.rejection.get("reason") or "rejected"),
                    f"市级中心拒收了本站的数据：{outcome.rejection.get('zh') or ''}",
                    f"The hub refused our batch: {outcome.rejection.get('en') or ''}",
                    details=outcome.rejection,
                    status=409,
                )
            state.update_status(rejection=None)
            outcome.batches += 1
            if receipt.seq <= before:
                if body.get("verdict") == "gap":
                    break  # the hub holds it and asks for the range before: plan again
                return  # no progress: stop rather than loop
            outcome.pushed += receipt.seq - before
            if receipt.seq > h.seq or receipt.epoch != h.epoch:
                return  # the hub holds more than we do: restore check follows


def _pull(
    enr: state.Enrolment,
    session: sp.StationSession,
    client: HubClient,
    outcome: Outcome,
    blocked: bool,
) -> None:
    for _ in range(10_000):
        after = session.hub_head.seq
        h = outbox.head()  # told to the hub, which notices a station whose database went back
        hub_now = client.hub_time_ms or wall_ms()
        auth = sign(
            "request", {"after": after, "station": enr.station_id, "time": hub_now}, session.key
        ).hex()
        try:
            page = client.pull(enr.station_id, after, PULL_PAGE, auth, head=(h.epoch, h.seq))
        except HubRefused as exc:
            if exc.code == "after_beyond_head":
                raise SyncError(
                    "hub_log_ahead",
                    "本站记录的中心日志比中心还新：中心可能换了数据库，请联系管理员",
                    "We hold more of the hub log than the hub has; ask the hub admin",
                    status=409,
                ) from None
            raise
        batch = page.get("batch")
        if batch:
            now = max(wall_ms(), int(page.get("hub_time") or 0))
            verdict = session.receive_hub_batch(batch.encode(), now, hash_at=decisions.hash_at)
            if isinstance(verdict, sp.Apply):
                for item in verdict.entries:
                    outcome.notes.append(decisions.apply_entry(item, blocked))
                    if (
                        blocked
                        and item.entry.entity == "station"
                        and item.entry.fields.get("decision") == "reset_epoch"
                        and item.entry.entity_id == enr.station_id
                    ):
                        blocked = False
                        decisions.run_deferred()
                session.commit_hub(verdict, now)
                if verdict.entries:
                    top = max(item.entry.hlc for item in verdict.entries)
                    state.save_acked(None, (top.wall, top.counter))
                outcome.pulled += len(verdict.entries)
            elif not isinstance(verdict, sp.Replay):
                reason = getattr(verdict, "reason", "fork")
                raise SyncError(
                    "hub_log_refused",
                    f"市级中心日志未通过验证（{reason}），已停止同步",
                    f"The hub log did not verify ({reason}); sync stopped",
                    status=502,
                )
        if not page.get("more"):
            return
