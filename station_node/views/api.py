"""JSON API under /api/v1/: health, the OpenAPI document, station figures, shared body parsing.

The other API modules (api_workers, api_jobs, api_assignments) each hold one blueprint of
thin views: parse the body → call a service → serialize.
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

import peewee
from flask import Blueprint, jsonify, request

from station_node import auth
from station_node.errors import FieldError, InvalidInput, KuaigongError, NotFound
from station_node.views import serializers

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def body() -> dict[str, Any]:
    """The request's JSON object; {} when empty. 400 for text that is not JSON or not an object."""
    raw = request.get_data(cache=True)
    if not raw or not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise KuaigongError(
            "invalid_json",
            "请求内容不是有效的 JSON",
            "The request body is not valid JSON",
            status=400,
        ) from None
    if not isinstance(data, dict):
        raise KuaigongError(
            "body_not_object",
            "请求内容必须是 JSON 对象（{...}）",
            "The request body must be a JSON object ({...})",
            status=400,
        )
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
    """Every API write must carry a JSON object or nothing, even where the body is not used."""
    if request.path.startswith("/api/") and request.method in ("POST", "PUT", "PATCH"):
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
