"""Hub admins, the log of who opened a sealed ID number, and sign-in limits with their audit."""

from __future__ import annotations

import peewee

from central_hub.models.base import BaseModel, utcnow
from central_hub.states import Role

ROLES = tuple(Role)


class Admin(BaseModel):
    """A person who signs in to the hub: `admin` may change things, `auditor` only reads."""

    username = peewee.CharField(unique=True, max_length=64)
    display_name = peewee.CharField(max_length=64)
    role = peewee.CharField(max_length=16, default=Role.ADMIN)
    password_hash = peewee.CharField(max_length=255)
    active = peewee.BooleanField(default=True)
    created_at = peewee.DateTimeField(default=utcnow)
    last_login_at = peewee.DateTimeField(null=True)


class IdAccess(BaseModel):
    """An admin opened a person's sealed ID number: who, whose, why, when."""

    admin = peewee.ForeignKeyField(Admin)
    id_hash = peewee.CharField(max_length=64)
    purpose = peewee.CharField(max_length=200)
    at = peewee.DateTimeField(default=utcnow)


class SigninThrottle(BaseModel):
    """Failed hub sign-ins counted per typed username and per client address (all processes)."""

    scope = peewee.CharField(max_length=16)  # ThrottleScope
    key = peewee.CharField(max_length=64)  # the typed username, or the client address
    failures = peewee.IntegerField(default=0)
    last_failure_at = peewee.DateTimeField(null=True)
    blocked_until = peewee.DateTimeField(null=True)
    locked = peewee.BooleanField(default=False)  # the block is the long lock, not a short delay

    class Meta:
        indexes = ((("scope", "key"), True),)


class SigninEvent(BaseModel):
    """The audit of sign-in locks: locked (why, until) and unlocked (by whom)."""

    event = peewee.CharField(max_length=16)  # SigninEventKind
    scope = peewee.CharField(max_length=16)
    key = peewee.CharField(max_length=64)
    failures = peewee.IntegerField(default=0)
    until = peewee.DateTimeField(null=True)
    reason = peewee.CharField(max_length=200, default="")
    by = peewee.CharField(max_length=64, null=True)  # the admin who unlocked
    at = peewee.DateTimeField(default=utcnow)
