"""Stations, their keys and enrolment codes, and what the hub has accepted from each."""

from __future__ import annotations

import peewee

from central_hub.models.accounts import Admin
from central_hub.models.base import BaseModel, utcnow
from central_hub.states import CodePurpose, KeyStatus, StationStatus
from kuaigong.db import JSONField


class Station(BaseModel):
    """A 零工驿站 known to the hub, with its accepted head and its sync health."""

    id = peewee.CharField(primary_key=True, max_length=32)
    name = peewee.CharField(max_length=100)
    district = peewee.CharField(max_length=64)
    community = peewee.CharField(max_length=64)
    status = peewee.CharField(max_length=16, default=StationStatus.PENDING)
    created_at = peewee.DateTimeField(default=utcnow)
    enrolled_at = peewee.DateTimeField(null=True)
    # The accepted head of the station's change log.
    epoch = peewee.IntegerField(default=1)
    head_seq = peewee.IntegerField(default=0)
    head_hash = peewee.CharField(max_length=64, default="")
    head_hlc = peewee.BigIntegerField(default=0)  # wall ms of the newest accepted entry
    head_hlc_counter = peewee.IntegerField(default=0)
    head_checkpoint = peewee.BlobField(null=True)  # the signed checkpoint of the accepted head
    # Health, as last seen.
    frozen = peewee.BooleanField(default=False)
    frozen_reason = peewee.CharField(max_length=200, null=True)
    frozen_at = peewee.DateTimeField(null=True)
    last_sync_at = peewee.DateTimeField(null=True)
    last_contact_at = peewee.DateTimeField(null=True)
    pending_reported = peewee.IntegerField(null=True)  # entries the station says still wait
    clock_offset_ms = peewee.BigIntegerField(null=True)  # station wall clock − hub wall clock
    last_error = peewee.CharField(max_length=64, null=True)
    last_error_at = peewee.DateTimeField(null=True)
    # Hub log delivery: highest seq served to it / acknowledged by it (its `after`).
    hub_seq_served = peewee.IntegerField(default=0)
    hub_seq_acked = peewee.IntegerField(default=0)
    last_pull_at = peewee.DateTimeField(null=True)


class EnrolmentCode(BaseModel):
    """A one-time code that lets a station register its key; only its hash is stored."""

    code_hash = peewee.CharField(max_length=64, unique=True)
    station = peewee.ForeignKeyField(Station, backref="codes", on_delete="CASCADE")
    purpose = peewee.CharField(max_length=16, default=CodePurpose.ENROL)
    expires_at = peewee.DateTimeField()
    used_at = peewee.DateTimeField(null=True)
    created_by = peewee.ForeignKeyField(Admin, null=True)
    created_at = peewee.DateTimeField(default=utcnow)


class StationKey(BaseModel):
    """A station's Ed25519 public key. Revoked keys are refused for entries after
    `revoked_after_seq`."""

    station = peewee.ForeignKeyField(Station, backref="keys", on_delete="CASCADE")
    key_id = peewee.CharField(max_length=64, unique=True)
    public_key = peewee.CharField(max_length=64)  # 32 bytes, hex
    status = peewee.CharField(max_length=16, default=KeyStatus.ACTIVE)
    # The part of the station's log this key may sign: (epoch, seq) positions, inclusive.
    valid_from_epoch = peewee.IntegerField(default=1)
    valid_from_seq = peewee.IntegerField(default=0)
    valid_until_epoch = peewee.IntegerField(null=True)
    valid_until_seq = peewee.IntegerField(null=True)
    revoked_after_epoch = peewee.IntegerField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)
    revoked_at = peewee.DateTimeField(null=True)
    revoked_after_seq = peewee.IntegerField(null=True)  # the revocation point
    reason = peewee.CharField(max_length=200, null=True)


class AppliedEntry(BaseModel):
    """Idempotency record: one row per accepted station entry, written with its effects."""

    station = peewee.ForeignKeyField(Station, on_delete="CASCADE", index=False)
    epoch = peewee.IntegerField()
    seq = peewee.IntegerField()
    entry_hash = peewee.CharField(max_length=64)
    entity = peewee.CharField(max_length=32)
    entity_id = peewee.CharField(max_length=64)
    op = peewee.CharField(max_length=16)
    hlc = peewee.BigIntegerField()
    applied_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "epoch", "seq"), True),)


class Receipt(BaseModel):
    """A receipt the hub signed for a station: its proof of what the hub holds."""

    station = peewee.ForeignKeyField(Station, on_delete="CASCADE")
    epoch = peewee.IntegerField()
    seq = peewee.IntegerField()
    head_hash = peewee.CharField(max_length=64)
    hub_seq = peewee.IntegerField()
    body = JSONField()
    created_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "epoch", "seq"), True),)


class HeldBatch(BaseModel):
    """A batch that arrived ahead of a gap; kept until the missing range comes in."""

    station = peewee.ForeignKeyField(Station, on_delete="CASCADE")
    epoch = peewee.IntegerField()
    first_seq = peewee.IntegerField()
    last_seq = peewee.IntegerField()
    body = peewee.BlobField()
    received_at = peewee.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("station", "epoch", "first_seq", "last_seq"), True),)


class Evidence(BaseModel):
    """What a refused batch looked like: forks keep both signed checkpoints."""

    station = peewee.ForeignKeyField(Station, on_delete="CASCADE")
    kind = peewee.CharField(max_length=16)  # EvidenceKind
    reason = peewee.CharField(max_length=64)
    details = JSONField(default=dict)
    body = peewee.BlobField(null=True)
    created_at = peewee.DateTimeField(default=utcnow)


class ClockAllowance(BaseModel):
    """An admin's "accept with hub time" for a station whose clock ran ahead (SYNC.md rule 7):
    its batches up to `up_to_seq` of `epoch` pass without the drift refusal, and their stamps
    merge as no later than when the hub first heard of them (`marks`: [[seq, hub ms], ...],
    ascending: entries up to that seq existed at that hub time)."""

    station = peewee.ForeignKeyField(Station, primary_key=True, on_delete="CASCADE")
    epoch = peewee.IntegerField()
    up_to_seq = peewee.IntegerField()
    marks = JSONField(default=list)
    issue = peewee.IntegerField(null=True)  # the queue item that granted it (the latest)
    granted_by = peewee.ForeignKeyField(Admin, null=True)
    granted_at = peewee.DateTimeField(default=utcnow)
