"""Tables of the sync client: the hub log as applied here, and the city's rules in force."""

from __future__ import annotations

import peewee

from station_node.models import BaseModel, JSONField, utcnow


class HubEntry(BaseModel):
    """One verified entry of the hub-signed log, applied here once (seq is the hub's)."""

    seq = peewee.IntegerField(primary_key=True)
    entry_hash = peewee.CharField(max_length=64)
    entity = peewee.CharField(max_length=32)
    entity_id = peewee.CharField(max_length=64)
    op = peewee.CharField(max_length=16)
    fields = JSONField()
    outcome = peewee.CharField(max_length=200)  # what applying it did here ("deferred" = later)
    applied_at = peewee.DateTimeField(default=utcnow)


class CityRule(BaseModel):
    """A city-wide rule from the hub: blocked employer or intermediary, announcement, service
    rules."""

    id = peewee.CharField(primary_key=True, max_length=64)  # the hub's rule id
    kind = peewee.CharField(max_length=32)
    body = JSONField()
    active = peewee.BooleanField(default=True)
    hub_seq = peewee.IntegerField()


ALL_MODELS: list[type[BaseModel]] = [HubEntry, CityRule]
