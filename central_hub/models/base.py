"""The base every hub table derives from, and the JSON column type."""

from __future__ import annotations

import datetime as dt

from central_hub.db import database
from kuaigong import clock
from kuaigong.db import Model


def utcnow() -> dt.datetime:
    """Naive UTC now from the app's clock, the form every timestamp column stores."""
    return clock.now()


class BaseModel(Model):
    class Meta:
        database = database
