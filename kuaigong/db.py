"""What both apps' databases share: the base model, the JSON column, the write transaction,
a connection per request and the numbered-migration runner.

Each app keeps its own `database` proxy and engine setup (the station one SQLite file with a
pool, the hub any `playhouse.db_url` address) and passes it in.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import peewee
from flask import Flask

Migration = Callable[[Any], None]


class JSONField(peewee.TextField):
    """A list or dict stored as compact JSON text (sorted keys, real UTF-8)."""

    def db_value(self, value: Any) -> str | None:
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    def python_value(self, value: str | None) -> Any:
        return None if value is None else json.loads(value)


class Model(peewee.Model):
    """Base of every table: table names in snake_case. Each app's base adds its database."""

    class Meta:
        legacy_table_names = False


def atomic(database: peewee.DatabaseProxy) -> Any:
    """A write transaction; on SQLite it takes the write lock first (BEGIN IMMEDIATE)."""
    db = database.obj
    if isinstance(db, peewee.SqliteDatabase):
        return db.atomic(lock_type="IMMEDIATE")
    return database.atomic()


def connect_per_request(app: Flask, database: peewee.DatabaseProxy) -> None:
    """Open a connection before each request of `app` and give it back afterwards."""

    @app.before_request
    def _connect() -> None:
        database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()


def migrate(
    database: peewee.DatabaseProxy,
    steps: Sequence[tuple[int, Migration]],
    versions: type[peewee.Model],
    until: int | None = None,
) -> list[int]:
    """Apply the numbered `steps` the database has not seen yet (up to `until`), each in its own
    transaction together with its row in the `versions` table; return the numbers applied.

    The caller holds whatever lock keeps two processes from migrating at once.
    """
    database.create_tables([versions])
    done = {row.version for row in versions.select()}
    applied: list[int] = []
    for number, step in steps:
        if number in done or (until is not None and number > until):
            continue
        with atomic(database):
            step(database)
            versions.create(version=number)
        applied.append(number)
    return applied
