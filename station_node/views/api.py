"""JSON API under /api/v1/: health, the OpenAPI document, station figures, shared body parsing.

The other API modules (api_workers, api_jobs, api_assignments) each hold one blueprint of
thin views: parse the body → call a service → serialize.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import peewee
from flask import Blueprint, g, jsonify, request

from station_node import auth
from station_node.errors import FieldError, InvalidInput, KuaigongError, NotFound
from station_node.views import serializers

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Longest number literal a body may hold (an amount of 10**30 fen is already absurd).
MAX_NUMBER_DIGITS = 40


def _body_error(code: str, zh: str, en: str, status: int = 400) -> KuaigongError:
    """An error about the request body as a whole (named as the field "body")."""
    return KuaigongError(code, zh, en, fields=[FieldError("body", code, zh, en)], status=status)


class _BadNumber:
    """Stands in, while parsing, for a number no field can take (NaN, Infinity, 10**400 …)."""

    def __init__(self, text: str) -> None:
        self.text = text[:32]


def _holds_bad_number(value: Any) -> bool:
    if isinstance(value, _BadNumber):
        return True
    return isinstance(value, list) and any(_holds_bad_number(v) for v in value)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object: a duplicate key or an impossible number is refused, naming the field."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        name = key[:64]
        if key in seen:
            raise InvalidInput([FieldError(
                name, "duplicate_key", f"字段“{name}”在请求中出现了两次", f"The field \"{name}\" appears twice"
            )])
        if _holds_bad_number(value):
            raise InvalidInput([FieldError(
                name, "invalid_number", f"{name} 的数值无效或太大", f"{name} holds an invalid or far too large number"
            )])
        seen[key] = value
    return seen


def _number(text: str) -> Any:
    """An int or float as JSON wrote it; a marker for one that is not finite or too long."""
    digits = text.lstrip("-")
    if len(digits) > MAX_NUMBER_DIGITS or not digits[:1].isdigit():
        return _BadNumber(text)
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return _BadNumber(text)
    return value


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON of one object: UTF-8, no duplicate keys, no NaN/Infinity or giant numbers, not too deep."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _body_error("body_not_utf8", "请求内容必须是 UTF-8 编码", "The request body must be UTF-8") from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_number,
            parse_float=_number,
            parse_int=_number,
        )
    except RecursionError:
        raise _body_error(
            "body_too_deep", "请求内容嵌套层数太多", "The request body is nested too deeply"
        ) from None
    except ValueError:
        raise _body_error("invalid_json", "请求内容不是有效的 JSON", "The request body is not valid JSON") from None
    if _holds_bad_number(data):
        raise _body_error("invalid_number", "请求内容中的数字无效或太大", "The request body holds an invalid or far too large number")
    if not isinstance(data, dict):
        raise _body_error(
            "body_not_object",
            "请求内容必须是 JSON 对象（{...}）",
            "The request body must be a JSON object ({...})",
        )
    return data


def body() -> dict[str, Any]:
    """The request's JSON object; {} when empty. 400 naming the body when it is not one."""
    cached = g.get("json_body")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    raw = request.get_data(cache=True)
    data = {} if not raw or not raw.strip() else parse_json_object(raw)
    g.json_body = data
    return data


def text_field(
    data: dict[str, Any], name: str, zh: str, en: str, required: bool = True, max_len: int = 64
) -> str | None:
    """A short identifier-like text field the view itself needs (e.g. worker_id)."""
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise InvalidInput([FieldError(name, "required", f"请填写{zh}", f"{en} is required")])
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidInput([FieldError(name, "invalid", f"{zh}格式不正确", f"{en} is not valid")])
    return value


def required_text(data: dict[str, Any], name: str, zh: str, en: str, max_len: int = 64) -> str:
    """Like text_field, for a field that must be there."""
    value = text_field(data, name, zh, en, required=True, max_len=max_len)
    assert value is not None  # text_field raised otherwise
    return value


M = TypeVar("M", bound=peewee.Model)


def found(model: type[M], row_id: str, what_zh: str, what_en: str) -> M:
    """The row with this id, or 404 naming what was looked for."""
    row = model.get_or_none(model._meta.primary_key == row_id)
    if row is None:
        raise NotFound(what_zh, what_en)
    return row  # type: ignore[no-any-return]


@bp.before_app_request
def _refuse_malformed_bodies() -> None:
    """Every API write must carry a JSON object or nothing, even where the body is not used.

    Only for a caller who is signed in: an anonymous request is answered 401 by its view
    without its body ever being read.
    """
    if request.path.startswith("/api/") and request.method in ("POST", "PUT", "PATCH"):
        if auth.current_staff() is None and auth.current_worker() is None:
            return
        body()


@bp.get("/healthz")
def healthz() -> Any:
    """Liveness and database check for the station's monitor."""
    from station_node.db import database

    database.execute_sql("SELECT 1")
    return jsonify(status="ok")


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document of this API."""
    from station_node.views.openapi import document

    return jsonify(document())


@bp.get("/stats")
@auth.api_staff
def stats() -> Any:
    """Station figures: registrations, postings, fill rate, time to fill, no-show rate."""
    from station_node.services.stats import station_stats

    return jsonify(serializers.plain(station_stats()))


@bp.get("/me")
@auth.api_staff_or_worker
def me() -> Any:
    """Who the credentials belong to."""
    staff = auth.current_staff()
    if staff is not None:
        return jsonify(kind="staff", staff=serializers.staff(staff))
    worker = auth.current_worker()
    return jsonify(kind="worker", worker=serializers.worker(worker))  # type: ignore[arg-type]
