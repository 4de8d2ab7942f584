"""The hub's own signed log of decisions, which every station pulls."""

from __future__ import annotations

import peewee

from central_hub.models.base import BaseModel, utcnow
from kuaigong.db import JSONField


class HubState(BaseModel):
    """A locked row per hub-wide counter (the hub log's seq and head)."""

    key = peewee.CharField(primary_key=True, max_length=32)
    seq = peewee.IntegerField(default=0)
    head = peewee.CharField(max_length=64, default="")
    hlc_wall = peewee.BigIntegerField(default=0)
    hlc_counter = peewee.IntegerField(default=0)


class HubLogEntry(BaseModel):
    """One hub decision. `raw` is the exact canonical entry bytes served (sync_protocol format,
    station = the hub's id); `targets` the stations it concerns (null: every station)."""

    seq = peewee.IntegerField(primary_key=True)
    entry_hash = peewee.CharField(max_length=64)
    prev_hash = peewee.CharField(max_length=64, default="")
    entity = peewee.CharField(max_length=32)
    entity_id = peewee.CharField(max_length=64)
    op = peewee.CharField(max_length=16)
    fields = JSONField(default=dict)
    targets = JSONField(null=True)
    raw = peewee.TextField()
    created_at = peewee.DateTimeField(default=utcnow)
