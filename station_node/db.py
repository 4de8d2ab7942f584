"""The station database: one SQLite file in WAL mode, migrated by number.

Each request (and each `connection_context`) takes a connection from a small pool and gives it
back afterwards. Opening a SQLite connection costs more than a grab: the pragmas run again, the
schema is parsed again and the page cache starts empty, so connections are kept and reused by
whichever thread asks next (never by two at once). `close_all()` really closes them, e.g.
before the database file is replaced.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

import peewee
from flask import Flask
from playhouse.pool import PooledSqliteDatabase

from kuaigong import db as kernel
from station_node import migrations

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -2000,
    # Commits never stop to copy the WAL into the database (that stall was the slowest postings'
    # tail); the scheduler checkpoints in the background instead (`checkpoint`), and this is
    # only the safety net should it not run.
    "wal_autocheckpoint": 20000,
}


POOL_SIZE = 32  # connections at most: server threads, the scheduler, sync, the CLI
POOL_WAIT_SECONDS = 10


def open_database(path: str | Path) -> peewee.SqliteDatabase:
    """Open (creating if needed) the station's SQLite file and bind the proxy to it."""
    close_all()
    db = PooledSqliteDatabase(
        str(path),
        pragmas=SQLITE_PRAGMAS,
        max_connections=POOL_SIZE,
        timeout=POOL_WAIT_SECONDS,
        check_same_thread=False,
    )
    database.initialize(db)
    return db


def close_all() -> None:
    """Close every pooled connection of the bound database (before its file is moved or
    replaced)."""
    db = database.obj
    if isinstance(db, PooledSqliteDatabase):
        db.close_all()
    elif db is not None and not db.is_closed():
        db.close()


def database_path(app: Flask) -> Path:
    """The SQLite file the app uses, resolved against its data folder."""
    path = Path(app.config["DATABASE"])
    if not path.is_absolute():
        path = Path(app.config["DATA_DIR"]) / path
    return path


def init_app(app: Flask) -> None:
    """Bind the database to the app and open/close a connection around each request."""
    path = database_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)
    open_database(path)
    kernel.connect_per_request(app, database)


write_gate = threading.Lock()  # this process's writers queue here before BEGIN IMMEDIATE


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """A write transaction (BEGIN IMMEDIATE), queued first on the process's write gate.

    Correctness comes from SQLite's write lock alone. The queue is for speed: a thread waiting
    here starts the moment the writer before it commits, where one waiting inside SQLite's busy
    handler sleeps between retries, ever longer, and may wake well after the lock is free; and
    the checkpoint beat can find a moment with no writer in the middle of a transaction.
    Inside an outer transaction it is a plain savepoint.
    """
    if database.in_transaction():
        with atomic():
            yield
        return
    queued = write_gate.acquire(timeout=10)
    try:
        with atomic():
            yield
    finally:
        if queued:
            write_gate.release()


@contextlib.contextmanager
def atomic() -> Iterator[None]:
    """A write transaction; on SQLite it takes the write lock first (BEGIN IMMEDIATE).

    Nested, a savepoint. What `on_commit` queued inside runs once the outermost one commits, and
    is dropped with the part of the transaction that rolls back.
    """
    queued = _after_commit.__dict__.setdefault("calls", [])
    mark, outermost = len(queued), not database.in_transaction()
    try:
        with kernel.atomic(database):
            yield
    except BaseException:
        del queued[mark:]
        raise
    if outermost:
        calls, queued[:] = list(queued), []
        for call in calls:
            call()


_after_commit = threading.local()


def on_commit(call: Callable[[], None]) -> None:
    """Run `call` once the current transaction commits (now if there is none), never if it
    rolls back: for what must not be seen before the data is (live events)."""
    if not database.in_transaction():
        call()
        return
    _after_commit.__dict__.setdefault("calls", []).append(call)


# -- fixed SQL for hot paths ------------------------------------------------------------------
# peewee builds a statement anew on every call (about as costly as running it on SQLite); the
# grab path and the change log write the same few statements over and over, so they keep the
# text and convert values with the fields' own db_value, exactly as peewee would.


_statements: dict[tuple[Any, ...], str] = {}


def _statement(kind: str, model: type[peewee.Model], names: tuple[str, ...], key: str = "") -> str:
    """The SQL text of an insert, update or select of `names`, made once per shape."""
    found = _statements.get((kind, model, names, key))
    if found is not None:
        return found
    meta = model._meta
    columns = [f'"{meta.fields[n].column_name}"' for n in names]
    if kind == "insert":
        text = (
            f'INSERT INTO "{meta.table_name}" ({", ".join(columns)}) '
            f"VALUES ({', '.join('?' for _ in names)})"
        )
    elif kind == "update":
        sets = ", ".join(f"{c} = ?" for c in columns)
        text = f'UPDATE "{meta.table_name}" SET {sets} WHERE "{meta.primary_key.column_name}" = ?'
    else:
        text = (
            f'SELECT {", ".join(columns)} FROM "{meta.table_name}" '
            f'WHERE "{meta.fields[key].column_name}" = ? LIMIT 1'
        )
    _statements[(kind, model, names, key)] = text
    return text


def _params(model: type[peewee.Model], values: Mapping[str, Any]) -> list[Any]:
    fields = model._meta.fields
    return [fields[name].db_value(value) for name, value in values.items()]


M = TypeVar("M", bound=peewee.Model)


def get_row(model: type[M], key: str, value: Any, names: tuple[str, ...] | None = None) -> M | None:
    """The row of `model` whose field `key` equals `value` (a unique field), or None.

    Only the fields `names` are read when given (all of them otherwise); the instance is built
    as peewee builds query results, without defaults and with nothing marked dirty.
    """
    values = get_values(model, key, value, names)
    if values is None:
        return None
    row = model(__no_default__=1, **values)
    row._dirty.clear()
    return row


def get_values(
    model: type[peewee.Model], key: str, value: Any, names: tuple[str, ...] | None = None
) -> dict[str, Any] | None:
    """Like `get_row`, as a dict of field name → Python value."""
    fields = model._meta.fields
    names = names or tuple(model._meta.sorted_field_names)
    found = database.execute_sql(
        _statement("select", model, names, key), (fields[key].db_value(value),)
    ).fetchone()
    if found is None:
        return None
    return {n: fields[n].python_value(v) for n, v in zip(names, found, strict=True)}


def insert_row(model: type[peewee.Model], values: Mapping[str, Any]) -> None:
    """Insert one row of `model` (field name → value) with a cached statement."""
    database.execute_sql(_statement("insert", model, tuple(values)), _params(model, values))


def update_row(model: type[peewee.Model], key: Any, values: Mapping[str, Any]) -> int:
    """Update the row of `model` with primary key `key`; returns the rows changed (0 or 1)."""
    params = _params(model, values)
    params.append(model._meta.primary_key.db_value(key))
    return int(database.execute_sql(_statement("update", model, tuple(values)), params).rowcount)


class SchemaVersion(peewee.Model):
    version = peewee.IntegerField(primary_key=True)
    applied_at = peewee.DateTimeField(constraints=[peewee.SQL("DEFAULT CURRENT_TIMESTAMP")])

    class Meta:
        database = database
        table_name = "schema_version"


def migrate(until: int | None = None) -> list[int]:
    """Apply the migrations the database has not seen yet (up to `until`); return their numbers."""
    with database.connection_context():
        return kernel.migrate(database, migrations.MIGRATIONS, SchemaVersion, until)


def checkpoint() -> None:
    """Copy what the WAL holds into the database file without waiting for anyone (PASSIVE).

    The WAL starts over from its beginning only when a writer finds all of it copied; with
    postings one after another some writer is nearly always mid-transaction while the beat
    copies, so the WAL kept growing until the commits themselves had to checkpoint (their
    slowest tail: an fdatasync of the WAL and of the database file). So after the bulk copy
    the beat, between two writers (the write gate), copies the rest and makes the first commit
    of the new WAL itself: it rewrites the database's user_version with its own value (no data
    changes; one page; the new WAL header's fdatasync is then the beat's, not a posting's).
    """
    db = database.obj
    if not isinstance(db, peewee.SqliteDatabase):
        return
    busy, frames, copied = db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    if busy or frames <= _restarted_at[0]:
        return  # readers in the way, or nothing new since the beat restarted the WAL
    if not write_gate.acquire(timeout=1):
        return
    try:
        busy, frames, copied = db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if busy or copied != frames:
            return
        with atomic():
            version = db.execute_sql("PRAGMA user_version").fetchone()[0]
            db.execute_sql(f"PRAGMA user_version = {int(version)}")
        _restarted_at[0] = 1
    finally:
        write_gate.release()


_restarted_at = [0]  # WAL frames right after the beat restarted it (its one page)
