"""Station-facing JSON API under /api/v1: enrol, push signed batches, pull the hub log."""

from __future__ import annotations

import zlib
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from central_hub.errors import HubError
from central_hub.services import ingest, stations
from central_hub.views.auth import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise HubError("invalid_json", "请求体须为 JSON 对象", "The body must be a JSON object",
                       status=400)
    return data


def read_body() -> bytes:
    """The raw request body, gunzipped when sent with Content-Encoding: gzip, size-bounded."""
    raw = request.get_data(cache=False)
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


@bp.post("/enroll")
def enroll():  # type: ignore[no-untyped-def]
    return jsonify(stations.enroll(_json_body())), 201


@bp.post("/stations/<station_id>/push")
def push(station_id: str):  # type: ignore[no-untyped-def]
    result, status = ingest.push(station_id, read_body(), dict(request.headers))
    return jsonify(result), status


@bp.get("/stations/<station_id>/hub-log")
def hub_log(station_id: str):  # type: ignore[no-untyped-def]
    return jsonify(ingest.pull(station_id, request.args.get("after", "0"),
                               request.args.get("limit"), dict(request.headers))), 200
