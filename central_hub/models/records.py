"""Records replicated from the stations' change logs, merged per kind of data.

Ids are the stations' own globally unique ids (text); no foreign keys between replicated
records, because entries of different stations arrive in any order. `data` holds every field
last applied, `stamps` the (hlc, station) that wrote each field (per-field last writer wins);
a record one create entry alone wrote stores {"*": stamp} (see `services.merge.field_stamps`).
"""

from __future__ import annotations

from typing import Any

import peewee

from central_hub.models.base import BaseModel, utcnow
from kuaigong.db import JSONField
from kuaigong.states import AssignmentStatus, ComplaintStatus, JobStatus


class Person(BaseModel):
    """One human, keyed by the city's keyed ID hash; never the plaintext ID number."""

    id_hash = peewee.CharField(primary_key=True, max_length=64)
    id_masked = peewee.CharField(max_length=18, null=True)
    id_sealed = peewee.TextField(null=True)  # the ID number sealed to the hub key (hex)
    created_at = peewee.DateTimeField(default=utcnow)


class _Replicated(BaseModel):
    id = peewee.CharField(primary_key=True, max_length=64)
    station = peewee.CharField(max_length=32)  # the station that created it
    data = JSONField(default=dict)
    stamps = JSONField(default=dict)
    deleted = peewee.BooleanField(default=False)
    created_at = peewee.DateTimeField(null=True)  # station's time of creation
    received_at = peewee.DateTimeField(default=utcnow)
    # Indexes: see central_hub.db migrations 3 and 4 (partial, over live records).


class Worker(_Replicated):
    id_hash = peewee.CharField(max_length=64, null=True)
    name = peewee.CharField(max_length=64, default="")
    status = peewee.CharField(max_length=16, default="active")
    # ",veteran,low_income," (the codes between commas) so the city figures count by LIKE.
    priority_groups = peewee.CharField(max_length=200, null=True)


class Employer(_Replicated):
    kind = peewee.CharField(max_length=16, default="")
    name = peewee.CharField(max_length=128, default="")
    credit_code = peewee.CharField(max_length=18, null=True, index=True)
    id_hash = peewee.CharField(max_length=64, null=True, index=True)
    blocked = peewee.BooleanField(default=False)


class Job(_Replicated):
    title = peewee.CharField(max_length=100, default="")
    category = peewee.CharField(max_length=32, default="")
    status = peewee.CharField(max_length=16, default=JobStatus.OPEN)
    headcount = peewee.IntegerField(default=0)
    posted_at = peewee.DateTimeField(null=True)
    dispatch_started_at = peewee.DateTimeField(null=True)
    filled_at = peewee.DateTimeField(null=True)
    # Whole seconds from dispatch start (else posting) to full: kept in step with those times by
    # ingest (services.merge) and by `save`, for the city view.
    fill_seconds = peewee.IntegerField(null=True)
    confirmed_count = peewee.IntegerField(null=True)

    def save(self, *args: Any, **kwargs: Any) -> Any:
        start = self.dispatch_started_at or self.posted_at
        self.fill_seconds = (
            max(0, int((self.filled_at - start).total_seconds()))
            if self.filled_at is not None and start is not None
            else None
        )
        return super().save(*args, **kwargs)

    starts_at = peewee.DateTimeField(null=True)
    ends_at = peewee.DateTimeField(null=True)


class Assignment(_Replicated):
    job_id = peewee.CharField(max_length=64, index=True)
    worker_id = peewee.CharField(max_length=64, index=True)
    id_hash = peewee.CharField(max_length=64, null=True, index=True)
    status = peewee.CharField(max_length=16, default=AssignmentStatus.CONFIRMED)
    starts_at = peewee.DateTimeField(null=True)
    ends_at = peewee.DateTimeField(null=True)
    confirmed_at = peewee.DateTimeField(null=True)
    pay_fen = peewee.IntegerField(null=True)
    paid_at = peewee.DateTimeField(null=True)


class Complaint(_Replicated):
    kind = peewee.CharField(max_length=32, default="")
    status = peewee.CharField(max_length=16, default=ComplaintStatus.OPEN)
    resolved_at = peewee.DateTimeField(null=True)


class FieldLoss(BaseModel):
    """A field value that lost last-writer-wins: kept so admins see both values and the winner."""

    entity = peewee.CharField(max_length=32)
    entity_id = peewee.CharField(max_length=64)
    field = peewee.CharField(max_length=64)
    winner_value = JSONField(null=True)
    winner_station = peewee.CharField(max_length=32)
    winner_hlc = peewee.BigIntegerField()
    loser_value = JSONField(null=True)
    loser_station = peewee.CharField(max_length=32)
    loser_hlc = peewee.BigIntegerField()
    at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("entity", "entity_id"), False),)


class Ignored(BaseModel):
    """An entry accepted into the chain whose change the hub did not apply, and why."""

    station = peewee.CharField(max_length=32)
    seq = peewee.IntegerField()
    entity = peewee.CharField(max_length=32)
    entity_id = peewee.CharField(max_length=64)
    reason = peewee.CharField(max_length=64)
    at = peewee.DateTimeField(default=utcnow)


REPLICATED: dict[str, type[_Replicated]] = {
    "worker": Worker,
    "employer": Employer,
    "job": Job,
    "assignment": Assignment,
    "complaint": Complaint,
}
