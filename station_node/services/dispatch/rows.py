"""Reading the station's rows into the dispatch engine's plain facts."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import peewee
from flask import current_app, has_app_context

from kuaigong.states import BOOKED_ASSIGNMENTS, REFUSED_OFFERS, WorkerStatus
from station_node.db import database
from station_node.matching import Booking, CascadeSettings, JobFacts, WorkerFacts
from station_node.models import (
    Assignment,
    Job,
    JSONField,
    Offer,
    Presence,
    PriorityConsent,
    Worker,
)
from station_node.services import local_today, utc_offset_hours

RANKING_STORED = 200  # eligible workers stored per ranking (and per top-up), best first


def config_value(key: str, default: Any) -> Any:
    return current_app.config.get(key, default) if has_app_context() else default


def stored_limit() -> int:
    """How many eligible workers a ranking stores (RANKING_STORED), best first; the cascade
    ranks the rest live and stores the next ones when these run out."""
    return max(1, int(config_value("RANKING_STORED", RANKING_STORED)))


def settings() -> CascadeSettings:
    timeout = int(config_value("OFFER_TIMEOUT_SECONDS", 20))
    return CascadeSettings(
        offer_timeout_seconds=timeout,
        escalate_after_seconds=int(config_value("ESCALATE_AFTER_SECONDS", 45)),
        parallel_per_place=int(config_value("OFFER_PARALLEL_PER_PLACE", 1)),
        widen_after_seconds=int(config_value("OFFER_WIDEN_AFTER_SECONDS", max(1, timeout // 2))),
        max_parallel_per_place=int(config_value("OFFER_MAX_PARALLEL_PER_PLACE", 3)),
    )


def local_time(when: dt.datetime | None) -> dt.datetime | None:
    """A stored UTC time as station wall-clock time (naive)."""
    return None if when is None else when + dt.timedelta(hours=utc_offset_hours())


def today() -> dt.date:
    """Today at the station: the day of the present pool."""
    return local_today()


class Window(Protocol):
    """A job's time window: a Job row or any plain value with these attributes."""

    @property
    def time_flexible(self) -> bool: ...
    @property
    def starts_at(self) -> dt.datetime | None: ...
    @property
    def ends_at(self) -> dt.datetime | None: ...


def is_timed(job: Window) -> bool:
    return not job.time_flexible and job.starts_at is not None and job.ends_at is not None


def clashing(model: type[Assignment], job: Window) -> peewee.Expression:
    """Assignments of `model` (an alias) whose booked window overlaps the job's."""
    return (
        model.status.in_(BOOKED_ASSIGNMENTS)
        & (model.starts_at < job.ends_at)
        & (model.ends_at > job.starts_at)
    )


def job_facts(
    job: Job, assigned: set[str] | None = None, declined: set[str] | None = None
) -> JobFacts:
    """The job's facts; `assigned` and `declined` worker ids are read unless given."""
    if assigned is None:
        assigned = {
            a.worker_id
            for a in Assignment.select(Assignment.worker).where(Assignment.job == job.id)
        }
    if declined is None:
        declined = {
            o.worker_id
            for o in Offer.select(Offer.worker).where(
                (Offer.job == job.id) & Offer.status.in_(REFUSED_OFFERS)
            )
        }
    return JobFacts(
        id=job.id,
        community=job.community,
        skills=frozenset(job.skills or ()),
        starts_at=job.starts_at,
        ends_at=job.ends_at,
        local_starts_at=local_time(job.starts_at),
        local_ends_at=local_time(job.ends_at),
        time_flexible=bool(job.time_flexible),
        assigned_worker_ids=frozenset(assigned),
        declined_worker_ids=frozenset(declined),
    )


WORKER_COLUMNS = (
    Worker.id,
    Worker.name,
    Worker.skills,
    Worker.areas,
    Worker.availability,
    Worker.status,
    Worker.priority_groups,
    Worker.last_assigned_at,
    Worker.no_show_count,
    Worker.late_cancel_count,
    Worker.rating_sum,
    Worker.rating_count,
    Worker.created_at,
)


def worker_facts(
    rows: list[dict[str, Any]],
    present: dict[str, dt.datetime],
    consented: set[str],
    bookings: dict[str, list[Booking]],
) -> list[WorkerFacts]:
    return [
        WorkerFacts(
            id=r["id"],
            name=r["name"],
            skills=frozenset(r["skills"] or ()),
            areas=frozenset(r["areas"] or ()),
            availability=r["availability"] or {},
            active=r["status"] == WorkerStatus.ACTIVE,
            priority_groups=tuple(r["priority_groups"] or ()) if r["id"] in consented else (),
            last_assigned_at=r["last_assigned_at"],
            no_show_count=r["no_show_count"],
            late_cancel_count=r["late_cancel_count"],
            rating_sum=r["rating_sum"],
            rating_count=r["rating_count"],
            present=r["id"] in present,
            checked_in_at=present.get(r["id"]),
            registered_at=r["created_at"],
            bookings=tuple(bookings.get(r["id"], ())),
        )
        for r in rows
    ]


_PRESENT = (
    'SELECT "worker_id", "checked_in_at" FROM "presence" '
    'WHERE "day" = ? AND "checked_out_at" IS NULL'
)


def present_ids() -> dict[str, dt.datetime]:
    """Workers checked in at the station today (and not gone), with their arrival time.

    Fixed SQL, times converted by a cached converter: every posting asks this.
    """
    rows = database.execute_sql(_PRESENT, (Presence.day.db_value(today()),)).fetchall()
    return {w: stored_time(at) or dt.datetime.min for w, at in rows}


def consented_ids() -> set[str]:
    query = PriorityConsent.select(PriorityConsent.worker).where(
        PriorityConsent.withdrawn_at.is_null()
    )
    return {c.worker_id for c in query}


def marks(values: frozenset[str]) -> str:
    """One parameter mark per value, for `IN (...)` in fixed SQL."""
    return ", ".join("?" * len(values))


_BOOKINGS_OF_WORKER = (
    'SELECT "job_id", "starts_at", "ends_at" FROM "assignment" WHERE "worker_id" = ? '
    f'AND "status" IN ({marks(BOOKED_ASSIGNMENTS)}) AND "starts_at" < ? AND "ends_at" > ? '
    'AND "job_id" != ?'
)


def bookings_overlapping(job: Job, worker_id: str | None = None) -> dict[str, list[Booking]]:
    """Live bookings that overlap the job's window, by worker (none for flexible jobs)."""
    if not is_timed(job):
        return {}
    if worker_id is not None:  # one worker, on the grab path: fixed SQL
        column = Assignment.starts_at
        params = (
            worker_id,
            *BOOKED_ASSIGNMENTS,
            column.db_value(job.ends_at),
            column.db_value(job.starts_at),
            job.id,
        )
        rows = database.execute_sql(_BOOKINGS_OF_WORKER, params).fetchall()
        held = [Booking(j, column.python_value(a), column.python_value(b)) for j, a, b in rows]
        return {worker_id: held} if held else {}
    query = Assignment.select(
        Assignment.worker, Assignment.job, Assignment.starts_at, Assignment.ends_at
    ).where(clashing(Assignment, job) & (Assignment.job != job.id))
    found: dict[str, list[Booking]] = {}
    for a in query:
        found.setdefault(a.worker_id, []).append(Booking(a.job_id, a.starts_at, a.ends_at))
    return found


@dataclass(frozen=True)
class TimedBooking:
    """A booking with when it was confirmed (to tell what was booked at a past moment)."""

    job_id: str
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    confirmed_at: dt.datetime | None


def bookings_with_time(job: Job, worker_id: str) -> dict[str, list[TimedBooking]]:
    """One worker's live bookings overlapping the job's window, with their confirmation time."""
    if not is_timed(job):
        return {}
    query = Assignment.select(
        Assignment.job, Assignment.starts_at, Assignment.ends_at, Assignment.confirmed_at
    ).where(
        clashing(Assignment, job) & (Assignment.job != job.id) & (Assignment.worker == worker_id)
    )
    held = [TimedBooking(a.job_id, a.starts_at, a.ends_at, a.confirmed_at) for a in query]
    return {worker_id: held} if held else {}


def local_day(at: dt.datetime) -> dt.date:
    """The station's calendar day at a stored UTC moment (the day of that present pool)."""
    moment = local_time(at)
    assert moment is not None
    return moment.date()


# Skills and areas lists as stored text → decoded set, kept across postings: a station's
# workers share a few thousand distinct lists, and the sets are immutable.
_TEXT_SETS: dict[str | None, frozenset[str]] = {}
_TEXT_SETS_MAX = 50_000
_COLUMNS = ", ".join(f'"worker"."{c.column_name}"' for c in WORKER_COLUMNS)
_NO_COLUMNS = ", ".join(["NULL"] * (len(WORKER_COLUMNS) - 2))


def _contains(column: str, value: str, params: list[Any]) -> str:
    """SQL: the JSON list of strings in `column` holds `value` — the value as a JSON string
    inside the text, in either escaping. Lets through every row that holds it (at worst a few
    that merely mention it); the engine checks the decoded list exactly."""
    spellings = sorted({json.dumps(value, ensure_ascii=False), json.dumps(value)})
    params.extend(spellings)
    return "(" + " OR ".join(f'instr("worker"."{column}", ?) > 0' for _ in spellings) + ")"


def _pool_query(job: Job, unranked_only: bool) -> tuple[str, list[Any]]:
    """One statement, one scan of the workers: the pool's rows (active, in the job's area or
    anywhere, with its skills), then the present ones who are not, then a row (id NULL)
    counting the rest of the area (without the skills, not present)."""
    skilled_params: list[Any] = []
    skilled = (
        " AND ".join(
            _contains("skills", skill, skilled_params) for skill in sorted(set(job.skills or ()))
        )
        or "1"
    )
    area_params: list[Any] = []
    in_area = f'("worker"."areas" = \'[]\' OR {_contains("areas", job.community, area_params)})'
    here = (
        '"worker"."id" IN (SELECT "worker_id" FROM "presence" WHERE "day" = ? '
        'AND "checked_out_at" IS NULL)'
    )
    here_params = [today().isoformat()]
    unranked, unranked_params = "1", []
    if unranked_only:
        unranked = '"worker"."id" NOT IN (SELECT "worker_id" FROM "ranking" WHERE "job_id" = ?)'
        unranked_params = [job.id]
    sql = (
        f'WITH "area" AS MATERIALIZED (SELECT "worker"."rowid" AS "r", {skilled} AS "ok", '
        f'{here} AS "here" '
        f'FROM "worker" WHERE "worker"."status" = \'{WorkerStatus.ACTIVE}\' '
        f"AND {in_area} AND {unranked}) "
        f'SELECT {_COLUMNS} FROM "area" JOIN "worker" ON "worker"."rowid" = "area"."r" '
        f'WHERE "area"."ok" '
        f'UNION ALL SELECT {_COLUMNS} FROM "worker" '
        f'WHERE "worker"."status" = \'{WorkerStatus.ACTIVE}\' AND {here} '
        f'AND {unranked} AND "worker"."rowid" NOT IN (SELECT "r" FROM "area" WHERE "ok") '
        f'UNION ALL SELECT NULL, (SELECT COUNT(*) FROM "area" WHERE NOT "ok" AND NOT "here"), '
        f"{_NO_COLUMNS}"
    )
    params = [
        *skilled_params,
        *here_params,
        *area_params,
        *unranked_params,
        *here_params,
        *unranked_params,
    ]
    return sql, params


@dataclass
class Pool:
    """The workers worth ranking for a job, and how many in its area were left out for
    lacking its skills (active, not present today: counted, not ranked)."""

    workers: list[WorkerFacts]
    unskilled: int


def ranking_pool(
    job: Job,
    present: dict[str, dt.datetime],
    consented: set[str],
    bookings: dict[str, list[Booking]],
    *,
    unranked_only: bool = False,
) -> Pool:
    """Facts of the workers worth ranking: active ones who work in the job's community (or
    anywhere) and may hold all its skills, and everyone present today; with the count of the
    active workers in the area without the skills (not present), who are not ranked. They and
    anyone else are told why not on request by `explain(job_id, worker_id)`. `unranked_only`
    leaves out workers already holding a stored row for the job (a top-up).

    A large station has thousands of workers in a job's area, so this is one statement with
    one scan of the workers, read as plain tuples of the needed columns (no model objects);
    skills and areas lists are decoded once per distinct text for good, the facts built
    straight from the values.
    """
    sql, params = _pool_query(job, unranked_only)
    sets = _TEXT_SETS
    if len(sets) > _TEXT_SETS_MAX:
        sets.clear()
    objects: dict[str | None, Any] = {None: None}

    def as_set(text: str | None) -> frozenset[str]:
        found = sets.get(text)
        if found is None:
            found = sets[text] = frozenset(json.loads(text) if text is not None else ())
        return found

    def decoded(text: str | None) -> Any:
        if text in objects:
            return objects[text]
        found = objects[text] = None if text is None else json.loads(text)
        return found

    when = _converter(Worker.last_assigned_at, {})
    facts: list[WorkerFacts] = []
    unskilled = 0
    for (
        wid,
        name,
        skills,
        areas,
        hours,
        status,
        groups,
        last,
        no_shows,
        late,
        rating_sum,
        rating_count,
        created,
    ) in database.execute_sql(sql, params).fetchall():
        if wid is None:
            unskilled = int(name or 0)
            continue
        facts.append(
            WorkerFacts(
                wid,
                name,
                as_set(skills),
                as_set(areas),
                decoded(hours) or {},
                status == WorkerStatus.ACTIVE,
                tuple(decoded(groups) or ()) if wid in consented else (),
                when(last),
                no_shows,
                late,
                rating_sum,
                rating_count,
                wid in present,
                present.get(wid),
                when(created),
                tuple(bookings.get(wid, ())),
            )
        )
    return Pool(facts, unskilled)


def _converter(field: peewee.Field, parsed: dict[str, Any]) -> Callable[[Any], Any]:
    """A fast python_value for a pool of thousands of rows (read-only values: JSON decoded once
    per distinct text, ISO datetimes, integers and text as SQLite returns them)."""
    if isinstance(field, JSONField):

        def decoded(v: Any) -> Any:
            if v is None:
                return None
            found = parsed.get(v)
            if found is None:
                found = parsed[v] = json.loads(v)
            return found

        return decoded
    if isinstance(field, peewee.IntegerField | peewee.CharField):
        return lambda v: v
    if isinstance(field, peewee.DateTimeField):

        def when(v: Any) -> Any:
            if not isinstance(v, str):
                return field.python_value(v)
            try:
                return dt.datetime.fromisoformat(v)
            except ValueError:
                return field.python_value(v)

        return when
    return field.python_value


stored_time: Callable[[Any], dt.datetime | None] = _converter(Job.starts_at, {})
"""A stored datetime column's value (ISO text from SQLite) as a naive datetime, quickly."""
