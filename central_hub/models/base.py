"""The base every hub table derives from, and the JSON column type."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import peewee

from central_hub import clock
from central_hub.db import database


def utcnow() -> dt.datetime:
    """Naive UTC now from the app's clock, the form every timestamp column stores."""
    return clock.now()


class JSONField(peewee.TextField):
    """A list or dict stored as compact JSON text (sorted keys, real UTF-8)."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False
