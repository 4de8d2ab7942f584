"""The hub's numbered migrations, each with the schema it had when it was written.

Every step is frozen: it carries its own SQL and never reads today's models, so a database made
at migration 1 and upgraded one step at a time ends where a new one does, on SQLite and on
PostgreSQL. Migration 1 is the schema of the first release (the tables as the hub's models
declared them before migration 3 was added); each later step makes exactly its own change. The
tables' SQL is written once with the column types that differ between the engines in braces.
Append new steps; never edit a released one. `tests/central_hub/test_hub_migrations.py` checks
that the last step leaves what the models declare.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

import peewee

_TYPES = {
    "sqlite": {
        "serial": "INTEGER",
        "bool": "INTEGER",
        "time": "DATETIME",
        "bytes": "BLOB",
        "bigint": "INTEGER",
        "double": "REAL",
    },
    "postgres": {
        "serial": "SERIAL",
        "bool": "BOOLEAN",
        "time": "TIMESTAMP",
        "bytes": "BYTEA",
        "bigint": "BIGINT",
        "double": "DOUBLE PRECISION",
    },
}

_FIRST_RELEASE = (
    'CREATE TABLE "admin" ("id" {serial} NOT NULL PRIMARY KEY, "username" VARCHAR(64) NOT NULL, '
    '"display_name" VARCHAR(64) NOT NULL, "role" VARCHAR(16) NOT NULL, '
    '"password_hash" VARCHAR(255) NOT NULL, "active" {bool} NOT NULL, '
    '"created_at" {time} NOT NULL, "last_login_at" {time})',
    'CREATE UNIQUE INDEX "admin_username" ON "admin" ("username")',
    'CREATE TABLE "station" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"name" VARCHAR(100) NOT NULL, "district" VARCHAR(64) NOT NULL, '
    '"community" VARCHAR(64) NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"created_at" {time} NOT NULL, "enrolled_at" {time}, "epoch" INTEGER NOT NULL, '
    '"head_seq" INTEGER NOT NULL, "head_hash" VARCHAR(64) NOT NULL, '
    '"head_hlc" {bigint} NOT NULL, "head_hlc_counter" INTEGER NOT NULL, '
    '"head_checkpoint" {bytes}, "frozen" {bool} NOT NULL, "frozen_reason" VARCHAR(200), '
    '"frozen_at" {time}, "last_sync_at" {time}, "last_contact_at" {time}, '
    '"pending_reported" INTEGER, "clock_offset_ms" {bigint}, "last_error" VARCHAR(64), '
    '"last_error_at" {time}, "hub_seq_served" INTEGER NOT NULL, '
    '"hub_seq_acked" INTEGER NOT NULL, "last_pull_at" {time})',
    'CREATE TABLE "applied_entry" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station_id" VARCHAR(32) NOT NULL, "epoch" INTEGER NOT NULL, "seq" INTEGER NOT NULL, '
    '"entry_hash" VARCHAR(64) NOT NULL, "entity" VARCHAR(32) NOT NULL, '
    '"entity_id" VARCHAR(64) NOT NULL, "op" VARCHAR(16) NOT NULL, "hlc" {bigint} NOT NULL, '
    '"applied_at" {time} NOT NULL, FOREIGN KEY ("station_id") REFERENCES "station" ('
    '"id") ON DELETE CASCADE)',
    'CREATE INDEX "applied_entry_station_id" ON "applied_entry" ("station_id")',
    'CREATE UNIQUE INDEX "applied_entry_station_id_epoch_seq" ON "applied_entry" ("station_id", '
    '"epoch", "seq")',
    'CREATE TABLE "assignment" ("id" VARCHAR(64) NOT NULL PRIMARY KEY, '
    '"station" VARCHAR(32) NOT NULL, "data" TEXT NOT NULL, "stamps" TEXT NOT NULL, '
    '"deleted" {bool} NOT NULL, "created_at" {time}, "received_at" {time} NOT NULL, '
    '"job_id" VARCHAR(64) NOT NULL, "worker_id" VARCHAR(64) NOT NULL, "id_hash" VARCHAR(64), '
    '"status" VARCHAR(16) NOT NULL, "starts_at" {time}, "ends_at" {time}, "confirmed_at" {time})',
    'CREATE INDEX "assignment_station" ON "assignment" ("station")',
    'CREATE INDEX "assignment_created_at" ON "assignment" ("created_at")',
    'CREATE INDEX "assignment_job_id" ON "assignment" ("job_id")',
    'CREATE INDEX "assignment_worker_id" ON "assignment" ("worker_id")',
    'CREATE INDEX "assignment_id_hash" ON "assignment" ("id_hash")',
    'CREATE TABLE "city_rule" ("id" {serial} NOT NULL PRIMARY KEY, "kind" VARCHAR(32) NOT NULL, '
    '"title" VARCHAR(200) NOT NULL, "body" TEXT NOT NULL, "active" {bool} NOT NULL, '
    '"created_by_id" INTEGER, "created_at" {time} NOT NULL, "hub_seq" INTEGER, FOREIGN KEY ('
    '"created_by_id") REFERENCES "admin" ("id"))',
    'CREATE INDEX "city_rule_kind" ON "city_rule" ("kind")',
    'CREATE INDEX "city_rule_created_by_id" ON "city_rule" ("created_by_id")',
    'CREATE TABLE "complaint" ("id" VARCHAR(64) NOT NULL PRIMARY KEY, '
    '"station" VARCHAR(32) NOT NULL, "data" TEXT NOT NULL, "stamps" TEXT NOT NULL, '
    '"deleted" {bool} NOT NULL, "created_at" {time}, "received_at" {time} NOT NULL, '
    '"kind" VARCHAR(32) NOT NULL, "status" VARCHAR(16) NOT NULL, "resolved_at" {time})',
    'CREATE INDEX "complaint_station" ON "complaint" ("station")',
    'CREATE INDEX "complaint_created_at" ON "complaint" ("created_at")',
    'CREATE TABLE "employer" ("id" VARCHAR(64) NOT NULL PRIMARY KEY, '
    '"station" VARCHAR(32) NOT NULL, "data" TEXT NOT NULL, "stamps" TEXT NOT NULL, '
    '"deleted" {bool} NOT NULL, "created_at" {time}, "received_at" {time} NOT NULL, '
    '"kind" VARCHAR(16) NOT NULL, "name" VARCHAR(128) NOT NULL, "credit_code" VARCHAR(18), '
    '"id_hash" VARCHAR(64), "blocked" {bool} NOT NULL)',
    'CREATE INDEX "employer_station" ON "employer" ("station")',
    'CREATE INDEX "employer_created_at" ON "employer" ("created_at")',
    'CREATE INDEX "employer_credit_code" ON "employer" ("credit_code")',
    'CREATE INDEX "employer_id_hash" ON "employer" ("id_hash")',
    'CREATE TABLE "enrolment_code" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"code_hash" VARCHAR(64) NOT NULL, "station_id" VARCHAR(32) NOT NULL, '
    '"purpose" VARCHAR(16) NOT NULL, "expires_at" {time} NOT NULL, "used_at" {time}, '
    '"created_by_id" INTEGER, "created_at" {time} NOT NULL, FOREIGN KEY ('
    '"station_id") REFERENCES "station" ("id") ON DELETE CASCADE, FOREIGN KEY ('
    '"created_by_id") REFERENCES "admin" ("id"))',
    'CREATE UNIQUE INDEX "enrolment_code_code_hash" ON "enrolment_code" ("code_hash")',
    'CREATE INDEX "enrolment_code_station_id" ON "enrolment_code" ("station_id")',
    'CREATE INDEX "enrolment_code_created_by_id" ON "enrolment_code" ("created_by_id")',
    'CREATE TABLE "evidence" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station_id" VARCHAR(32) NOT NULL, "kind" VARCHAR(16) NOT NULL, '
    '"reason" VARCHAR(64) NOT NULL, "details" TEXT NOT NULL, "body" {bytes}, '
    '"created_at" {time} NOT NULL, FOREIGN KEY ("station_id") REFERENCES "station" ('
    '"id") ON DELETE CASCADE)',
    'CREATE INDEX "evidence_station_id" ON "evidence" ("station_id")',
    'CREATE TABLE "field_loss" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"entity" VARCHAR(32) NOT NULL, "entity_id" VARCHAR(64) NOT NULL, '
    '"field" VARCHAR(64) NOT NULL, "winner_value" TEXT, "winner_station" VARCHAR(32) NOT NULL, '
    '"winner_hlc" {bigint} NOT NULL, "loser_value" TEXT, "loser_station" VARCHAR(32) NOT NULL, '
    '"loser_hlc" {bigint} NOT NULL, "at" {time} NOT NULL)',
    'CREATE INDEX "field_loss_entity_entity_id" ON "field_loss" ("entity", "entity_id")',
    'CREATE TABLE "held_batch" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station_id" VARCHAR(32) NOT NULL, "epoch" INTEGER NOT NULL, "first_seq" INTEGER NOT NULL, '
    '"last_seq" INTEGER NOT NULL, "body" {bytes} NOT NULL, "received_at" {time} NOT NULL, '
    'FOREIGN KEY ("station_id") REFERENCES "station" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "held_batch_station_id" ON "held_batch" ("station_id")',
    'CREATE UNIQUE INDEX "held_batch_station_id_epoch_first_seq_last_seq" ON "held_batch" ('
    '"station_id", "epoch", "first_seq", "last_seq")',
    'CREATE TABLE "hub_log_entry" ("seq" INTEGER NOT NULL PRIMARY KEY, '
    '"entry_hash" VARCHAR(64) NOT NULL, "prev_hash" VARCHAR(64) NOT NULL, '
    '"entity" VARCHAR(32) NOT NULL, "entity_id" VARCHAR(64) NOT NULL, "op" VARCHAR(16) NOT NULL, '
    '"fields" TEXT NOT NULL, "targets" TEXT, "raw" TEXT NOT NULL, "created_at" {time} NOT NULL)',
    'CREATE TABLE "hub_state" ("key" VARCHAR(32) NOT NULL PRIMARY KEY, "seq" INTEGER NOT NULL, '
    '"head" VARCHAR(64) NOT NULL, "hlc_wall" {bigint} NOT NULL, "hlc_counter" INTEGER NOT NULL)',
    'CREATE TABLE "id_access" ("id" {serial} NOT NULL PRIMARY KEY, "admin_id" INTEGER NOT NULL, '
    '"id_hash" VARCHAR(64) NOT NULL, "purpose" VARCHAR(200) NOT NULL, "at" {time} NOT NULL, '
    'FOREIGN KEY ("admin_id") REFERENCES "admin" ("id"))',
    'CREATE INDEX "id_access_admin_id" ON "id_access" ("admin_id")',
    'CREATE TABLE "ignored" ("id" {serial} NOT NULL PRIMARY KEY, "station" VARCHAR(32) NOT NULL, '
    '"seq" INTEGER NOT NULL, "entity" VARCHAR(32) NOT NULL, "entity_id" VARCHAR(64) NOT NULL, '
    '"reason" VARCHAR(64) NOT NULL, "at" {time} NOT NULL)',
    'CREATE TABLE "issue" ("id" {serial} NOT NULL PRIMARY KEY, "kind" VARCHAR(16) NOT NULL, '
    '"status" VARCHAR(16) NOT NULL, "dedupe" VARCHAR(200) NOT NULL, '
    '"subject" VARCHAR(64) NOT NULL, "stations" TEXT NOT NULL, "details" TEXT NOT NULL, '
    '"created_at" {time} NOT NULL, "decision" VARCHAR(32), "note" VARCHAR(500), '
    '"decided_by_id" INTEGER, "decided_at" {time}, "hub_seq" INTEGER, FOREIGN KEY ('
    '"decided_by_id") REFERENCES "admin" ("id"))',
    'CREATE INDEX "issue_kind" ON "issue" ("kind")',
    'CREATE INDEX "issue_status" ON "issue" ("status")',
    'CREATE UNIQUE INDEX "issue_dedupe" ON "issue" ("dedupe")',
    'CREATE INDEX "issue_decided_by_id" ON "issue" ("decided_by_id")',
    'CREATE TABLE "job" ("id" VARCHAR(64) NOT NULL PRIMARY KEY, "station" VARCHAR(32) NOT NULL, '
    '"data" TEXT NOT NULL, "stamps" TEXT NOT NULL, "deleted" {bool} NOT NULL, '
    '"created_at" {time}, "received_at" {time} NOT NULL, "title" VARCHAR(100) NOT NULL, '
    '"category" VARCHAR(32) NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"headcount" INTEGER NOT NULL, "posted_at" {time}, "dispatch_started_at" {time}, '
    '"filled_at" {time}, "starts_at" {time}, "ends_at" {time})',
    'CREATE INDEX "job_station" ON "job" ("station")',
    'CREATE INDEX "job_created_at" ON "job" ("created_at")',
    'CREATE INDEX "job_status" ON "job" ("status")',
    'CREATE INDEX "job_posted_at" ON "job" ("posted_at")',
    'CREATE TABLE "person" ("id_hash" VARCHAR(64) NOT NULL PRIMARY KEY, "id_masked" VARCHAR(18), '
    '"id_sealed" TEXT, "created_at" {time} NOT NULL)',
    'CREATE TABLE "receipt" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station_id" VARCHAR(32) NOT NULL, "epoch" INTEGER NOT NULL, "seq" INTEGER NOT NULL, '
    '"head_hash" VARCHAR(64) NOT NULL, "hub_seq" INTEGER NOT NULL, "body" TEXT NOT NULL, '
    '"created_at" {time} NOT NULL, FOREIGN KEY ("station_id") REFERENCES "station" ('
    '"id") ON DELETE CASCADE)',
    'CREATE INDEX "receipt_station_id" ON "receipt" ("station_id")',
    'CREATE UNIQUE INDEX "receipt_station_id_epoch_seq" ON "receipt" ("station_id", "epoch", '
    '"seq")',
    'CREATE TABLE "station_key" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station_id" VARCHAR(32) NOT NULL, "key_id" VARCHAR(64) NOT NULL, '
    '"public_key" VARCHAR(64) NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"valid_from_epoch" INTEGER NOT NULL, "valid_from_seq" INTEGER NOT NULL, '
    '"valid_until_epoch" INTEGER, "valid_until_seq" INTEGER, "revoked_after_epoch" INTEGER, '
    '"created_at" {time} NOT NULL, "revoked_at" {time}, "revoked_after_seq" INTEGER, '
    '"reason" VARCHAR(200), FOREIGN KEY ("station_id") REFERENCES "station" ('
    '"id") ON DELETE CASCADE)',
    'CREATE INDEX "station_key_station_id" ON "station_key" ("station_id")',
    'CREATE UNIQUE INDEX "station_key_key_id" ON "station_key" ("key_id")',
    'CREATE TABLE "worker" ("id" VARCHAR(64) NOT NULL PRIMARY KEY, '
    '"station" VARCHAR(32) NOT NULL, "data" TEXT NOT NULL, "stamps" TEXT NOT NULL, '
    '"deleted" {bool} NOT NULL, "created_at" {time}, "received_at" {time} NOT NULL, '
    '"id_hash" VARCHAR(64), "name" VARCHAR(64) NOT NULL, "status" VARCHAR(16) NOT NULL)',
    'CREATE INDEX "worker_station" ON "worker" ("station")',
    'CREATE INDEX "worker_created_at" ON "worker" ("created_at")',
    'CREATE INDEX "worker_id_hash" ON "worker" ("id_hash")',
)

_CLOCK_ALLOWANCES = (
    'CREATE TABLE "clock_allowance" ("station_id" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"epoch" INTEGER NOT NULL, "up_to_seq" INTEGER NOT NULL, "marks" TEXT NOT NULL, '
    '"issue" INTEGER, "granted_by_id" INTEGER, "granted_at" {time} NOT NULL, FOREIGN KEY ('
    '"station_id") REFERENCES "station" ("id") ON DELETE CASCADE, FOREIGN KEY ('
    '"granted_by_id") REFERENCES "admin" ("id"))',
    'CREATE INDEX "clock_allowance_granted_by_id" ON "clock_allowance" ("granted_by_id")',
)

_SIGNIN_LIMITS = (
    'CREATE TABLE "signin_event" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"event" VARCHAR(16) NOT NULL, "scope" VARCHAR(16) NOT NULL, "key" VARCHAR(64) NOT NULL, '
    '"failures" INTEGER NOT NULL, "until" {time}, "reason" VARCHAR(200) NOT NULL, '
    '"by" VARCHAR(64), "at" {time} NOT NULL)',
    'CREATE TABLE "signin_throttle" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"scope" VARCHAR(16) NOT NULL, "key" VARCHAR(64) NOT NULL, "failures" INTEGER NOT NULL, '
    '"last_failure_at" {time}, "blocked_until" {time}, "locked" {bool} NOT NULL)',
    'CREATE UNIQUE INDEX "signin_throttle_scope_key" ON "signin_throttle" ("scope", "key")',
)

_CALL_GUARD = (
    'CREATE TABLE "call_nonce" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station_id" VARCHAR(32) NOT NULL, "nonce" VARCHAR(32) NOT NULL, '
    '"time_ms" {bigint} NOT NULL, "seen_at" {time} NOT NULL, FOREIGN KEY ('
    '"station_id") REFERENCES "station" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "call_nonce_station_id_nonce" ON "call_nonce" ("station_id", "nonce")',
    'CREATE INDEX "call_nonce_station_id_time_ms" ON "call_nonce" ("station_id", "time_ms")',
    'CREATE TABLE "push_refusal" ("station_id" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"count" INTEGER NOT NULL, "last_at" {time}, "last_reason" VARCHAR(64), '
    '"last_detail" VARCHAR(200), FOREIGN KEY ("station_id") REFERENCES "station" ('
    '"id") ON DELETE CASCADE)',
)

_EVALUATION = (
    'CREATE TABLE "evaluation_scheme" ("year" INTEGER NOT NULL PRIMARY KEY, '
    '"indicators" TEXT NOT NULL, "excellent_at" {double} NOT NULL, "pass_at" {double} NOT NULL, '
    '"subsidy_full" INTEGER NOT NULL, "subsidy_standard" INTEGER NOT NULL, '
    '"updated_by" VARCHAR(64), "updated_at" {time} NOT NULL)',
    'CREATE TABLE "evaluation_result" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"year" INTEGER NOT NULL, "station" VARCHAR(32) NOT NULL, "measured" TEXT NOT NULL, '
    '"scores" TEXT NOT NULL, "total" {double} NOT NULL, "grade" VARCHAR(16) NOT NULL, '
    '"band" VARCHAR(16) NOT NULL, "subsidy" INTEGER NOT NULL, "computed_at" {time} NOT NULL, '
    '"published_at" {time})',
    'CREATE UNIQUE INDEX "evaluation_result_year_station" ON "evaluation_result" '
    '("year", "station")',
    'CREATE TABLE "rectification_case" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station" VARCHAR(32) NOT NULL, "year" INTEGER NOT NULL, "reasons" TEXT NOT NULL, '
    '"total" {double} NOT NULL, "deadline" {time} NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"opened_at" {time} NOT NULL, "opened_by" VARCHAR(64), "reevaluated_at" {time}, '
    '"re_total" {double}, "re_grade" VARCHAR(16), "note" VARCHAR(500) NOT NULL)',
    'CREATE UNIQUE INDEX "rectification_case_station_year" ON "rectification_case" '
    '("station", "year")',
)

_REPLICATED_TABLES = ("worker", "employer", "job", "assignment", "complaint")


def _is_sqlite(database: Any) -> bool:
    return isinstance(getattr(database, "obj", database), peewee.SqliteDatabase)


def _run(database: Any, statements: Sequence[str]) -> None:
    types = _TYPES["sqlite" if _is_sqlite(database) else "postgres"]
    for sql in statements:
        database.execute_sql(sql.format(**types))


def _create_first_release(database: Any) -> None:
    """The hub's tables as the first release made them."""
    _run(database, _FIRST_RELEASE)


def _seed_hub_state(database: Any) -> None:
    """The hub log's counter row."""
    database.execute_sql(
        'INSERT INTO "hub_state" ("key", "seq", "head", "hlc_wall", "hlc_counter") '
        "VALUES ('hub_log', 0, '', 0, 0)"
    )


def _indexes_for_city_and_ingest(database: Any) -> None:
    """Fewer, better indexes: one (station, created_at) per replicated table for per-station
    counts over a period instead of separate ones; none that a unique index already covers."""
    for name in (
        "applied_entry_station_id",
        *(f"{t}_station" for t in _REPLICATED_TABLES),
        *(f"{t}_created_at" for t in _REPLICATED_TABLES),
        "job_status",
        "job_posted_at",
    ):
        database.execute_sql(f'DROP INDEX "{name}"')
    for table in _REPLICATED_TABLES:
        database.execute_sql(
            f'CREATE INDEX "{table}_station_created_at" ON "{table}" ("station", "created_at")'
        )


def _live_indexes(database: Any) -> None:
    """Indexes over live (not deleted) records only, which every count filters on, so counts
    read the index alone; keyed ID hashes compare bytewise on PostgreSQL (hex, no language)."""
    if not _is_sqlite(database):
        for table in ("worker", "employer", "assignment", "person"):
            database.execute_sql(
                f'ALTER TABLE "{table}" ALTER COLUMN "id_hash" TYPE varchar(64) COLLATE "C"'
            )
    database.execute_sql('DROP INDEX "worker_id_hash"')
    database.execute_sql(
        'CREATE INDEX "worker_live_id_hash" ON "worker" ("id_hash") WHERE NOT deleted'
    )
    for table in _REPLICATED_TABLES:
        database.execute_sql(f'DROP INDEX "{table}_station_created_at"')
        database.execute_sql(
            f'CREATE INDEX "{table}_live_station_created_at" '
            f'ON "{table}" ("station", "created_at") WHERE NOT deleted'
        )


def _fill_seconds(database: Any) -> None:
    """Jobs keep their seconds to fill (ingest sets it), indexed per station over live filled
    jobs in order, so per-station median and p90 read the index alone, already sorted."""
    start = "COALESCE(dispatch_started_at, posted_at)"
    if _is_sqlite(database):
        seconds = (
            f"MAX(0, CAST(strftime('%s', filled_at) AS INTEGER) - "
            f"CAST(strftime('%s', {start}) AS INTEGER))"
        )
    else:
        seconds = f"GREATEST(0, FLOOR(date_part('epoch', filled_at - {start})))::integer"
    database.execute_sql('ALTER TABLE "job" ADD COLUMN "fill_seconds" INTEGER')
    database.execute_sql(
        f'UPDATE "job" SET "fill_seconds" = {seconds} '
        f"WHERE filled_at IS NOT NULL AND {start} IS NOT NULL"
    )
    database.execute_sql(
        'CREATE INDEX "job_live_fill_seconds" ON "job" '
        '("station", "fill_seconds", "filled_at") '
        "WHERE NOT deleted AND fill_seconds IS NOT NULL"
    )


def _postings_index(database: Any) -> None:
    """Postings per station over a year read an index of live jobs by posting time."""
    database.execute_sql(
        'CREATE INDEX "job_live_station_posted_at" ON "job" '
        '("station", "posted_at") WHERE NOT deleted'
    )


def _clock_allowances(database: Any) -> None:
    """Admins' allowances for stations whose clock ran ahead (accept with hub time)."""
    _run(database, _CLOCK_ALLOWANCES)


def _signin_limits(database: Any) -> None:
    """Failed sign-ins per username and address, and the audit of locks, shared by all processes."""
    _run(database, _SIGNIN_LIMITS)


def _call_guard(database: Any) -> None:
    """Nonces of stations' signed calls and the count of pushes refused as not theirs."""
    _run(database, _CALL_GUARD)


def _evaluation(database: Any) -> None:
    """The annual evaluation: each year's scheme, the stations' results, rectification cases."""
    _run(database, _EVALUATION)


_FIGURE_COLUMNS = (
    'ALTER TABLE "worker" ADD COLUMN "priority_groups" VARCHAR(200)',
    'ALTER TABLE "job" ADD COLUMN "confirmed_count" INTEGER',
    'ALTER TABLE "assignment" ADD COLUMN "pay_fen" INTEGER',
    'ALTER TABLE "assignment" ADD COLUMN "paid_at" {time}',
)


def _figure_time(value: Any) -> Any:
    """A change-log time ("2026-05-01T08:00:00Z") as naive UTC, as migration 11 read it."""
    if not isinstance(value, str) or not value.endswith("Z"):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value[:-1])
    except ValueError:
        return None
    return None if parsed.tzinfo is not None else parsed


def _figure_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _figure_fields(database: Any) -> None:
    """The city figures read workers' priority groups (as ",code,code,"), jobs' confirmed
    places and assignments' pay, filled in from the records' stored fields."""
    sqlite = _is_sqlite(database)
    _run(database, _FIGURE_COLUMNS)
    mark = "?" if sqlite else "%s"
    rows = database.execute_sql(
        f'SELECT "id", "data" FROM "worker" WHERE "data" LIKE {mark}', ('%"priority_groups"%',)
    ).fetchall()
    for wid, data in rows:
        groups = json.loads(data).get("priority_groups")
        codes = sorted(str(g) for g in groups) if isinstance(groups, list) else []
        value = (",".join(["", *codes, ""]) if codes else None) if groups is not None else None
        database.execute_sql(
            f'UPDATE "worker" SET "priority_groups" = {mark} WHERE "id" = {mark}', (value, wid)
        )
    rows = database.execute_sql(
        f'SELECT "id", "data" FROM "job" WHERE "data" LIKE {mark}', ('%"confirmed_count"%',)
    ).fetchall()
    for jid, data in rows:
        count = _figure_int(json.loads(data).get("confirmed_count"))
        database.execute_sql(
            f'UPDATE "job" SET "confirmed_count" = {mark} WHERE "id" = {mark}', (count, jid)
        )
    rows = database.execute_sql(
        f'SELECT "id", "data" FROM "assignment" WHERE "data" LIKE {mark} OR "data" LIKE {mark}',
        ('%"pay_fen"%', '%"paid_at"%'),
    ).fetchall()
    for aid, data in rows:
        fields = json.loads(data)
        paid = _figure_time(fields.get("paid_at"))
        database.execute_sql(
            f'UPDATE "assignment" SET "pay_fen" = {mark}, "paid_at" = {mark} WHERE "id" = {mark}',
            (
                _figure_int(fields["pay_fen"]) if "pay_fen" in fields else None,
                (str(paid) if sqlite else paid) if paid is not None else None,
                aid,
            ),
        )


def _indexes_for_pages(database: Any) -> None:
    """What the stations, people and jobs pages search and sort by, over live records: names
    and titles by their first characters (bytewise on PostgreSQL, so a prefix LIKE reads the
    index), people by mobile number and by the last four characters of the masked ID number,
    jobs newest first overall and within a sector or a state."""
    sqlite = _is_sqlite(database)
    if not sqlite:
        database.execute_sql(
            'ALTER TABLE "worker" ALTER COLUMN "name" TYPE varchar(64) COLLATE "C"'
        )
        database.execute_sql('ALTER TABLE "job" ALTER COLUMN "title" TYPE varchar(100) COLLATE "C"')

    def text(key: str) -> str:
        return f"json_extract(data, '$.{key}')" if sqlite else f"((data::jsonb) ->> '{key}')"

    tail = f"substr({text('id_masked')}, -4)" if sqlite else f"right({text('id_masked')}, 4)"
    for name, table, columns in (
        ("worker_live_name", "worker", '"name", "id"'),
        ("worker_live_mobile", "worker", f"({text('mobile')})"),
        ("worker_live_id_tail", "worker", f"({tail})"),
        ("job_live_title", "job", '"title"'),
        ("job_live_posted_at", "job", '"posted_at", "id"'),
        ("job_live_category_posted_at", "job", '"category", "posted_at", "id"'),
        ("job_live_status_posted_at", "job", '"status", "posted_at", "id"'),
    ):
        database.execute_sql(f'CREATE INDEX "{name}" ON "{table}" ({columns}) WHERE NOT deleted')


_CITY_CELLS = (
    'CREATE TABLE "city_cell_build" ("station" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"utc_offset_hours" INTEGER NOT NULL, "target_seconds" INTEGER NOT NULL, '
    '"resolve_hours" INTEGER NOT NULL, "live_workers" INTEGER NOT NULL, '
    '"live_jobs" INTEGER NOT NULL, "built_at" {time} NOT NULL)',
    'CREATE TABLE "city_cell" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station" VARCHAR(32) NOT NULL, "kind" VARCHAR(16) NOT NULL, "sector" VARCHAR(64) NOT NULL, '
    '"month" VARCHAR(7) NOT NULL, '
    + ", ".join(f'"n{i}" {{bigint}} NOT NULL' for i in range(13))
    + ")",
    'CREATE INDEX "city_cell_station" ON "city_cell" ("station")',
    'CREATE TABLE "city_fill_time" ("id" {serial} NOT NULL PRIMARY KEY, '
    '"station" VARCHAR(32) NOT NULL, "sector" VARCHAR(64), "month" VARCHAR(7) NOT NULL, '
    '"seconds" INTEGER NOT NULL, "jobs" INTEGER NOT NULL)',
    'CREATE INDEX "city_fill_time_station" ON "city_fill_time" ("station")',
    'CREATE INDEX "job_live_unfilled_dispatch" ON "job" '
    '(COALESCE("dispatch_started_at", "posted_at")) WHERE NOT deleted AND "filled_at" IS NULL',
)


def _city_cells(database: Any) -> None:
    """The city figures' summary per station, sector and local month (empty: the first figures
    page counts every station, ingest keeps them current), and the jobs still waiting within
    their dispatch target, which the page counts at the moment it is shown."""
    _run(database, _CITY_CELLS)


# Numbered migrations, applied in order, each once, given the database to change.
MIGRATIONS: list[tuple[int, Callable[[Any], None]]] = [
    (1, _create_first_release),
    (2, _seed_hub_state),
    (3, _indexes_for_city_and_ingest),
    (4, _live_indexes),
    (5, _fill_seconds),
    (6, _postings_index),
    (7, _clock_allowances),
    (8, _signin_limits),
    (10, _call_guard),
    (11, _figure_fields),
    (12, _evaluation),
    (13, _indexes_for_pages),
    (14, _city_cells),
]
