"""`GET /api/v1/events`: the station's live events as Server-Sent Events.

`?topics=board` is public. `worker` (or `worker:<id>`) needs that worker: signed in on their
phone page or at the kiosk, or their own bearer token; staff may follow any topic; a paired
screen its own `screen:<device id>` (its token, or the cookie its one-time link left). Each
stream ends after STREAM_SECONDS: a stream holds one of the server's threads, and the browser's
EventSource reconnects by itself (after `retry:`) with the last id it saw in `Last-Event-ID`, so
nothing is missed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response, current_app, g, request, session

from kuaigong.errors import FieldError, Forbidden, InvalidInput
from station_node import auth, events
from station_node.views import phone

bp = Blueprint("events", __name__, url_prefix="/api/v1")

STREAM_SECONDS = 25.0
HEARTBEAT_SECONDS = 10.0
RETRY_MILLISECONDS = 500
MAX_TOPICS = 8


@bp.get("/events")
def stream() -> Any:
    """Follow the topics named in `?topics=` (comma-separated) as an event stream."""
    topics = _allowed(_requested())
    subscription = events.subscribe(topics, _last_event_id())
    seconds = float(current_app.config.get("EVENTS_STREAM_SECONDS", STREAM_SECONDS))
    return Response(
        _body(subscription, seconds),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _requested() -> list[str]:
    raw = request.args.get("topics", "board")
    topics = [t.strip() for t in raw.split(",") if t.strip()]
    if not topics or len(topics) > MAX_TOPICS:
        raise InvalidInput(
            [
                FieldError(
                    "topics",
                    "invalid",
                    f"请指定 1–{MAX_TOPICS} 个主题，用逗号分开，例如 topics=board",
                    f"Name 1–{MAX_TOPICS} topics, comma-separated, e.g. topics=board",
                )
            ]
        )
    return topics


def _allowed(topics: list[str]) -> set[str]:
    """The topics as subscribed, each checked against who is asking (401/403 otherwise)."""
    auth.identify()
    staff, worker_id = g.staff, _worker_id()
    allowed: set[str] = set()
    for topic in topics:
        name, _, key = topic.partition(":")
        if topic in (events.BOARD,):
            allowed.add(topic)
        elif name == "worker":
            allowed.add(events.worker_topic(_worker_allowed(key, worker_id, staff is not None)))
        elif topic == events.STAFF and staff is not None:
            allowed.add(topic)
        elif name == "screen" and key and (staff is not None or _is_device(key)):
            allowed.add(topic)
        elif topic == events.STAFF or name == "screen":
            raise _refused()
        else:
            raise InvalidInput(
                [
                    FieldError(
                        "topics",
                        "unknown",
                        f"没有这个主题：{topic[:40]}（可用：board、worker、staff、screen:<设备>）",
                        f"No such topic: {topic[:40]} (board, worker, staff, screen:<device>)",
                    )
                ]
            )
    return allowed


def _worker_allowed(key: str, worker_id: str | None, staff: bool) -> str:
    if key and staff:
        return key
    if worker_id is None:
        raise auth.Unauthorized()
    if key and key != worker_id:
        raise _refused()
    return worker_id


def _worker_id() -> str | None:
    """The worker asking: their own token, their phone session or the kiosk's session."""
    if g.worker is not None:
        return str(g.worker.id)
    found = phone.session_worker_id()
    if found is not None:
        return found
    # The kiosk's session, read without touching its idle timer: a stream must not keep a
    # resident signed in at a kiosk they walked away from.
    from station_node.views.kiosk import IDLE_SECONDS, _seconds

    kiosk = session.get("kiosk_worker")
    if kiosk is not None and _seconds() - session.get("kiosk_seen", 0) <= IDLE_SECONDS:
        return str(kiosk)
    return None


def _is_device(device_id: str) -> bool:
    """The device itself: its bearer token, or the paired screen's cookie in its browser."""
    from station_node.services import devices
    from station_node.views import screens

    if screens.follows(device_id):
        return True
    try:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        device = devices.authenticate(token.strip() if scheme.lower() == "bearer" else None)
    except Exception:  # any refusal: not this device
        return False
    return str(device.id) == device_id


def _refused() -> Forbidden:
    return Forbidden(
        "topic_forbidden", "您无权收看这个主题的消息", "You may not follow this topic's events"
    )


def _last_event_id() -> int | None:
    """The header a reconnecting EventSource sends wins over the query (the page's first id)."""
    query = request.args.getlist("last_event_id")
    text = query[-1].strip() if query else "0"
    digits = text[1:] if text.startswith("-") else text
    if len(query) > 1 or not digits.isdigit() or len(digits) > 19:
        raise InvalidInput(
            [
                FieldError(
                    "last_event_id",
                    "invalid",
                    "last_event_id 应为上次收到的事件编号（整数）",
                    "last_event_id must be the id of the last event received (an integer)",
                )
            ]
        )
    header = (request.headers.get("Last-Event-ID") or "").strip()
    if header:
        # Whatever the browser echoes back: an id not of ours reloads the page.
        return int(header) if header.isdigit() and len(header) < 20 else 0
    return int(text) if query else None


def _frame(event: events.Event) -> str:
    data = json.dumps(dict(event.data), ensure_ascii=False, separators=(",", ":"), default=str)
    return f"id: {event.id}\nevent: {event.kind}\ndata: {data}\n\n"


def _body(subscription: events.Subscription, seconds: float) -> Iterator[str]:
    with subscription:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        deadline = time.monotonic() + seconds
        while not subscription.reload:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            batch = subscription.wait(min(HEARTBEAT_SECONDS, left))
            if subscription.reload:
                break
            if not batch:
                yield ": heartbeat\n\n"
            for event in batch:
                yield _frame(event)
        # Missed more than the buffer holds (or a restart): the page must fetch itself afresh.
        yield f"id: {subscription.cursor}\nevent: reload\ndata: {{}}\n\n"
