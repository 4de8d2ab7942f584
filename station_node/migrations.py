"""The station's numbered migrations, each with the schema it had when it was written.

Every step is frozen: it carries its own SQL and never reads today's models, so a database made
at migration 1 and upgraded one step at a time ends where a new one does. Migration 1 is the
schema of the first release (the tables as the station's models declared them before migration
2 was added); each later step makes exactly its own change. Append new steps; never edit a
released one. `tests/station_node/test_migrations.py` checks that the last step leaves what
the models declare.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

_FIRST_RELEASE = (
    'CREATE TABLE "employer" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"kind" VARCHAR(16) NOT NULL, "name" VARCHAR(128) NOT NULL, "id_cipher" BLOB, '
    '"id_hash" VARCHAR(64), "id_masked" VARCHAR(18), "credit_code" VARCHAR(18), '
    '"contact_name" VARCHAR(64) NOT NULL, "mobile" VARCHAR(11) NOT NULL, '
    '"address" VARCHAR(200) NOT NULL, "blocked" INTEGER NOT NULL, "block_reason" VARCHAR(200), '
    '"created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL)',
    'CREATE INDEX "employer_id_hash" ON "employer" ("id_hash")',
    'CREATE INDEX "employer_credit_code" ON "employer" ("credit_code")',
    'CREATE TABLE "staff" ("id" INTEGER NOT NULL PRIMARY KEY, "username" VARCHAR(64) NOT NULL, '
    '"display_name" VARCHAR(64) NOT NULL, "role" VARCHAR(16) NOT NULL, '
    '"password_hash" VARCHAR(255) NOT NULL, "token_hash" VARCHAR(64), "active" INTEGER NOT NULL, '
    '"created_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "staff_username" ON "staff" ("username")',
    'CREATE UNIQUE INDEX "staff_token_hash" ON "staff" ("token_hash")',
    'CREATE TABLE "job" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"employer_id" VARCHAR(32) NOT NULL, "title" VARCHAR(100) NOT NULL, '
    '"category" VARCHAR(32) NOT NULL, "description" TEXT NOT NULL, "skills" TEXT NOT NULL, '
    '"headcount" INTEGER NOT NULL, "pay_fen" INTEGER NOT NULL, "pay_unit" VARCHAR(8) NOT NULL, '
    '"address" VARCHAR(200) NOT NULL, "community" VARCHAR(64) NOT NULL, "starts_at" DATETIME, '
    '"ends_at" DATETIME, "time_flexible" INTEGER NOT NULL, "term" VARCHAR(8) NOT NULL, '
    '"urgency" VARCHAR(8) NOT NULL, "insurance_required" INTEGER NOT NULL, '
    '"source" VARCHAR(16) NOT NULL, "source_department" VARCHAR(100), '
    '"dispatch_mode" VARCHAR(8) NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"screening_reasons" TEXT NOT NULL, "reviewed_by_id" INTEGER, "reviewed_at" DATETIME, '
    '"posted_by_id" INTEGER, "posted_at" DATETIME NOT NULL, "dispatch_started_at" DATETIME, '
    '"filled_at" DATETIME, "escalated_at" DATETIME, "confirmed_count" INTEGER NOT NULL, '
    '"updated_at" DATETIME NOT NULL, FOREIGN KEY ("employer_id") REFERENCES "employer" ("id"), '
    'FOREIGN KEY ("reviewed_by_id") REFERENCES "staff" ("id"), FOREIGN KEY ('
    '"posted_by_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "job_employer_id" ON "job" ("employer_id")',
    'CREATE INDEX "job_community" ON "job" ("community")',
    'CREATE INDEX "job_status" ON "job" ("status")',
    'CREATE INDEX "job_reviewed_by_id" ON "job" ("reviewed_by_id")',
    'CREATE INDEX "job_posted_by_id" ON "job" ("posted_by_id")',
    'CREATE INDEX "job_posted_at" ON "job" ("posted_at")',
    'CREATE TABLE "worker" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "name" VARCHAR(64) NOT NULL, '
    '"id_cipher" BLOB NOT NULL, "id_hash" VARCHAR(64) NOT NULL, '
    '"id_masked" VARCHAR(18) NOT NULL, "birth_date" DATE NOT NULL, "sex" VARCHAR(1) NOT NULL, '
    '"mobile" VARCHAR(11) NOT NULL, "skills" TEXT NOT NULL, "areas" TEXT NOT NULL, '
    '"availability" TEXT NOT NULL, "priority_groups" TEXT NOT NULL, '
    '"status" VARCHAR(16) NOT NULL, "block_reason" VARCHAR(200), '
    '"no_show_count" INTEGER NOT NULL, "late_cancel_count" INTEGER NOT NULL, '
    '"completed_count" INTEGER NOT NULL, "rating_sum" INTEGER NOT NULL, '
    '"rating_count" INTEGER NOT NULL, "last_assigned_at" DATETIME, '
    '"user_token_hash" VARCHAR(64), "created_at" DATETIME NOT NULL, '
    '"updated_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "worker_id_hash" ON "worker" ("id_hash")',
    'CREATE INDEX "worker_mobile" ON "worker" ("mobile")',
    'CREATE UNIQUE INDEX "worker_user_token_hash" ON "worker" ("user_token_hash")',
    'CREATE TABLE "assignment" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"job_id" VARCHAR(32) NOT NULL, "worker_id" VARCHAR(32) NOT NULL, "via" VARCHAR(8) NOT NULL, '
    '"status" VARCHAR(16) NOT NULL, "starts_at" DATETIME, "ends_at" DATETIME, '
    '"confirmed_at" DATETIME NOT NULL, "checked_in_at" DATETIME, "completed_at" DATETIME, '
    '"quantity" INTEGER, "pay_fen" INTEGER, "pay_method" VARCHAR(16), "paid_at" DATETIME, '
    '"worker_confirmed_pay_at" DATETIME, "cancelled_by" VARCHAR(16), '
    '"cancel_late" INTEGER NOT NULL, "cancel_reason" VARCHAR(200), "rating_of_worker" INTEGER, '
    '"rating_of_employer" INTEGER, "insurance_ref" VARCHAR(64), "assigned_by_id" INTEGER, '
    '"updated_at" DATETIME NOT NULL, FOREIGN KEY ("job_id") REFERENCES "job" ('
    '"id") ON DELETE CASCADE, FOREIGN KEY ("worker_id") REFERENCES "worker" ('
    '"id") ON DELETE CASCADE, FOREIGN KEY ("assigned_by_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "assignment_job_id" ON "assignment" ("job_id")',
    'CREATE INDEX "assignment_worker_id" ON "assignment" ("worker_id")',
    'CREATE INDEX "assignment_status" ON "assignment" ("status")',
    'CREATE INDEX "assignment_assigned_by_id" ON "assignment" ("assigned_by_id")',
    'CREATE UNIQUE INDEX "assignment_job_id_worker_id" ON "assignment" ("job_id", "worker_id")',
    'CREATE INDEX "assignment_worker_id_status" ON "assignment" ("worker_id", "status")',
    'CREATE TABLE "change_entry" ("seq" INTEGER NOT NULL PRIMARY KEY, "epoch" INTEGER NOT NULL, '
    '"hlc_wall" INTEGER NOT NULL, "hlc_counter" INTEGER NOT NULL, "entity" VARCHAR(32) NOT NULL, '
    '"entity_id" VARCHAR(64) NOT NULL, "op" VARCHAR(16) NOT NULL, "fields" TEXT NOT NULL, '
    '"origin" VARCHAR(64) NOT NULL, "prev_hash" VARCHAR(64), "entry_hash" VARCHAR(64), '
    '"created_at" DATETIME NOT NULL)',
    'CREATE INDEX "change_entry_entity_entity_id" ON "change_entry" ("entity", "entity_id")',
    'CREATE TABLE "complaint" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "job_id" VARCHAR(32), '
    '"worker_id" VARCHAR(32), "employer_id" VARCHAR(32), "by" VARCHAR(16) NOT NULL, '
    '"kind" VARCHAR(32) NOT NULL, "text" TEXT NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"resolution" TEXT, "created_at" DATETIME NOT NULL, "resolved_at" DATETIME, FOREIGN KEY ('
    '"job_id") REFERENCES "job" ("id") ON DELETE SET NULL, FOREIGN KEY ('
    '"worker_id") REFERENCES "worker" ("id") ON DELETE SET NULL, FOREIGN KEY ('
    '"employer_id") REFERENCES "employer" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "complaint_job_id" ON "complaint" ("job_id")',
    'CREATE INDEX "complaint_worker_id" ON "complaint" ("worker_id")',
    'CREATE INDEX "complaint_employer_id" ON "complaint" ("employer_id")',
    'CREATE TABLE "id_access" ("id" INTEGER NOT NULL PRIMARY KEY, "staff_id" INTEGER NOT NULL, '
    '"entity" VARCHAR(16) NOT NULL, "entity_id" VARCHAR(32) NOT NULL, '
    '"purpose" VARCHAR(200) NOT NULL, "at" DATETIME NOT NULL, FOREIGN KEY ('
    '"staff_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "id_access_staff_id" ON "id_access" ("staff_id")',
    'CREATE TABLE "offer" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "job_id" VARCHAR(32) NOT NULL, '
    '"worker_id" VARCHAR(32) NOT NULL, "rank" INTEGER NOT NULL, "status" VARCHAR(16) NOT NULL, '
    '"sent_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "answered_at" DATETIME, '
    'FOREIGN KEY ("job_id") REFERENCES "job" ("id") ON DELETE CASCADE, FOREIGN KEY ('
    '"worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "offer_job_id" ON "offer" ("job_id")',
    'CREATE INDEX "offer_worker_id" ON "offer" ("worker_id")',
    'CREATE INDEX "offer_status" ON "offer" ("status")',
    'CREATE INDEX "offer_expires_at" ON "offer" ("expires_at")',
    'CREATE TABLE "presence" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"worker_id" VARCHAR(32) NOT NULL, "day" DATE NOT NULL, "checked_in_at" DATETIME NOT NULL, '
    '"checked_out_at" DATETIME, FOREIGN KEY ("worker_id") REFERENCES "worker" ('
    '"id") ON DELETE CASCADE)',
    'CREATE INDEX "presence_worker_id" ON "presence" ("worker_id")',
    'CREATE INDEX "presence_day" ON "presence" ("day")',
    'CREATE UNIQUE INDEX "presence_worker_id_day" ON "presence" ("worker_id", "day")',
    'CREATE TABLE "priority_consent" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"worker_id" VARCHAR(32) NOT NULL, "groups" TEXT NOT NULL, "purpose" VARCHAR(200) NOT NULL, '
    '"recorded_by_id" INTEGER, "consented_at" DATETIME NOT NULL, "withdrawn_at" DATETIME, '
    'FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE, FOREIGN KEY ('
    '"recorded_by_id") REFERENCES "staff" ("id"))',
    'CREATE INDEX "priority_consent_worker_id" ON "priority_consent" ("worker_id")',
    'CREATE INDEX "priority_consent_recorded_by_id" ON "priority_consent" ("recorded_by_id")',
    'CREATE TABLE "ranking" ("id" INTEGER NOT NULL PRIMARY KEY, "job_id" VARCHAR(32) NOT NULL, '
    '"worker_id" VARCHAR(32) NOT NULL, "rank" INTEGER NOT NULL, "score" INTEGER NOT NULL, '
    '"eligible" INTEGER NOT NULL, "reasons" TEXT NOT NULL, "ranked_at" DATETIME NOT NULL, '
    'FOREIGN KEY ("job_id") REFERENCES "job" ("id") ON DELETE CASCADE, FOREIGN KEY ('
    '"worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "ranking_job_id" ON "ranking" ("job_id")',
    'CREATE INDEX "ranking_worker_id" ON "ranking" ("worker_id")',
    'CREATE UNIQUE INDEX "ranking_job_id_worker_id" ON "ranking" ("job_id", "worker_id")',
    'CREATE TABLE "station_state" ("key" VARCHAR(64) NOT NULL PRIMARY KEY, "value" TEXT NOT NULL)',
)

_SYNC_TABLES = (
    'CREATE TABLE "city_rule" ("id" VARCHAR(64) NOT NULL PRIMARY KEY, '
    '"kind" VARCHAR(32) NOT NULL, "body" TEXT NOT NULL, "active" INTEGER NOT NULL, '
    '"hub_seq" INTEGER NOT NULL)',
    'CREATE TABLE "hub_entry" ("seq" INTEGER NOT NULL PRIMARY KEY, '
    '"entry_hash" VARCHAR(64) NOT NULL, "entity" VARCHAR(32) NOT NULL, '
    '"entity_id" VARCHAR(64) NOT NULL, "op" VARCHAR(16) NOT NULL, "fields" TEXT NOT NULL, '
    '"outcome" VARCHAR(200) NOT NULL, "applied_at" DATETIME NOT NULL)',
)

_SCREENING_PHRASES = (
    'CREATE TABLE "screening_phrase" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, '
    '"kind" VARCHAR(32) NOT NULL, "phrase" VARCHAR(64) NOT NULL, "typed" VARCHAR(64) NOT NULL, '
    '"added_by" VARCHAR(64) NOT NULL, "added_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "screening_phrase_kind_phrase" ON "screening_phrase" ("kind", "phrase")',
)

_SIGNIN_THROTTLE = (
    'CREATE TABLE "signin_throttle" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"kind" VARCHAR(16) NOT NULL, "scope" VARCHAR(16) NOT NULL, "key" VARCHAR(64) NOT NULL, '
    '"label" VARCHAR(64) NOT NULL, "failures" INTEGER NOT NULL, "last_failure_at" DATETIME, '
    '"blocked_until" DATETIME, "locked" INTEGER NOT NULL)',
    'CREATE UNIQUE INDEX "signin_throttle_kind_scope_key" ON "signin_throttle" ("kind", "scope", '
    '"key")',
)

_SMS_MESSAGES = (
    'CREATE TABLE "sms_message" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"direction" VARCHAR(4) NOT NULL, "mobile" VARCHAR(32) NOT NULL, "text" TEXT NOT NULL, '
    '"priority" INTEGER NOT NULL, "purpose" VARCHAR(8) NOT NULL, "worker_id" VARCHAR(32), '
    '"offer_id" VARCHAR(32), "status" VARCHAR(16) NOT NULL, "attempts" INTEGER NOT NULL, '
    '"error" VARCHAR(200), "outcome" VARCHAR(16), "references" TEXT NOT NULL, '
    '"created_at" DATETIME NOT NULL, "not_before" DATETIME, "claimed_at" DATETIME, '
    '"sent_at" DATETIME, FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") '
    'ON DELETE SET NULL, FOREIGN KEY ("offer_id") REFERENCES "offer" ("id") ON DELETE SET NULL)',
    'CREATE INDEX "sms_message_mobile" ON "sms_message" ("mobile")',
    'CREATE INDEX "sms_message_worker_id" ON "sms_message" ("worker_id")',
    'CREATE INDEX "sms_message_offer_id" ON "sms_message" ("offer_id")',
    'CREATE INDEX "sms_message_direction_status_priority" ON "sms_message" '
    '("direction", "status", "priority")',
)

_DEVICES = (
    'CREATE TABLE "device" ("id" VARCHAR(32) NOT NULL PRIMARY KEY, "kind" VARCHAR(16) NOT NULL, '
    '"name" VARCHAR(64) NOT NULL, "token_hash" VARCHAR(64) NOT NULL, '
    '"paired_at" DATETIME NOT NULL, "paired_by" VARCHAR(64) NOT NULL, "last_seen_at" DATETIME, '
    '"revoked_at" DATETIME, "revoked_by" VARCHAR(64))',
    'CREATE UNIQUE INDEX "device_token_hash" ON "device" ("token_hash")',
    'CREATE TABLE "pairing_code" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"code_hash" VARCHAR(64) NOT NULL, "created_by" VARCHAR(64) NOT NULL, '
    '"created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "used_at" DATETIME, '
    '"device_id" VARCHAR(32))',
)

_PRINT_JOBS = (
    'CREATE TABLE "print_job" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"assignment_id" VARCHAR(32) NOT NULL, "slip" TEXT NOT NULL, "reason" VARCHAR(16) NOT NULL, '
    '"status" VARCHAR(8) NOT NULL, "error" VARCHAR(200), "attempts" INTEGER NOT NULL, '
    '"created_at" DATETIME NOT NULL, "claimed_at" DATETIME, "finished_at" DATETIME, '
    'FOREIGN KEY ("assignment_id") REFERENCES "assignment" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "print_job_assignment_id" ON "print_job" ("assignment_id")',
    'CREATE INDEX "print_job_status" ON "print_job" ("status")',
)

_PHONE_CODES = (
    'CREATE TABLE "phone_code" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"worker_id" VARCHAR(32) NOT NULL, "code_hash" VARCHAR(64) NOT NULL, '
    '"channel" VARCHAR(8) NOT NULL, "created_at" DATETIME NOT NULL, '
    '"expires_at" DATETIME NOT NULL, "used_at" DATETIME, "attempts" INTEGER NOT NULL, '
    'FOREIGN KEY ("worker_id") REFERENCES "worker" ("id") ON DELETE CASCADE)',
    'CREATE INDEX "phone_code_worker_id" ON "phone_code" ("worker_id")',
    'CREATE INDEX "phone_code_expires_at" ON "phone_code" ("expires_at")',
)

_SCREEN_LINKS = (
    'CREATE TABLE "screen_link" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"device_id" VARCHAR(32) NOT NULL, "link_hash" VARCHAR(64) NOT NULL, '
    '"created_at" DATETIME NOT NULL, "expires_at" DATETIME NOT NULL, "used_at" DATETIME)',
    'CREATE INDEX "screen_link_device_id" ON "screen_link" ("device_id")',
    'CREATE UNIQUE INDEX "screen_link_link_hash" ON "screen_link" ("link_hash")',
)


def _run(database: Any, statements: Sequence[str]) -> None:
    for sql in statements:
        database.execute_sql(sql)


def _create_first_release(database: Any) -> None:
    """The station's tables as the first release made them."""
    _run(database, _FIRST_RELEASE)


def _create_sync_tables(database: Any) -> None:
    """The city's rules and the hub's log entries the station has applied."""
    _run(database, _SYNC_TABLES)


def _index_ranking_order(database: Any) -> None:
    """The offer cascade asks for a job's best-ranked free worker: walk the ranking in order."""
    database.execute_sql('CREATE INDEX "ranking_job_id_rank" ON "ranking" ("job_id", "rank")')


def _record_complaint_staff(database: Any) -> None:
    """Who took a complaint at the desk and who resolved it, beside what was done."""
    database.execute_sql('ALTER TABLE "complaint" ADD COLUMN "taken_by" VARCHAR(64)')
    database.execute_sql('ALTER TABLE "complaint" ADD COLUMN "resolved_by" VARCHAR(64)')


def _create_screening_phrases(database: Any) -> None:
    """The phrases station admins add to screening's vocabulary."""
    _run(database, _SCREENING_PHRASES)


def _create_signin_throttle(database: Any) -> None:
    """Failed sign-ins per account and per address, kept across restarts."""
    _run(database, _SIGNIN_THROTTLE)


def _create_sms_messages(database: Any) -> None:
    """The SMS outbox and inbox the gateway's modem works through."""
    _run(database, _SMS_MESSAGES)


def _create_devices(database: Any) -> None:
    """Paired devices and the pairing codes staff show them."""
    _run(database, _DEVICES)


def _create_print_jobs(database: Any) -> None:
    """The job slips waiting for the receipt printer."""
    _run(database, _PRINT_JOBS)


def _create_phone_codes(database: Any) -> None:
    """One-time codes that sign workers in on their own phones."""
    _run(database, _PHONE_CODES)


def _create_screen_links(database: Any) -> None:
    """One-time links that let a paired kiosk or board screen show its pages."""
    _run(database, _SCREEN_LINKS)


# Numbered migrations, applied in order, each once, given the database to change.
MIGRATIONS: list[tuple[int, Callable[[Any], None]]] = [
    (1, _create_first_release),
    (2, _create_sync_tables),
    (3, _index_ranking_order),
    (4, _record_complaint_staff),
    (5, _create_screening_phrases),
    (6, _create_signin_throttle),
    (7, _create_sms_messages),
    (8, _create_devices),
    (9, _create_print_jobs),
    (10, _create_phone_codes),
    (11, _create_screen_links),
]
