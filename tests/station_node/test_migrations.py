"""The station's migrations upgrade: a database made at migration 1 and upgraded step by step
equals a new one, keeps its rows, and a new one is what the models declare."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import peewee

from station_node import db, migrations, models
from station_node import hub_records as sync_models

# Indexes only the migrations make (for speed), which no model declares.
INDEXES_BEYOND_MODELS = {"ranking_job_id_rank"}
STAMP = dt.datetime(2025, 5, 6, 1, 0)  # a fixed time; no test reads the real clock


def _index_sql(sql: str | None) -> str:
    return re.sub(r"\s+", " ", (sql or "").replace(" IF NOT EXISTS", "")).strip()


def schema_of(database: peewee.Database) -> dict[str, Any]:
    """Tables → columns (type, null, primary key, default), indexes and foreign keys."""
    schema: dict[str, Any] = {}
    for table in database.get_tables():
        columns = {
            c.name: (c.data_type.upper(), c.null, c.primary_key, c.default)
            for c in database.get_columns(table)
        }
        indexes = {
            i.name: (i.unique, tuple(i.columns), _index_sql(i.sql))
            for i in database.get_indexes(table)
        }
        keys = {(k.column, k.dest_table, k.dest_column) for k in database.get_foreign_keys(table)}
        schema[table] = {"columns": columns, "indexes": indexes, "foreign_keys": keys}
    return schema


def _declared_models() -> list[type[peewee.Model]]:
    """Every table model of the station (in models and hub_records, listed in ALL_MODELS or not)."""
    found: list[type[peewee.Model]] = []
    todo: list[type[peewee.Model]] = list(models.BaseModel.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        found.append(model)
    assert set(sync_models.ALL_MODELS) <= set(found)
    return [db.SchemaVersion, *found]


def _open(path: Path) -> peewee.Database:
    database = db.open_database(path)
    database.connect(reuse_if_open=True)
    return database


def _upgraded_step_by_step(path: Path) -> dict[str, Any]:
    database = _open(path)
    for number, _step in migrations.MIGRATIONS:
        assert db.migrate(until=number) == [number]
    return schema_of(database)


def _new(path: Path) -> dict[str, Any]:
    database = _open(path)
    assert db.migrate() == [number for number, _step in migrations.MIGRATIONS]
    return schema_of(database)


def test_migration_1_makes_the_first_releases_tables_not_todays(tmp_path: Path) -> None:
    database = _open(tmp_path / "old.sqlite")
    assert db.migrate(until=1) == [1]
    tables = set(database.get_tables())
    assert {"staff", "worker", "job", "complaint", "change_entry"} <= tables
    assert tables.isdisjoint({"hub_entry", "city_rule", "screening_phrase", "signin_throttle"})
    assert {"taken_by", "resolved_by"}.isdisjoint(c.name for c in database.get_columns("complaint"))
    db.close_all()


def test_a_database_made_at_migration_1_and_upgraded_equals_a_new_one(tmp_path: Path) -> None:
    upgraded = _upgraded_step_by_step(tmp_path / "old.sqlite")
    new = _new(tmp_path / "new.sqlite")
    db.close_all()
    assert upgraded == new


def test_a_new_database_is_what_the_models_declare(tmp_path: Path) -> None:
    new = _new(tmp_path / "new.sqlite")
    declared_db = _open(tmp_path / "declared.sqlite")
    declared_db.create_tables(_declared_models())
    declared = schema_of(declared_db)
    db.close_all()
    assert set(new) == set(declared), (
        "a table without its migration (or a migration without its model)"
    )
    for table, shape in declared.items():
        made = new[table]
        assert made["columns"] == shape["columns"], f"{table}: columns differ from the model"
        assert made["foreign_keys"] == shape["foreign_keys"], f"{table}: foreign keys differ"
        extra = {n: i for n, i in made["indexes"].items() if n not in INDEXES_BEYOND_MODELS}
        assert extra == shape["indexes"], f"{table}: indexes differ from the model"
    made_beyond = {n for shape in new.values() for n in shape["indexes"]} - {
        n for shape in declared.values() for n in shape["indexes"]
    }
    assert made_beyond == INDEXES_BEYOND_MODELS


def test_an_upgraded_database_keeps_its_rows(tmp_path: Path) -> None:
    database = _open(tmp_path / "old.sqlite")
    assert db.migrate(until=1) == [1]
    database.execute_sql(
        'INSERT INTO "staff" ("id", "username", "display_name", "role", "password_hash", '
        '"active", "created_at") VALUES (1, ?, ?, ?, ?, 1, ?)',
        ("wang", "王站长", "admin", "x", str(STAMP)),
    )
    database.execute_sql(
        'INSERT INTO "complaint" ("id", "by", "kind", "text", "status", "created_at") '
        "VALUES (?, ?, ?, ?, ?, ?)",
        ("c1", "resident", "other", "旧库里的投诉", "open", str(STAMP)),
    )
    assert db.migrate() == [number for number, _step in migrations.MIGRATIONS][1:]
    staff = models.Staff.get_by_id(1)
    complaint = models.Complaint.get_by_id("c1")
    db.close_all()
    assert (staff.username, staff.display_name, staff.created_at) == ("wang", "王站长", STAMP)
    assert (complaint.text, complaint.status, complaint.taken_by, complaint.resolved_by) == (
        "旧库里的投诉",
        "open",
        None,
        None,
    )
