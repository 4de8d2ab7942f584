"""Station-facing JSON API under /api/v1: enrol, push signed batches, pull the hub log."""

from __future__ import annotations

import json
import zlib
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from central_hub.errors import FieldError, HubError, InvalidInput
from central_hub.services import alerts, calls, ingest, stations
from central_hub.views.auth import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


# Largest enrolment body read (a code and a 64-hex key need a few hundred bytes).
MAX_ENROL_BYTES = 4 * 1024
# Longest number literal a body may hold.
MAX_NUMBER_DIGITS = 40


def _body_error(code: str, zh: str, en: str, status: int = 400) -> HubError:
    """An error about the body as a whole, named as the field "body"."""
    return HubError(code, zh, en, fields=[FieldError("body", code, zh, en)], status=status)


class _BadNumber:
    """Stands in, while parsing, for NaN, Infinity or a number with hundreds of digits."""


def _holds_bad_number(value: Any) -> bool:
    if isinstance(value, _BadNumber):
        return True
    return isinstance(value, list) and any(_holds_bad_number(v) for v in value)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        name = key[:64]
        if key in seen:
            raise InvalidInput([FieldError(name, "duplicate_key", f"字段“{name}”出现了两次",
                                           f"The field \"{name}\" appears twice")])
        if _holds_bad_number(value):
            raise InvalidInput([FieldError(name, "invalid_number", f"{name} 的数值无效或太大",
                                           f"{name} holds an invalid or far too large number")])
        seen[key] = value
    return seen


def _number(text: str) -> Any:
    digits = text.lstrip("-")
    if len(digits) > MAX_NUMBER_DIGITS or not digits[:1].isdigit():
        return _BadNumber()
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return _BadNumber()
    return value


def _json_body(limit: int) -> dict[str, Any]:
    """The body as one strict JSON object (UTF-8, no duplicate keys or impossible numbers)."""
    if (request.content_length or 0) > limit:
        raise _body_error("body_too_large", f"请求体超过 {limit} 字节上限",
                          f"The body is larger than {limit} bytes", status=413)
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise _body_error("body_too_large", f"请求体超过 {limit} 字节上限",
                          f"The body is larger than {limit} bytes", status=413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _body_error("body_not_utf8", "请求体须为 UTF-8 编码", "The body must be UTF-8") from None
    try:
        data = json.loads(text, object_pairs_hook=_object, parse_constant=_number,
                          parse_float=_number, parse_int=_number)
    except RecursionError:
        raise _body_error("body_too_deep", "请求体嵌套层数太多", "The body is nested too deeply") from None
    except ValueError:
        raise _body_error("invalid_json", "请求体不是有效的 JSON", "The body is not valid JSON") from None
    if _holds_bad_number(data):
        raise _body_error("invalid_number", "请求体中的数字无效或太大", "The body holds an invalid or far too large number")
    if not isinstance(data, dict):
        raise _body_error("invalid_json", "请求体须为 JSON 对象", "The body must be a JSON object")
    return data


def read_body(raw: bytes | None = None) -> bytes:
    """The raw request body (or `raw`, already read), gunzipped when sent with
    Content-Encoding: gzip, size-bounded."""
    raw = request.get_data(cache=False) if raw is None else raw
    encoding = (request.headers.get("Content-Encoding") or "identity").lower()
    if encoding == "identity":
        return raw
    if encoding != "gzip":
        raise HubError("unsupported_encoding", f"不支持的压缩方式：{encoding}，只支持 gzip",
                       f"Unsupported Content-Encoding {encoding}; only gzip", status=415)
    limit = current_app.config["MAX_PUSH_BYTES"]
    inflater = zlib.decompressobj(wbits=31)
    try:
        body = inflater.decompress(raw, limit + 1)
    except zlib.error:
        raise HubError("bad_gzip", "gzip 数据已损坏或不完整", "The gzip body is damaged or cut short",
                       status=400) from None
    if len(body) > limit or inflater.unconsumed_tail:
        raise HubError("body_too_large", f"解压后超过 {limit} 字节上限",
                       f"The body is larger than {limit} bytes once unpacked", status=413)
    if not inflater.eof:
        raise HubError("bad_gzip", "gzip 数据不完整", "The gzip body is cut short", status=400)
    return body


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    return jsonify(status="ok")


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    """The OpenAPI 3.1 document of the station-facing API."""
    from central_hub.views.openapi import document

    return jsonify(document())


@bp.post("/enroll")
def enroll():  # type: ignore[no-untyped-def]
    return jsonify(stations.enroll(_json_body(MAX_ENROL_BYTES))), 201


@bp.post("/stations/<station_id>/push")
def push(station_id: str):  # type: ignore[no-untyped-def]
    """A signed batch; the signed call in the headers is checked before the body is read."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]  # on the wire (MAX_PUSH_BYTES once unpacked)
    if (request.content_length or 0) > limit:
        raise _body_error("body_too_large", f"请求体超过 {limit} 字节上限",
                          f"The body is larger than {limit} bytes", status=413)
    headers = dict(request.headers)
    call = ingest.authenticate_push(station_id, headers, f"/stations/{station_id}/push",
                                    request.content_length)
    raw = request.stream.read(call.call.body_bytes + 1)
    calls.check_body(station_id, call, raw)
    result, status = ingest.push(station_id, read_body(raw), headers, call=call)
    return jsonify(result), status


@bp.get("/stations/<station_id>/hub-log")
def hub_log(station_id: str):  # type: ignore[no-untyped-def]
    return jsonify(ingest.pull(station_id, request.args.get("after", "0"),
                               request.args.get("limit"), dict(request.headers))), 200


@bp.post("/stations/<station_id>/alerts")
def alert(station_id: str):  # type: ignore[no-untyped-def]
    """A station-signed integrity alert (services.alerts)."""
    if (request.content_length or 0) > alerts.MAX_ALERT_BYTES:
        raise _body_error("body_too_large", f"告警超过 {alerts.MAX_ALERT_BYTES} 字节上限",
                          f"The alert is larger than {alerts.MAX_ALERT_BYTES} bytes", status=413)
    body = request.stream.read(alerts.MAX_ALERT_BYTES + 1)
    skew = current_app.config["REQUEST_SKEW_SECONDS"] * 1000
    return jsonify(alerts.receive(station_id, body, skew)), 201
