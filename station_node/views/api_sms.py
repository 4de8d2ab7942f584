"""API for the SMS gateway (the paired device driving the GSM modem): claim queued messages,
report how each went, hand in the messages phones sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, jsonify

from kuaigong.errors import FieldErrors
from station_node import auth
from station_node.models import SmsMessage
from station_node.services import sms, sms_inbox
from station_node.views import serializers
from station_node.views.api import body

bp = Blueprint("api_sms", __name__, url_prefix="/api/v1/sms")


def received(row: SmsMessage) -> dict[str, Any]:
    """An incoming message as the gateway sees it after the station handled it."""
    return {
        "id": row.id,
        "status": row.status,
        "outcome": row.outcome,
        "received_at": serializers.when(row.sent_at),
    }


def _number(data: dict[str, Any], name: str, low: float, high: float, errs: FieldErrors) -> Any:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        errs.add(name, "invalid", f"{name} 须为 {low}–{high} 之间的数", f"{name}: {low}..{high}")
        return None
    return value


@bp.post("/claim")
@auth.api_device("sms")
def claim() -> Any:
    """Up to `limit` queued messages, most urgent first, now marked as sending."""
    data, errs = body(), FieldErrors()
    limit = _number(data, "limit", 1, 20, errs)
    interval = _number(data, "interval", 0.1, 600, errs)
    errs.raise_if_any()
    return jsonify(messages=sms.claim(int(limit or 1), interval))


@bp.post("/<int:message_id>/result")
@auth.api_device("sms")
def result(message_id: int) -> Any:
    """How one claimed message went: sent with the network's references, or failed and why."""
    data, errs = body(), FieldErrors()
    sent = data.get("sent")
    if not isinstance(sent, bool):
        errs.add("sent", "required", "sent 须为 true 或 false", "sent must be true or false")
    references = data.get("references", [])
    if not isinstance(references, list) or not all(
        isinstance(r, int) and not isinstance(r, bool) and 0 <= r < 256 for r in references
    ):
        errs.add("references", "invalid", "references 须为 0–255 的整数列表", "0..255 integers")
    reason = data.get("reason", "")
    if not isinstance(reason, str) or len(reason) > 200:
        errs.add("reason", "invalid", "reason 须为不超过 200 字的文字", "reason: text up to 200")
    retryable = data.get("retryable", True)
    if not isinstance(retryable, bool):
        errs.add("retryable", "invalid", "retryable 须为 true 或 false", "must be a boolean")
    errs.raise_if_any()
    row = sms.record_result(
        message_id,
        sent=bool(sent),
        references=references,
        error=reason,
        retryable=retryable,
    )
    return jsonify(message={"id": row.id, "status": row.status, "attempts": row.attempts})


def _received_at(value: Any, errs: FieldErrors) -> dt.datetime | None:
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        errs.add("received_at", "invalid", "received_at 须为 ISO 8601 时间", "ISO 8601 time")
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when


@bp.post("/incoming")
@auth.api_device("sms")
def incoming() -> Any:
    """A message a phone sent to the modem; the station acts on it at once (201)."""
    data, errs = body(), FieldErrors()
    number, text = data.get("number"), data.get("text")
    if not isinstance(number, str) or not number.strip() or len(number) > 32:
        errs.add("number", "required", "请提供来信号码（不超过 32 位）", "number is required")
    if not isinstance(text, str) or len(text) > sms_inbox.MAX_INCOMING_CHARS:
        errs.add("text", "required", "请提供短信内容（不超过 1000 字）", "text is required")
    when = _received_at(data.get("received_at"), errs)
    errs.raise_if_any()
    row = sms_inbox.receive(str(number), str(text), when)
    return jsonify(message=received(row)), 201
