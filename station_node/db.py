"""The station database: one SQLite file in WAL mode, opened per request, migrated by number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import peewee
from flask import Flask

database = peewee.DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -16000,
}


def open_database(path: str | Path) -> peewee.SqliteDatabase:
    """Open (creating if needed) the station's SQLite file and bind the proxy to it."""
    db = peewee.SqliteDatabase(str(path), pragmas=SQLITE_PRAGMAS, timeout=10)
    database.initialize(db)
    return db


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

    @app.before_request
    def _connect() -> None:
        database.connect(reuse_if_open=True)

    @app.teardown_appcontext
    def _close(exc: BaseException | None) -> None:
        if not database.is_closed():
            database.close()


def atomic() -> peewee._atomic:
    """A write transaction; on SQLite it takes the write lock first (BEGIN IMMEDIATE)."""
    db = database.obj
    if isinstance(db, peewee.SqliteDatabase):
        return db.atomic(lock_type="IMMEDIATE")
    return database.atomic()


class SchemaVersion(peewee.Model):
    version = peewee.IntegerField(primary_key=True)
    applied_at = peewee.DateTimeField(constraints=[peewee.SQL("DEFAULT CURRENT_TIMESTAMP")])

    class Meta:
        database = database
        table_name = "schema_version"


def _create_all() -> None:
    from station_node import models

    database.create_tables(models.ALL_MODELS)


def _create_sync_tables() -> None:
    from station_node.sync import models as sync_models

    sync_models.create_tables()


# Numbered migrations, applied in order, each once. Append; never edit a released one.
MIGRATIONS: list[tuple[int, Callable[[], None]]] = [
    (1, _create_all),
    (2, _create_sync_tables),
]


def migrate() -> list[int]:
    """Apply the migrations the database has not seen yet; return their numbers."""
    applied: list[int] = []
    with database.connection_context():
        database.create_tables([SchemaVersion])
        done = {row.version for row in SchemaVersion.select()}
        for number, step in MIGRATIONS:
            if number in done:
                continue
            with atomic():
                step()
                SchemaVersion.create(version=number)
            applied.append(number)
    return applied
