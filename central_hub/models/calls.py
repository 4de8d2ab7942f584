"""Signed calls the hub has taken (one-time nonces) and pushes it refused as not the station's."""

from __future__ import annotations

import peewee

from central_hub.models.base import BaseModel, utcnow
from central_hub.models.stations import Station


class CallNonce(BaseModel):
    """A nonce of a station's signed call, kept while its time is inside the window: a call
    seen once is refused as a replay."""

    station = peewee.ForeignKeyField(Station, on_delete="CASCADE", index=False)
    nonce = peewee.CharField(max_length=32)
    time_ms = peewee.BigIntegerField()  # the call's signed time
    seen_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "nonce"), True), (("station", "time_ms"), False))


class PushRefusal(BaseModel):
    """How many pushes to a station were refused as not provably its own (no or a bad call
    signature, a replayed call, a body other than the signed one, a batch or bundle whose
    entries its key did not sign), and the last one."""

    station = peewee.ForeignKeyField(
        Station, primary_key=True, on_delete="CASCADE", backref="push_refusals"
    )
    count = peewee.IntegerField(default=0)
    last_at = peewee.DateTimeField(null=True)
    last_reason = peewee.CharField(max_length=64, null=True)
    last_detail = peewee.CharField(max_length=200, null=True)
