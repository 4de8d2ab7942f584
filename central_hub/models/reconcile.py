"""The reconciliation queue: everything a hub admin must decide."""

from __future__ import annotations

import peewee

from central_hub.models.accounts import Admin
from central_hub.models.base import BaseModel, utcnow
from central_hub.states import IssueKind, IssueStatus
from kuaigong.db import JSONField

KINDS = tuple(IssueKind)


class Issue(BaseModel):
    """One item needing a person. `dedupe` keeps two hub processes from opening it twice."""

    kind = peewee.CharField(max_length=16, index=True)  # IssueKind
    status = peewee.CharField(max_length=16, default=IssueStatus.OPEN, index=True)
    dedupe = peewee.CharField(max_length=200, unique=True)
    subject = peewee.CharField(max_length=64)
    stations = JSONField(default=list)  # the stations it concerns
    details = JSONField(default=dict)
    created_at = peewee.DateTimeField(default=utcnow)
    decision = peewee.CharField(max_length=32, null=True)
    note = peewee.CharField(max_length=500, null=True)
    decided_by = peewee.ForeignKeyField(Admin, null=True)
    decided_at = peewee.DateTimeField(null=True)
    hub_seq = peewee.IntegerField(null=True)  # the hub-log entry recording the decision
