"""Signed calls: a push is authenticated as its station before the hub reads its body.

The station signs the request line (sync_protocol.calls): method, path below /api/v1, station,
time, a one-time nonce, and the length and SHA-256 of the body as sent. The hub checks the
header against the station's keys and its clock window and refuses a nonce it has seen, all
before reading the body; then it reads exactly the declared bytes and compares their digest.
Every refusal here changes nothing but the station's count of refused pushes.
"""

from __future__ import annotations

from flask import current_app

import sync_protocol as sp
from central_hub import db, signing
from central_hub.models import Station
from central_hub.models.calls import CallNonce
from central_hub.services import stations
from central_hub.states import Verdict
from kuaigong import clock
from kuaigong.errors import KuaigongError
from sync_protocol.calls import body_digest

_TEXT = {
    "call_missing": (
        "缺少驿站签名（X-Kuaigong-Call），拒收",
        "The station's call signature (X-Kuaigong-Call) is missing",
    ),
    "call_invalid": ("驿站签名无效，拒收", "The station's call signature is not valid"),
    "call_replayed": (
        "该签名请求已用过（重放），拒收",
        "This signed call was already used (a replay)",
    ),
    "call_stale": (
        "签名请求的时间超出中心允许的范围，请校准时间后重试",
        "The signed call's time is outside the hub's window; set the time and retry",
    ),
    "call_body_mismatch": (
        "请求体与签名声明的不符（长度或摘要），拒收",
        "The body is not the one the call signature declares (length or digest)",
    ),
}


def _refuse(station_id: str, code: str, detail: str, status: int = 401) -> KuaigongError:
    """Count the refusal against the station and return the error to raise (with the hub's
    time, so a station whose idea of it was off can sign again)."""
    stations.count_refused_push(station_id, code, detail)
    zh, en = _TEXT[code]
    return KuaigongError(
        code,
        zh,
        en,
        status=status,
        details={"detail": detail[:300], "verdict": Verdict.REFUSED, "hub_time": clock.now_ms()},
    )


def authenticate(
    station: Station, header: str, method: str, path: str, content_length: int | None
) -> sp.SignedCall:
    """The station's verified call for `method` `path` (`header`: its X-Kuaigong-Call, empty
    when missing), checked before the body is read.

    KuaigongError 401 (or 413 for a declared body over the limit) after counting, otherwise."""
    if not header:
        raise _refuse(station.id, "call_missing", f"{method} {path} without {sp.CALL_HEADER}")
    try:
        signed = sp.parse_call(header)
    except sp.RemoteProtocolError as exc:
        raise _refuse(station.id, "call_invalid", exc.detail) from None
    now_ms = clock.now_ms()
    window_ms = current_app.config["REQUEST_SKEW_SECONDS"] * 1000
    ring = signing.key_ring(station)
    refusal = sp.check_call(
        signed,
        ring,
        station=station.id,
        method=method,
        path=path,
        now_ms=now_ms,
        window_ms=window_ms,
        position=(station.epoch, station.head_seq + 1),
    )
    if refusal is not None and refusal[0] in _STILL_THE_STATION and _by_station_key(signed, ring):
        refusal = None  # a revoked or rotated-away key of the station: its batch verdict decides
    if refusal is not None:
        code = "call_stale" if refusal[0] is sp.Reason.CLOCK_DRIFT else "call_invalid"
        raise _refuse(station.id, code, f"{refusal[0].value}: {refusal[1]}")
    call = signed.call
    if content_length is not None and content_length != call.body_bytes:
        raise _refuse(
            station.id,
            "call_body_mismatch",
            f"Content-Length {content_length}, signed {call.body_bytes}",
            status=400,
        )
    limit = current_app.config["MAX_CONTENT_LENGTH"]  # the body as it travels
    if call.body_bytes > limit:
        raise KuaigongError(
            "body_too_large",
            f"请求体超过 {limit} 字节上限",
            f"The body is larger than {limit} bytes",
            status=413,
        )
    if _seen(station.id, call.nonce):
        raise _refuse(station.id, "call_replayed", f"nonce {call.nonce}")
    return signed


_STILL_THE_STATION = {sp.Reason.REVOKED_KEY, sp.Reason.RETIRED_KEY}


def _by_station_key(signed: sp.SignedCall, ring: sp.KeyRing) -> bool:
    record = ring.get(signed.call.key)
    return record is not None and sp.verify_signature(
        record.public_key, signed.signed.signature, signed.signed.body
    )


def check_body(station_id: str, signed: sp.SignedCall, body: bytes) -> None:
    """Refuse (counted, 400) a body other than the one the call signs."""
    if not sp.body_matches(signed.call, body):
        raise _refuse(
            station_id,
            "call_body_mismatch",
            f"{len(body)} bytes, sha256 {body_digest(body)[:16]}…",
            status=400,
        )


def _seen(station_id: str, nonce: str) -> bool:
    return (
        CallNonce.select()
        .where((CallNonce.station == station_id) & (CallNonce.nonce == nonce))
        .exists()
    )


def take_nonce(station_id: str, signed: sp.SignedCall) -> bool:
    """Record the call's nonce inside the push's transaction; False when it was taken already.

    Nonces older than twice the window are dropped: their calls are refused as stale anyway."""
    call = signed.call
    if _seen(station_id, call.nonce):
        return False
    window_ms = current_app.config["REQUEST_SKEW_SECONDS"] * 1000
    CallNonce.delete().where(
        (CallNonce.station == station_id) & (CallNonce.time_ms < clock.now_ms() - 2 * window_ms)
    ).execute()
    CallNonce.insert(
        station=station_id, nonce=call.nonce, time_ms=call.time, seen_at=db.dbtime(clock.now())
    ).execute()
    return True
