"""The hub's migrations upgrade, on SQLite and PostgreSQL: a database made at migration 1 and
upgraded step by step equals a new one, keeps its rows, and a new one is what the models declare."""

from __future__ import annotations

import datetime as dt
import importlib
import os
import pkgutil
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest
from pg_helpers import PG_URL, drop_schema, pg_or_skip

import central_hub.models
from central_hub import db, migrations
from central_hub.models import BaseModel

# Indexes only the migrations make (partial indexes over live records), which no model declares.
INDEXES_BEYOND_MODELS = {
    "worker_live_id_hash",
    "job_live_fill_seconds",
    "job_live_station_posted_at",
    "worker_live_name",
    "worker_live_mobile",
    "worker_live_id_tail",
    "job_live_title",
    "job_live_posted_at",
    "job_live_category_posted_at",
    "job_live_status_posted_at",
    "job_live_unfilled_dispatch",
    *(
        f"{t}_live_station_created_at"
        for t in ("worker", "employer", "job", "assignment", "complaint")
    ),
}
STAMP = dt.datetime(2025, 5, 6, 1, 0)  # a fixed time; no test reads the real clock
NUMBERS = [number for number, _step in migrations.MIGRATIONS]

Opener = Callable[[str], tuple[peewee.Database, str | None]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def open_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Opens a new, empty hub database by name (a SQLite file, or a PostgreSQL schema of its
    own)."""
    schemas: list[str] = []

    def _open(name: str) -> tuple[peewee.Database, str | None]:
        if request.param == "sqlite":
            database = db.open_database(f"sqlite:///{tmp_path / name}.sqlite")
            database.connect(reuse_if_open=True)
            return database, None
        pg_or_skip()
        schema = f"hubmig_{os.getpid()}_{secrets.token_hex(4)}"
        schemas.append(schema)
        database = db.open_database(PG_URL, schema)
        database.connect(reuse_if_open=True)
        database.execute_sql(f'CREATE SCHEMA "{schema}"')
        return database, schema

    yield _open
    if not db.database.is_closed():
        db.database.close()
    for schema in schemas:
        drop_schema(schema)


def _text(value: Any, schema: str | None) -> Any:
    if not isinstance(value, str):
        return value
    if schema:
        value = value.replace(f"{schema}.", "")
    return re.sub(r"\s+", " ", value.replace(" IF NOT EXISTS", "")).strip()


def schema_of(database: peewee.Database, schema: str | None) -> dict[str, Any]:
    """Tables → columns (type, null, primary key, default), indexes and foreign keys."""
    shape: dict[str, Any] = {}
    for table in database.get_tables(schema=schema):
        columns = {
            c.name: (c.data_type.upper(), c.null, c.primary_key, _text(c.default, schema))
            for c in database.get_columns(table, schema=schema)
        }
        indexes = {
            i.name: (i.unique, tuple(i.columns), _text(i.sql, schema))
            for i in database.get_indexes(table, schema=schema)
        }
        keys = {
            (k.column, k.dest_table, k.dest_column)
            for k in database.get_foreign_keys(table, schema=schema)
        }
        shape[table] = {
            "columns": columns,
            "indexes": indexes,
            "foreign_keys": keys,
            "collations": _collations(database, table, schema),
        }
    return shape


def _collations(database: peewee.Database, table: str, schema: str | None) -> dict[str, str]:
    """Columns with a collation of their own (PostgreSQL; keyed ID hashes compare bytewise)."""
    if schema is None:
        return {}
    rows = database.execute_sql(
        "SELECT column_name, collation_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s AND collation_name IS NOT NULL",
        (schema, table),
    ).fetchall()
    return dict(rows)


def _migrate(database: peewee.Database, schema: str | None, until: int | None = None) -> list[int]:
    applied = db.migrate(schema or "", until=until)
    database.connect(reuse_if_open=True)
    return applied


def _declared_models() -> list[type[peewee.Model]]:
    """Every table model of the hub's models package (listed in ALL_MODELS or not); private
    bases such as the replicated records' (`_Replicated`) have no table of their own."""
    for module in pkgutil.iter_modules(central_hub.models.__path__):
        importlib.import_module(f"central_hub.models.{module.name}")
    found: list[type[peewee.Model]] = []
    todo: list[type[peewee.Model]] = [BaseModel]
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        if model is not BaseModel and not model.__name__.startswith("_"):
            found.append(model)
    return [db.SchemaVersion, *found]


def test_migration_1_makes_the_first_releases_tables_not_todays(open_db: Opener) -> None:
    database, schema = open_db("old")
    assert _migrate(database, schema, until=1) == [1]
    tables = set(database.get_tables(schema=schema))
    assert {"station", "worker", "job", "hub_log_entry"} <= tables
    assert tables.isdisjoint({"clock_allowance", "signin_throttle", "call_nonce"})
    assert "fill_seconds" not in {c.name for c in database.get_columns("job", schema=schema)}
    assert "job_status" in {i.name for i in database.get_indexes("job", schema=schema)}


def test_a_database_made_at_migration_1_and_upgraded_equals_a_new_one(open_db: Opener) -> None:
    database, schema = open_db("old")
    for number in NUMBERS:
        assert _migrate(database, schema, until=number) == [number]
    upgraded = schema_of(database, schema)
    database.close()
    database, schema = open_db("new")
    assert _migrate(database, schema) == NUMBERS
    assert schema_of(database, schema) == upgraded
    if schema:
        assert upgraded["worker"]["collations"] == {"id_hash": "C", "name": "C"}
        assert upgraded["job"]["collations"] == {"title": "C"}


def test_a_new_database_is_what_the_models_declare(open_db: Opener) -> None:
    """Tables, columns, foreign keys and indexes; not collations (migrations 4, 13 set them)."""
    database, schema = open_db("declared")
    database.create_tables(_declared_models())
    declared = schema_of(database, schema)
    database.close()
    database, schema = open_db("new")
    _migrate(database, schema)
    new = schema_of(database, schema)
    assert set(new) == set(declared), (
        "a table without its migration (or a migration without its model)"
    )
    for table, shape in declared.items():
        made = new[table]
        assert made["columns"] == shape["columns"], f"{table}: columns differ from the model"
        assert made["foreign_keys"] == shape["foreign_keys"], f"{table}: foreign keys differ"
        ours = {n: i for n, i in made["indexes"].items() if n not in INDEXES_BEYOND_MODELS}
        assert ours == shape["indexes"], f"{table}: indexes differ from the model"
    beyond = {n for s in new.values() for n in s["indexes"]} - {
        n for s in declared.values() for n in s["indexes"]
    }
    assert beyond == INDEXES_BEYOND_MODELS


def test_an_upgraded_database_keeps_its_rows(open_db: Opener) -> None:
    database, schema = open_db("old")
    assert _migrate(database, schema, until=2) == [1, 2]
    mark = database.param
    posted, filled = db.dbtime(STAMP), db.dbtime(STAMP + dt.timedelta(minutes=7))
    database.execute_sql(
        'INSERT INTO "job" ("id", "station", "data", "stamps", "deleted", "received_at", "title", '
        '"category", "status", "headcount", "posted_at", "filled_at") '
        f"VALUES ({', '.join([mark] * 12)})",
        ["j1", "s1", "{}", "{}", False, posted, "搬家工", "moving", "filled", 2, posted, filled],
    )
    assert _migrate(database, schema) == NUMBERS[2:]
    row = database.execute_sql(
        f'SELECT "title", "headcount", "fill_seconds" FROM "job" WHERE "id" = {mark}', ["j1"]
    ).fetchone()
    assert tuple(row) == ("搬家工", 2, 7 * 60)
    head = database.execute_sql(
        f'SELECT "seq", "head" FROM "hub_state" WHERE "key" = {mark}', ["hub_log"]
    ).fetchone()
    assert tuple(head) == (0, "")
