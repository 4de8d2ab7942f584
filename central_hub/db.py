"""The hub database: any `playhouse.db_url` address (SQLite file by default, PostgreSQL in
production), a connection per request, numbered migrations.

Nothing here keeps state between requests: several hub processes may share one PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import peewee
from flask import Flask
from playhouse.db_url import connect
from psycopg2.extras import execute_batch, execute_values

from central_hub import migrations
from kuaigong import db as kernel

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 15000,
    "synchronous": "normal",
    "cache_size": -32000,
}
IN_CHUNK = 5000  # values per IN (...) test: far below SQLite's 32,766 variables
PAGE_ROWS = 1000  # rows per multi-row statement on PostgreSQL
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
    kernel.connect_per_request(app, database)


def atomic() -> Any:
    """A write transaction; on SQLite it takes the write lock first (BEGIN IMMEDIATE)."""
    return kernel.atomic(database)


def locked(query: peewee.Select) -> peewee.Select:
    """`query` with a row lock (SELECT ... FOR UPDATE) where the engine has row locks.

    SQLite has none, and needs none: `atomic()` already holds its single write lock.
    """
    return query if is_sqlite() else query.for_update()


def dbtime(value: dt.datetime | None) -> Any:
    """A naive UTC datetime as the engine stores it (text on SQLite, as is on PostgreSQL)."""
    if value is None or not is_sqlite():
        return value
    return str(value)


def member(column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
    """SQL for `column` ∈ `values` and its parameters (PostgreSQL: one array parameter)."""
    if is_sqlite():
        return f'"{column}" IN ({",".join("?" * len(values))})', list(values)
    return f'"{column}" = ANY(%s)', [list(values)]


def fetch_in(
    sql: str, column: str, values: Sequence[Any], params: Sequence[Any] = (), lock: bool = False
) -> list[tuple[Any, ...]]:
    """Rows of `sql` (`{in}` marks where `column` ∈ `values` goes, `{p}` each further parameter),
    in chunks of at most `IN_CHUNK` values; `lock` adds FOR UPDATE on PostgreSQL."""
    out: list[tuple[Any, ...]] = []
    mark = "?" if is_sqlite() else "%s"
    for i in range(0, len(values), IN_CHUNK):
        test, args = member(column, values[i : i + IN_CHUNK])
        text = sql.format(**{"in": test, "p": mark})
        if lock and not is_sqlite():
            text += " FOR UPDATE"
        out.extend(database.execute_sql(text, [*args, *params]).fetchall())
    return out


_PREPARED: dict[tuple[str, bool], str] = {}


def prepared(name: str, build: Callable[[], Any]) -> str:
    """The SQL text of the query `build()` makes, compiled once per engine kind under `name`;
    run it with the same parameters in the same order (hot, per-push queries)."""
    key = (name, is_sqlite())
    sql = _PREPARED.get(key)
    if sql is None:
        sql = _PREPARED[key] = build().sql()[0]
    return sql


def update_row(table: str, key: str, key_value: Any, fields: dict[str, Any]) -> None:
    """`UPDATE table SET fields… WHERE key = key_value` with ready values (datetimes converted)."""
    mark = database.param
    names = sorted(fields)
    sets = ", ".join(f'"{n}" = {mark}' for n in names)
    values = [dbtime(v) if isinstance(v, dt.datetime) else v for v in (fields[n] for n in names)]
    database.execute_sql(
        f'UPDATE "{table}" SET {sets} WHERE "{key}" = {mark}', [*values, key_value]
    )


def insert_values(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], conflict: str = "DO NOTHING"
) -> None:
    """Insert many rows of ready database values in one go, `ON CONFLICT <conflict>`.

    The hot path of ingest: no query builder, no per-field conversion. SQLite gets one prepared
    statement run with executemany; PostgreSQL gets multi-row VALUES pages (execute_values).
    """
    if not rows:
        return
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = database.cursor()
    if is_sqlite():
        marks = ", ".join("?" * len(columns))
        cursor.executemany(
            f'INSERT INTO "{table}" ({names}) VALUES ({marks}) ON CONFLICT {conflict}', rows
        )
        return
    execute_values(
        cursor,
        f'INSERT INTO "{table}" ({names}) VALUES %s ON CONFLICT {conflict}',
        rows,
        page_size=PAGE_ROWS,
    )


def update_values(
    table: str, key: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """`UPDATE table SET columns… WHERE key = …` for many rows; each row is (values…, key)."""
    if not rows:
        return
    cursor = database.cursor()
    if is_sqlite():
        sets = ", ".join(f'"{c}" = ?' for c in columns)
        cursor.executemany(f'UPDATE "{table}" SET {sets} WHERE "{key}" = ?', rows)
        return
    sets = ", ".join(f'"{c}" = %s' for c in columns)
    execute_batch(
        cursor, f'UPDATE "{table}" SET {sets} WHERE "{key}" = %s', rows, page_size=PAGE_ROWS
    )


class SchemaVersion(peewee.Model):
    version = peewee.IntegerField(primary_key=True)

    class Meta:
        database = database
        table_name = "hub_schema_version"


def migrate(schema: str = "", until: int | None = None) -> list[int]:
    """Apply the migrations the database has not seen yet (up to `until`); return their numbers.

    Safe to run from two processes at once on PostgreSQL: an advisory lock serialises them.
    """
    with database.connection_context():
        if not is_sqlite():
            if schema:
                database.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            database.execute_sql("SELECT pg_advisory_lock(727271)")
        try:
            return kernel.migrate(database, migrations.MIGRATIONS, SchemaVersion, until)
        finally:
            if not is_sqlite():
                database.execute_sql("SELECT pg_advisory_unlock(727271)")
