"""The hub database: any `playhouse.db_url` address (SQLite file by default, PostgreSQL in
production), a connection per request, numbered migrations.

Nothing here keeps state between requests: several hub processes may share one PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import peewee
from flask import Flask
from playhouse.db_url import connect

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 15000,
    "synchronous": "normal",
    "cache_size": -32000,
}
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def database_url(config: dict[str, Any]) -> str:
    """The address the hub uses: DATABASE_URL, or the SQLite file in the data folder."""
    url = str(config.get("DATABASE_URL") or "")
    if url:
        return url
    return f"sqlite:///{Path(config['DATA_DIR']) / 'hub.sqlite'}"


def open_database(url: str, schema: str = "") -> peewee.Database:
    """Open the database at `url` and bind the proxy to it (no connection is made yet)."""
    params: dict[str, Any] = {}
    if url.startswith("sqlite"):
        params = {"pragmas": SQLITE_PRAGMAS, "timeout": 15}
    elif schema:
        if not _SCHEMA_NAME.match(schema):
            raise ValueError(f"not a valid schema name: {schema!r}")
        params = {"options": f"-c search_path={schema}"}
    db = connect(url, **params)
    if isinstance(db, peewee.SqliteDatabase):
        Path(db.database).parent.mkdir(parents=True, exist_ok=True)
    database.initialize(db)
    return db


def is_sqlite() -> bool:
    """True when the hub runs on the embedded SQLite engine."""
    return isinstance(database.obj, peewee.SqliteDatabase)


def init_app(app: Flask) -> None:
    """Bind the database to the app and open/close a connection around each request."""
    open_database(database_url(app.config), app.config.get("DATABASE_SCHEMA", ""))

    @app.before_request
    def _connect() -> None:
        database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()


def atomic() -> Any:
    """A write transaction; on SQLite it takes the write lock first (BEGIN IMMEDIATE)."""
    db = database.obj
    if isinstance(db, peewee.SqliteDatabase):
        return db.atomic(lock_type="IMMEDIATE")
    return database.atomic()


def locked(query: peewee.Select) -> peewee.Select:
    """`query` with a row lock (SELECT ... FOR UPDATE) where the engine has row locks.

    SQLite has none, and needs none: `atomic()` already holds its single write lock.
    """
    return query if is_sqlite() else query.for_update()


def insert_rows(model: type[peewee.Model], rows: list[dict[str, Any]]) -> None:
    """Insert many rows with one prepared statement (executemany), skipping duplicates.

    The hot path of ingest: peewee's query builder costs more than the database for wide
    multi-row inserts, so values go through each field's `db_value` and straight to the driver.
    """
    if not rows:
        return
    fields = [model._meta.fields[name] for name in rows[0]]
    mark = "?" if is_sqlite() else "%s"
    table = model._meta.table_name
    sql = (f'INSERT INTO "{table}" ({", ".join(f.column_name for f in fields)}) '
           f'VALUES ({", ".join([mark] * len(fields))}) ON CONFLICT DO NOTHING')
    sqlite = is_sqlite()

    def value(field: peewee.Field, raw: Any) -> Any:
        out = field.db_value(raw)
        return str(out) if sqlite and isinstance(out, dt.datetime) else out

    params = [[value(f, row[f.name]) for f in fields] for row in rows]
    cursor = database.cursor()
    cursor.executemany(sql, params)


class SchemaVersion(peewee.Model):
    version = peewee.IntegerField(primary_key=True)

    class Meta:
        database = database
        table_name = "hub_schema_version"


def _create_all() -> None:
    from central_hub import models

    database.create_tables(models.ALL_MODELS)


def _seed_hub_state() -> None:
    from central_hub.models import HubState

    HubState.insert(key="hub_log", seq=0, head="").on_conflict_ignore().execute()


# Numbered migrations, applied in order, each once. Append; never edit a released one.
MIGRATIONS: list[tuple[int, Callable[[], None]]] = [
    (1, _create_all),
    (2, _seed_hub_state),
]


def migrate(schema: str = "") -> list[int]:
    """Apply the migrations the database has not seen yet; return their numbers.

    Safe to run from two processes at once on PostgreSQL: an advisory lock serialises them.
    """
    applied: list[int] = []
    with database.connection_context():
        if not is_sqlite():
            if schema:
                database.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            database.execute_sql("SELECT pg_advisory_lock(727271)")
        try:
            database.create_tables([SchemaVersion])
            done = {row.version for row in SchemaVersion.select()}
            for number, step in MIGRATIONS:
                if number in done:
                    continue
                with atomic():
                    step()
                    SchemaVersion.create(version=number)
                applied.append(number)
        finally:
            if not is_sqlite():
                database.execute_sql("SELECT pg_advisory_unlock(727271)")
    return applied
