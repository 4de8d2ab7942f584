"""The station's use cases. Each public function is one transaction (`db.atomic()`): it checks
its whole input first, writes its rows, appends the matching change-log entries, and returns
model instances. Views and the CLI call these; nothing else writes the database.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import Any, TypeVar

import peewee
from flask import current_app, has_app_context

from kuaigong import clock
from kuaigong.errors import Forbidden, NotFound
from station_node.models import Staff

M = TypeVar("M", bound=peewee.Model)

DEFAULT_UTC_OFFSET_HOURS = 8  # China Standard Time, no daylight saving
DEFAULT_TIME_ZONE = "Asia/Shanghai"


def utc_offset_hours() -> int:
    """The station's local offset from UTC in whole hours: config UTC_OFFSET_HOURS, else the
    zone TIME_ZONE (default Asia/Shanghai) as it stands now (China keeps no summer time)."""
    if not has_app_context():
        return DEFAULT_UTC_OFFSET_HOURS
    cfg = current_app.config
    if cfg.get("UTC_OFFSET_HOURS") is not None:
        return int(cfg["UTC_OFFSET_HOURS"])
    hour = clock.now().replace(minute=0, second=0, microsecond=0)
    return _zone_offset(str(cfg.get("TIME_ZONE") or DEFAULT_TIME_ZONE), hour)


@functools.lru_cache(maxsize=64)
def _zone_offset(name: str, hour: dt.datetime) -> int:
    """The zone's offset in whole hours during one UTC hour (cached: asked per row shown)."""
    moment = hour.replace(tzinfo=dt.UTC).astimezone(zoneinfo.ZoneInfo(name))
    return int((moment.utcoffset() or dt.timedelta()).total_seconds() // 3600)


def local_now() -> dt.datetime:
    """The station's wall-clock time (naive local), from the app clock."""
    return clock.now() + dt.timedelta(hours=utc_offset_hours())


def local_today() -> dt.date:
    """Today's date at the station."""
    return local_now().date()


def get_or_404(model: type[M], key: Any, what_zh: str, what_en: str) -> M:
    """The row with primary key `key`, or NotFound naming what was looked for."""
    row = model.get_or_none(model._meta.primary_key == key) if key is not None else None
    if row is None:
        raise NotFound(what_zh, what_en)
    return row


def require_staff(actor: Staff | None) -> Staff:
    """The acting staff member; Forbidden when the action needs one and there is none."""
    if actor is None or not getattr(actor, "active", False):
        raise Forbidden("staff_only", "此操作需要工作人员登录", "Only station staff can do this")
    return actor
