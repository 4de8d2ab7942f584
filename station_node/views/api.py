"""JSON API under /api/v1/: health, the OpenAPI document, station figures, shared body parsing.

The other API modules (api_workers, api_jobs, api_assignments) each hold one blueprint of
thin views: parse the body → call a service → serialize.
"""

from __future__ import annotations

from typing import Any, TypeVar

import peewee
from flask import Blueprint, g, jsonify, request

from kuaigong import jsonbody
from kuaigong.errors import FieldError, InvalidInput, KuaigongError, NotFound
from station_node import auth
from station_node.db import database
from station_node.services.stats import station_stats
from station_node.views import serializers
from station_node.views.openapi import document

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _body_error(code: str, zh: str, en: str, status: int = 400) -> KuaigongError:
    """An error about the request body as a whole (named as the field "body")."""
    return KuaigongError(code, zh, en, fields=[FieldError("body", code, zh, en)], status=status)


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON of one object (kuaigong.jsonbody): 400 naming the body, or 422 naming the
    field."""
    try:
        return jsonbody.parse_object(raw)
    except jsonbody.BodyError as exc:
        if exc.whole_body:
            raise _body_error(exc.code, exc.message_zh, exc.message_en) from None
        raise InvalidInput(
            [FieldError(exc.field, exc.code, exc.message_zh, exc.message_en)]
        ) from None


def body() -> dict[str, Any]:
    """The request's JSON object; {} when empty. 400 naming the body when it is not one."""
    cached = g.get("json_body")
    if cached is not None:
        return cached
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
    return row


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

    database.execute_sql("SELECT 1")
    return jsonify(status="ok")


@bp.get("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3.1 document of this API."""

    return jsonify(document())


@bp.get("/stats")
@auth.api_staff
def stats() -> Any:
    """Station figures: registrations, postings, fill rate, time to fill, no-show rate."""

    return jsonify(serializers.plain(station_stats()))


@bp.get("/me")
@auth.api_staff_or_worker
def me() -> Any:
    """Who the credentials belong to."""
    staff = auth.current_staff()
    if staff is not None:
        return jsonify(kind="staff", staff=serializers.staff(staff))
    worker = auth.acting_worker()
    return jsonify(kind="worker", worker=serializers.worker(worker))
