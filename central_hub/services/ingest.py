"""Ingest: verify a station's signed batch with sync_protocol and apply it atomically with its
idempotency records and the station's new head; serve the hub-signed log.

All state is in the database. The station row is locked (SELECT ... FOR UPDATE on PostgreSQL,
the single write lock on SQLite) for the whole verify-and-apply, so two hub processes taking
pushes of one station serialise, and the second sees the first's head: a replay, never a
double apply. (station, epoch, seq) is unique besides.

The freeze rule (docs/sync-protocol.md, section 12): a push over HTTP is the station's only with
a valid signed call (services.calls, checked before the body is read); a batch counts against
the station (freeze, evidence) only when its own checkpoint signature proves it
(`Rejected.proven`, or a Fork). Anything else is refused and counted, and changes nothing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, TypedDict

import peewee
from flask import current_app
from peewee import fn

import sync_protocol as sp
from central_hub import db, signing
from central_hub.models import AppliedEntry, Evidence, HeldBatch, HubLogEntry, Receipt, Station
from central_hub.services import calls, drift, hublog, merge, reconcile, restores, stations
from central_hub.services.rejections import refusal_error
from central_hub.states import EvidenceKind, IssueKind, StationStatus, Verdict
from kuaigong import clock, collector
from kuaigong.errors import KuaigongError, NotFound
from sync_protocol.receipts import Rejection, sign_rejection
from sync_protocol.verifier import Apply, ChainHead, Fork, Gap, Rejected, Replay, verify_batch

_RECEIPT_COLUMNS = ("station_id", "epoch", "seq", "head_hash", "hub_seq", "body", "created_at")
# Refusals that, proven by the station's own key (Rejected.proven), freeze it for an admin.
FREEZING = {sp.Reason.BROKEN_CHAIN, sp.Reason.REVOKED_KEY}
EVIDENCE_BYTES = 256 * 1024
MAX_HELD_DRAIN = 50

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StationReport:
    """What a station sent alongside a batch, read from its request by the view."""

    # Its verified signed call; None for a batch from a bundle file, which only the batch's own
    # checkpoint signature vouches for.
    call: sp.SignedCall | None = None
    pending: int | None = None  # entries it says still wait to be sent (this batch among them)
    wall_ms: int | None = None  # its wall clock when it sent the batch


@dataclass(frozen=True)
class Pushed:
    """A batch the hub took (applied, replayed or held): the reply the station gets, with the
    hub's signed receipt of its head."""

    verdict: Verdict
    reply: dict[str, Any]


class PushRefused(KuaigongError):
    """A refused batch: the error, and the reply the station still gets (the receipt and a
    signed rejection; only the error for bytes that are not provably the station's)."""

    def __init__(self, error: KuaigongError, reply: dict[str, Any]) -> None:
        super().__init__(
            error.code,
            error.message_zh,
            error.message_en,
            fields=error.fields,
            details=error.details,
            status=error.status,
        )
        self.reply = reply


class HubLogPage(TypedDict):
    """One page of the hub log for a station, as one hub-signed batch."""

    hub: str
    station: str
    after: int
    count: int
    last_seq: int
    hub_seq: int
    more: bool
    hub_time: int
    batch: str | None


def _limits() -> sp.Limits:
    return sp.Limits(max_batch_bytes=current_app.config["MAX_PUSH_BYTES"])


def _head(station: Station) -> ChainHead:
    checkpoint = bytes(station.head_checkpoint) if station.head_checkpoint is not None else None
    return ChainHead(
        station.id,
        station.epoch,
        station.head_seq,
        station.head_hash or sp.GENESIS_HASH,
        checkpoint,
        station.frozen,
    )


def _hash_at(station: Station) -> Any:
    def hash_at(epoch: int, seq: int) -> str | None:
        row = AppliedEntry.get_or_none(
            (AppliedEntry.station == station.id)
            & (AppliedEntry.epoch == epoch)
            & (AppliedEntry.seq == seq)
        )
        return row.entry_hash if row else None

    return hash_at


def authenticate_push(
    station_id: str, call_header: str, path: str, content_length: int | None
) -> sp.SignedCall:
    """The push's signed call, verified before its body is read (KuaigongError 401 otherwise)."""
    station = stations.get_station(station_id)
    if station.status == StationStatus.PENDING:
        raise KuaigongError(
            "not_enrolled", "该驿站尚未注册密钥", "This station has not enrolled a key", status=403
        )
    return calls.authenticate(station, call_header, "POST", path, content_length)


def push(station_id: str, body: bytes, report: StationReport) -> Pushed:
    """Verify and apply one signed batch; the reply carries a signed receipt of the head.

    PushRefused (after what the refusal records is committed: evidence, a freeze, the count)
    when the batch is refused."""
    for attempt in range(3):
        try:
            with collector.held_off(), db.atomic():
                outcome = _push_once(station_id, body, report)
            break
        except peewee.IntegrityError:
            # Another hub process committed the same entries first; verifying again sees a replay.
            if attempt == 2:
                raise
    else:
        raise AssertionError("unreachable")
    if isinstance(outcome, PushRefused):
        raise outcome
    return outcome


def _push_once(station_id: str, body: bytes, report: StationReport) -> Pushed | PushRefused:
    now, now_ms = clock.now(), clock.now_ms()
    station = next(
        iter(
            Station.raw(
                db.prepared(
                    "station_locked", lambda: db.locked(Station.select().where(Station.id == ""))
                ),
                str(station_id),
            )
        ),
        None,
    )
    if station is None:
        raise NotFound(f"驿站 {station_id}", f"Station {station_id}")
    if station.status == StationStatus.PENDING:
        raise KuaigongError(
            "not_enrolled", "该驿站尚未注册密钥", "This station has not enrolled a key", status=403
        )
    call = report.call
    if call is not None and not calls.take_nonce(station_id, call):
        return _not_theirs(
            station_id,
            KuaigongError(
                "call_replayed",
                "该签名请求已用过（重放），拒收",
                "This signed call was already used (a replay)",
                details={"detail": f"nonce {call.call.nonce}"},
                status=401,
            ),
        )
    verdict = _verify(station, body, now_ms)
    if call is None and isinstance(verdict, Rejected) and not verdict.proven:
        return _not_theirs(station_id, refusal_error(verdict.reason, verdict.detail))
    contact: dict[str, Any] = {"last_contact_at": now}
    pending, wall = report.pending, report.wall_ms
    if pending is not None:
        contact["pending_reported"] = pending
    if wall is not None:
        contact["clock_offset_ms"] = wall - now_ms

    if isinstance(verdict, Apply):
        if pending is not None:  # the station counted this batch among those still waiting
            contact["pending_reported"] = max(0, pending - len(verdict.entries))
        if wall is None:
            contact["clock_offset_ms"] = verdict.clock_skew_ms
        applied = _apply(station, verdict, now, last_sync_at=now, last_error=None, **contact)
        head: tuple[int, int, str] | None = (
            verdict.head.epoch,
            verdict.head.seq,
            verdict.head.head,
        )
        if _has_held(station_id):
            applied += _drain_held(station_id, now_ms)
            head = None
        return Pushed(
            Verdict.APPLY, _answer(Verdict.APPLY, station_id, now_ms, head, applied=applied)
        )
    if isinstance(verdict, Replay):
        Station.update(last_sync_at=now, **contact).where(Station.id == station_id).execute()
        return Pushed(Verdict.REPLAY, _answer(Verdict.REPLAY, station_id, now_ms, applied=0))
    if isinstance(verdict, Gap):
        first = verdict.missing_to + 1
        last = sp.parse_batch(verdict.batch, _limits()).checkpoint.checkpoint.seq
        full = _backlog_full(station, first, last, len(verdict.batch), verdict)
        if full is not None:
            Station.update(last_error=full.code, last_error_at=now, **contact).where(
                Station.id == station_id
            ).execute()
            return _refusal(station_id, full, now_ms, sp.Reason.NOT_ALLOWED)
        HeldBatch.insert(
            station=station_id,
            epoch=station.epoch,
            first_seq=first,
            last_seq=last,
            body=verdict.batch,
            received_at=now,
        ).on_conflict_ignore().execute()
        Station.update(**contact).where(Station.id == station_id).execute()
        reply = _answer(
            Verdict.GAP,
            station_id,
            now_ms,
            missing_from=verdict.missing_from,
            missing_to=verdict.missing_to,
        )
        return Pushed(Verdict.GAP, reply)
    if isinstance(verdict, Fork):
        _fork(station, verdict, now)
        Station.update(last_error=Verdict.FORK, last_error_at=now, **contact).where(
            Station.id == station_id
        ).execute()
        return _refusal(
            station_id, refusal_error(sp.Reason.FORK, f"seq {verdict.evidence.seq}"), now_ms
        )
    assert isinstance(verdict, Rejected)
    log.warning(
        "batch from station %s refused: %s at head %d/%d (%d bytes): %s",
        station_id,
        verdict.reason.value,
        station.epoch,
        station.head_seq,
        len(body),
        verdict.detail[:200],
    )
    _rejected(station, verdict, body, now)
    if verdict.reason is sp.Reason.CLOCK_DRIFT:
        drift.note_refusal(station, body, pending, wall, now_ms, _limits())
    Station.update(last_error=verdict.reason.value, last_error_at=now, **contact).where(
        Station.id == station_id
    ).execute()
    return _refusal(station_id, refusal_error(verdict.reason, verdict.detail), now_ms)


def _not_theirs(station_id: str, error: KuaigongError) -> PushRefused:
    """Refuse bytes that are not provably the station's: count them, change nothing else and
    sign nothing."""
    stations.count_refused_push(station_id, error.code, str(error.details.get("detail", "")))
    reply = {"verdict": Verdict.REFUSED, "station": station_id, "error": error.as_dict()}
    return PushRefused(error, reply)


def _verify(station: Station, body: bytes, now_ms: int) -> Any:
    """sync_protocol's verdict on a batch; one refused `clock_drift` is judged again without
    the drift bound when an admin accepted the station's clock with hub time (services.drift)."""
    ring, hash_at = signing.key_ring(station), _hash_at(station)
    verdict = verify_batch(body, _head(station), ring, now_ms, hash_at=hash_at, limits=_limits())
    if isinstance(verdict, Rejected) and verdict.reason is sp.Reason.CLOCK_DRIFT:
        allowed = drift.reverify(station, body, _head(station), ring, now_ms, hash_at, _limits())
        if allowed is not None:
            return allowed
    return verdict


def _backlog_full(
    station: Station, first: int, last: int, size: int, gap: Gap
) -> KuaigongError | None:
    """The typed refusal when holding one more out-of-order batch would pass the station's cap
    (MAX_HELD_BATCHES batches or MAX_HELD_BYTES bytes); None when it may be held."""
    held = (
        HeldBatch.select(HeldBatch.first_seq, HeldBatch.last_seq, fn.LENGTH(HeldBatch.body))
        .where((HeldBatch.station == station.id) & (HeldBatch.epoch == station.epoch))
        .tuples()
    )
    rows = list(held)
    if any((a, b) == (first, last) for a, b, _ in rows):
        return None  # already held: a resend changes nothing
    cap, cap_bytes = current_app.config["MAX_HELD_BATCHES"], current_app.config["MAX_HELD_BYTES"]
    held_bytes = sum(n or 0 for _, _, n in rows)
    if len(rows) < cap and held_bytes + size <= cap_bytes:
        return None
    missing = (gap.missing_from, min([first, *(a for a, _, _ in rows)]) - 1)  # before all held
    log.warning(
        "batch %d-%d from station %s refused: held_batches_full (%d held, %d bytes; cap %d, "
        "%d bytes); missing %d-%d",
        first,
        last,
        station.id,
        len(rows),
        held_bytes,
        cap,
        cap_bytes,
        *missing,
    )
    return KuaigongError(
        "held_batches_full",
        f"中心已暂存本站 {len(rows)} 个乱序批次（{held_bytes} 字节），"
        f"已达上限 {cap} 个 / {cap_bytes} 字节；"
        f"请先补发第 {missing[0]}–{missing[1]} 条",
        f"The hub already holds {len(rows)} out-of-order batches ({held_bytes} bytes) of this "
        f"station, the cap is {cap} / {cap_bytes} bytes; "
        f"send entries {missing[0]}–{missing[1]} first",
        details={
            "verdict": Verdict.REJECTED,
            "held": len(rows),
            "held_bytes": held_bytes,
            "max_held": cap,
            "max_held_bytes": cap_bytes,
            "missing_from": missing[0],
            "missing_to": missing[1],
            "detail": f"held_batches_full: send {missing[0]}-{missing[1]} first",
        },
        status=429,
    )


def _apply(station: Station, verdict: Apply, now: Any, **contact: Any) -> int:
    """Apply the entries and move the station's head (with `contact` fields) in one update."""
    applied = merge.apply_entries(station, verdict.entries)
    last = verdict.entries[-1].entry
    db.update_row(
        Station._meta.table_name,
        "id",
        station.id,
        {
            "epoch": verdict.head.epoch,
            "head_seq": verdict.head.seq,
            "head_hash": verdict.head.head,
            "head_checkpoint": verdict.head.checkpoint,
            "head_hlc": last.hlc_wall,
            "head_hlc_counter": last.hlc_counter,
            **contact,
        },
    )
    for record in verdict.rotations:
        stations.record_rotation(station.id, record, verdict.keys)
    return applied


def _has_held(station_id: str) -> bool:
    p = db.database.param
    return (
        db.database.execute_sql(
            f'SELECT 1 FROM "{HeldBatch._meta.table_name}" WHERE "station_id" = {p} LIMIT 1',
            (station_id,),
        ).fetchone()
        is not None
    )


def _drain_held(station_id: str, now_ms: int) -> int:
    """Apply held batches that now follow the head; drop those already covered."""
    applied = 0
    for _ in range(MAX_HELD_DRAIN):
        station = Station.get_by_id(station_id)
        held = (
            HeldBatch.select()
            .where(
                (HeldBatch.station == station_id)
                & (HeldBatch.epoch == station.epoch)
                & (HeldBatch.first_seq <= station.head_seq + 1)
            )
            .order_by(HeldBatch.first_seq)
            .first()
        )
        if held is None:
            return applied
        HeldBatch.delete().where(HeldBatch.id == held.id).execute()
        verdict = _verify(station, bytes(held.body), now_ms)
        if isinstance(verdict, Apply):
            applied += _apply(station, verdict, clock.now())
    return applied


def _answer(
    verdict: str,
    station_id: str,
    now_ms: int,
    head: tuple[int, int, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The reply with a signed receipt of the station's head (`head` = (epoch, seq, hash) when
    the caller just wrote it; else read)."""
    if head is None:
        row = (
            Station.select(Station.epoch, Station.head_seq, Station.head_hash)
            .where(Station.id == station_id)
            .get()
        )
        head = (row.epoch, row.head_seq, row.head_hash or sp.GENESIS_HASH)
    epoch, seq, head_hash = head
    hub_seq = hublog.seq()
    receipt = signing.receipt_for(station_id, epoch, seq, head_hash, hub_seq, now_ms)
    db.insert_values(
        Receipt._meta.table_name,
        _RECEIPT_COLUMNS,
        [
            (
                station_id,
                epoch,
                seq,
                head_hash,
                hub_seq,
                json.dumps({"receipt": receipt.decode()}),
                db.dbtime(clock.now()),
            )
        ],
    )
    return {
        "verdict": verdict,
        "station": station_id,
        "epoch": epoch,
        "accepted_seq": seq,
        "head": head_hash,
        "hub_seq": hub_seq,
        "hub_time": now_ms,
        "receipt": receipt.decode(),
        **extra,
    }


def _refusal(
    station_id: str, error: KuaigongError, now_ms: int, reason: sp.Reason | None = None
) -> PushRefused:
    """The refusal reply: receipt, error, and a signed rejection with `reason` (default: the
    error's code as a sync_protocol reason)."""
    body = _answer(error.details.get("verdict", Verdict.REJECTED), station_id, now_ms)
    detail = error.message_en if reason is None else f"{error.code}: {error.message_en}"
    rejection = sign_rejection(
        Rejection(
            station_id,
            signing.hub_id(),
            reason or sp.Reason(error.code),
            detail,
            body["hub_seq"],
            now_ms,
        ),
        signing.hub_key(),
    )
    return PushRefused(error, {**body, "error": error.as_dict(), "rejection": rejection.decode()})


def _fork(station: Station, verdict: Fork, now: Any) -> None:
    ev = verdict.evidence
    details = {
        "seq": ev.seq,
        "epoch": ev.epoch,
        "accepted_hash": ev.accepted_hash,
        "conflicting_hash": ev.conflicting_hash,
        "accepted_checkpoint": (ev.accepted_checkpoint or b"").decode("utf-8", "replace"),
        "conflicting_checkpoint": ev.conflicting_checkpoint.decode("utf-8", "replace"),
    }
    evidence = Evidence.create(
        station=station.id,
        kind=EvidenceKind.FORK,
        reason="fork",
        details=details,
        body=ev.conflicting_batch[:EVIDENCE_BYTES],
        created_at=now,
    )
    stations.freeze(station, f"fork at {ev.epoch}/{ev.seq}")
    log.warning(
        "station %s frozen: fork at epoch %d seq %d (held %s, sent %s)",
        station.id,
        ev.epoch,
        ev.seq,
        ev.accepted_hash[:16],
        ev.conflicting_hash[:16],
    )
    reconcile.open_issue(
        IssueKind.FORK,
        f"fork:{station.id}:{ev.epoch}:{ev.seq}:{ev.conflicting_hash}",
        station.id,
        [station.id],
        {**details, "reason": "fork", "evidence": evidence.id},
    )


def _rejected(station: Station, verdict: Rejected, body: bytes, now: Any) -> None:
    if not verdict.proven:  # the station's own call, but nothing its key signed shows a fault
        return
    details = {"reason": verdict.reason.value, "detail": verdict.detail[:500]}
    freezing = verdict.reason in FREEZING
    evidence = Evidence.create(
        station=station.id,
        kind=EvidenceKind.REJECTED,
        reason=verdict.reason.value,
        details=details,
        body=body[:EVIDENCE_BYTES] if freezing else None,
        created_at=now,
    )
    if freezing and not station.frozen:
        stations.freeze(station, f"{verdict.reason.value}: {verdict.detail[:150]}")
        log.warning(
            "station %s frozen: %s at head %d/%d (evidence %d): %s",
            station.id,
            verdict.reason.value,
            station.epoch,
            station.head_seq,
            evidence.id,
            verdict.detail[:150],
        )
        reconcile.open_issue(
            IssueKind.REJECTED,
            f"rejected:{station.id}:{evidence.id}",
            station.id,
            [station.id],
            {**details, "evidence": evidence.id},
        )


def pull(
    station_id: str,
    after: Any,
    limit: Any,
    auth: bytes,
    reported_head: tuple[int, int] | None = None,
) -> HubLogPage:
    """Hub-log entries after `after` as one hub-signed batch, for a station that signed the ask
    (`auth`: its signed request; `reported_head`: the (epoch, seq) its log says it holds)."""
    station = stations.get_station(station_id)
    now_ms = clock.now_ms()
    after_seq = _after(after)
    try:
        _authenticate_pull(station, auth, after_seq, now_ms)
    except KuaigongError as exc:
        log.warning(
            "pull by station %s refused: %s (after %d, hub time %d)",
            station.id,
            exc.code,
            after_seq,
            now_ms,
        )
        raise
    page = current_app.config["HUB_LOG_PAGE"]
    try:
        count = min(page, max(1, int(limit))) if limit not in (None, "") else page
    except (TypeError, ValueError):
        count = page
    head_seq, _ = hublog.head()
    if after_seq > head_seq:
        log.warning(
            "pull by station %s refused: after_beyond_head (after %d, head %d)",
            station.id,
            after_seq,
            head_seq,
        )
        raise KuaigongError(
            "after_beyond_head",
            f"after={after_seq} 超出中心日志末尾 {head_seq}",
            f"after={after_seq} is past the hub log's head {head_seq}",
            status=409,
        )
    rows = list(
        HubLogEntry.select()
        .where(HubLogEntry.seq > after_seq)
        .order_by(HubLogEntry.seq)
        .limit(count)
    )
    batch = None
    if rows:
        state_hlc = hublog.head_hlc()
        hlc = max(state_hlc, (now_ms, 0))
        batch = signing.hub_batch([r.raw.encode("utf-8") for r in rows], hlc).decode("utf-8")
    served = rows[-1].seq if rows else after_seq
    restores.note_pull(station, after_seq, reported_head)
    hublog.record_pull(station, after_seq, served)
    return {
        "hub": signing.hub_id(),
        "station": station.id,
        "after": after_seq,
        "count": len(rows),
        "last_seq": served,
        "hub_seq": head_seq,
        "more": served < head_seq,
        "hub_time": now_ms,
        "batch": batch,
    }


def _after(value: Any) -> int:
    try:
        after = int(value)
        if after < 0:
            raise ValueError
    except (TypeError, ValueError):
        raise KuaigongError(
            "invalid_after",
            "after 须为非负整数（已持有的中心日志序号）",
            "after must be a whole number ≥ 0 (the hub-log seq already held)",
            status=422,
        ) from None
    return after


def _authenticate_pull(station: Station, data: bytes, after: int, now_ms: int) -> None:
    if not data:
        raise KuaigongError(
            "auth_required",
            "缺少驿站签名（X-Kuaigong-Auth）",
            "The station's signature (X-Kuaigong-Auth) is missing",
            status=401,
        )
    result = signing.check_station_request("request", data, station)
    if isinstance(result, str):
        raise refusal_error(sp.Reason(result), "pull request")
    skew = current_app.config["REQUEST_SKEW_SECONDS"] * 1000
    if (
        result.get("after") != after
        or not isinstance(result.get("time"), int)
        or abs(result["time"] - now_ms) > skew
    ):
        raise KuaigongError(
            "stale_request",
            "签名的请求已过期或与参数不符，请重新签名",
            "The signed request is stale or does not match its parameters; sign it again",
            status=401,
        )
