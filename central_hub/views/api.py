"""Station-facing JSON API under /api/v1: enrol, push signed batches, pull the hub log."""

from __future__ import annotations

import re
import zlib
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

import sync_protocol as sp
from central_hub.services import alerts, calls, ingest, stations
from central_hub.states import Verdict
from central_hub.views.auth import csrf
from central_hub.views.openapi import document
from kuaigong import jsonbody
from kuaigong.errors import FieldError, InvalidInput, KuaigongError

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


# Largest enrolment body read (a code and a 64-hex key need a few hundred bytes).
MAX_ENROL_BYTES = 4 * 1024
# What a station says about itself beside a push (optional): entries still waiting, its clock.
PENDING_HEADER = "X-Kuaigong-Pending"
WALL_HEADER = "X-Kuaigong-Wall"
# A pull's credential (the station-signed request, hex) and, optionally, "<epoch>:<seq>" of the
# station's own log (services.restores notices a database gone back in time from it).
AUTH_HEADER = "X-Kuaigong-Auth"
HEAD_HEADER = "X-Kuaigong-Head"


def _int_header(name: str) -> int | None:
    """A whole-number header in ASCII digits that a database column can hold; else None."""
    text = request.headers.get(name, "").strip()
    return int(text) if re.fullmatch(r"-?[0-9]{1,17}", text) else None


def _reported_head() -> tuple[int, int] | None:
    """The (epoch, seq) a pulling station reports of its own log; None when absent or odd."""
    epoch, _, seq = request.headers.get(HEAD_HEADER, "").partition(":")
    try:
        head = (int(epoch), int(seq))
    except ValueError:
        return None
    return head if head[0] >= 1 and head[1] >= 0 else None


def _body_error(code: str, zh: str, en: str, status: int = 400) -> KuaigongError:
    """An error about the body as a whole, named as the field "body"."""
    return KuaigongError(code, zh, en, fields=[FieldError("body", code, zh, en)], status=status)


def _json_body(limit: int) -> dict[str, Any]:
    """The body as one strict JSON object (UTF-8, no duplicate keys or impossible numbers)."""
    if (request.content_length or 0) > limit:
        raise _body_error(
            "body_too_large",
            f"请求体超过 {limit} 字节上限",
            f"The body is larger than {limit} bytes",
            status=413,
        )
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise _body_error(
            "body_too_large",
            f"请求体超过 {limit} 字节上限",
            f"The body is larger than {limit} bytes",
            status=413,
        )
    try:
        return jsonbody.parse_object(raw)
    except jsonbody.BodyError as exc:
        if not exc.whole_body:
            raise InvalidInput(
                [FieldError(exc.field, exc.code, exc.message_zh, exc.message_en)]
            ) from None
        code = (
            "invalid_json" if exc.code == "body_not_object" else exc.code
        )  # the hub's code for it
        raise _body_error(code, exc.message_zh, exc.message_en) from None


def read_body(raw: bytes | None = None) -> bytes:
    """The raw request body (or `raw`, already read), gunzipped when sent with
    Content-Encoding: gzip, size-bounded."""
    raw = request.get_data(cache=False) if raw is None else raw
    encoding = (request.headers.get("Content-Encoding") or "identity").lower()
    if encoding == "identity":
        return raw
    if encoding != "gzip":
        raise KuaigongError(
            "unsupported_encoding",
            f"不支持的压缩方式：{encoding}，只支持 gzip",
            f"Unsupported Content-Encoding {encoding}; only gzip",
            status=415,
        )
    limit = current_app.config["MAX_PUSH_BYTES"]
    inflater = zlib.decompressobj(wbits=31)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise KuaigongError(
            "bad_gzip",
            "gzip 数据已损坏或不完整",
            "The gzip body is damaged or cut short",
            status=400,
        ) from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise KuaigongError(
            "body_too_large",
            f"解压后超过 {limit} 字节上限",
            f"The body is larger than {limit} bytes once unpacked",
            status=413,
        )
    if not inflater.eof:
        raise KuaigongError("bad_gzip", "gzip 数据不完整", "The gzip body is cut short", status=400)
    return body


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    return jsonify(status="ok")


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of the station-facing API."""
    return jsonify(document())


@bp.post("/enroll")
def enroll() -> ResponseReturnValue:
    return jsonify(stations.enroll(_json_body(MAX_ENROL_BYTES))), 201


@bp.post("/stations/<station_id>/push")
def push(station_id: str) -> ResponseReturnValue:
    """A signed batch; the signed call in the headers is checked before the body is read."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]  # on the wire (MAX_PUSH_BYTES once unpacked)
    if (request.content_length or 0) > limit:
        raise _body_error(
            "body_too_large",
            f"请求体超过 {limit} 字节上限",
            f"The body is larger than {limit} bytes",
            status=413,
        )
    call = ingest.authenticate_push(
        station_id,
        request.headers.get(sp.CALL_HEADER, ""),
        f"/stations/{station_id}/push",
        request.content_length,
    )
    raw = request.stream.read(call.call.body_bytes + 1)
    calls.check_body(station_id, call, raw)
    pending = _int_header(PENDING_HEADER)
    report = ingest.StationReport(
        call=call,
        pending=pending if pending is not None and pending >= 0 else None,
        wall_ms=_int_header(WALL_HEADER),
    )
    try:
        pushed = ingest.push(station_id, read_body(raw), report)
    except ingest.PushRefused as refused:
        return jsonify(refused.reply), refused.status
    return jsonify(pushed.reply), 202 if pushed.verdict is Verdict.GAP else 200


@bp.get("/stations/<station_id>/hub-log")
def hub_log(station_id: str) -> ResponseReturnValue:
    try:
        auth = bytes.fromhex(request.headers.get(AUTH_HEADER, ""))
    except ValueError:
        auth = b""
    page = ingest.pull(
        station_id,
        request.args.get("after", "0"),
        request.args.get("limit"),
        auth,
        _reported_head(),
    )
    return jsonify(page), 200


@bp.post("/stations/<station_id>/alerts")
def alert(station_id: str) -> ResponseReturnValue:
    """A station-signed integrity alert (services.alerts)."""
    if (request.content_length or 0) > alerts.MAX_ALERT_BYTES:
        raise _body_error(
            "body_too_large",
            f"告警超过 {alerts.MAX_ALERT_BYTES} 字节上限",
            f"The alert is larger than {alerts.MAX_ALERT_BYTES} bytes",
            status=413,
        )
    body = request.stream.read(alerts.MAX_ALERT_BYTES + 1)
    skew = current_app.config["REQUEST_SKEW_SECONDS"] * 1000
    return jsonify(alerts.receive(station_id, body, skew)), 201
