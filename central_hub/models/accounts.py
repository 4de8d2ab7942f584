"""Hub admins and the log of who opened a sealed ID number."""

from __future__ import annotations

import peewee

from central_hub.models.base import BaseModel, utcnow

ROLES = ("admin", "auditor")


class Admin(BaseModel):
    """A person who signs in to the hub: `admin` may change things, `auditor` only reads."""

    username = peewee.CharField(unique=True, max_length=64)
    display_name = peewee.CharField(max_length=64)
    role = peewee.CharField(max_length=16, default="admin")
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
