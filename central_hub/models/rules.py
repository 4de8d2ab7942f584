"""City-wide rules the hub sends to every station through its log."""

from __future__ import annotations

import peewee

from central_hub.models.accounts import Admin
from central_hub.models.base import BaseModel, utcnow
from kuaigong.db import JSONField

RULE_KINDS = (
    "blocked_employer",
    "blocked_intermediary",
    "announcement",
    "service_rules",
    "screening_phrase",
)
# What a city screening phrase flags at the stations (station_node.services.screening).
PHRASE_KINDS = ("asks_for_money", "withholds_id_card", "training_trap", "bait_wording")


class CityRule(BaseModel):
    kind = peewee.CharField(max_length=32, index=True)
    title = peewee.CharField(max_length=200)
    body = JSONField(default=dict)
    active = peewee.BooleanField(default=True)
    created_by = peewee.ForeignKeyField(Admin, null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    hub_seq = peewee.IntegerField(null=True)
