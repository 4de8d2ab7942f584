"""Dispatch use cases: rank workers for a job, grab, offer cascade, manual assignment, board.

Decisions come from the pure engine in `station_node.matching`; this module reads rows into
its facts, writes the outcome and its change-log entries in one transaction. Every
confirmation goes through `_confirm`, which re-reads the job under SQLite's write lock
(BEGIN IMMEDIATE), so concurrent grabs, offers and staff assignments never exceed a job's
headcount nor give one worker two overlapping bookings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from typing import Any, NamedTuple

import peewee

from kuaigong import clock, collector
from kuaigong.errors import Conflict, Forbidden, NotFound
from kuaigong.states import (
    BOOKED_ASSIGNMENTS,
    DROPPED_ASSIGNMENTS,
    LIVE_JOBS,
    PLACE_HOLDING_ASSIGNMENTS,
    AssignmentStatus,
    JobStatus,
    OfferStatus,
    WorkerStatus,
)
from station_node import changelog, db, events
from station_node.matching import (
    CascadeJob,
    CascadePlan,
    CascadeSettings,
    OfferView,
    Ranked,
    RankedPool,
    check_eligibility,
    plan,
    rank_best,
)
from station_node.matching.cascade import parallel_offers
from station_node.models import Assignment, ChangeEntry, Job, Offer, Ranking, Staff, Worker, new_id
from station_node.services import employer_blocks, printing, sms
from station_node.services.dispatch import channels
from station_node.services.dispatch.rows import (
    WORKER_COLUMNS,
    bookings_overlapping,
    consented_ids,
    is_timed,
    job_facts,
    marks,
    present_ids,
    ranking_pool,
    settings,
    stored_limit,
    stored_time,
    worker_facts,
)
from station_node.services.dispatch.status import board, explain, job_state, pending_offers

__all__ = [
    "accept_offer",
    "assign",
    "assignment_id",
    "board",
    "decline_offer",
    "explain",
    "grab",
    "job_state",
    "pending_offers",
    "reopen",
    "start_dispatch",
    "tick",
]

_INSERT_RANKING = (
    f'INSERT INTO "{Ranking._meta.table_name}" ("job_id", "worker_id", "rank", "score", '
    '"eligible", "reasons", "ranked_at") VALUES (?, ?, ?, ?, ?, ?, ?)'
)
RANKING_LOGGED = 100  # eligible workers per ranking entry, best first
RANKING_ENTRY_BYTES = 48 * 1024  # fields of one ranking entry; sync_protocol takes 64 KiB an entry
_writing = db.writing  # the process's write queue: see db.writing


def assignment_id(job_id: str, worker_id: str) -> str:
    """The assignment's id: derived from its job and worker, the same on every station and the
    hub."""
    return hashlib.sha256(f"{job_id}:{worker_id}".encode()).hexdigest()[:32]


# ---------------------------------------------------------------- ranking


def _store(job_id: str, ranked: list[Ranked], now: dt.datetime, offset: int = 0) -> None:
    """Insert Ranking rows for `ranked` (eligible ranks shifted by `offset`).

    One prepared statement for all rows (peewee's insert_many builds its SQL value by value),
    values converted by the fields' own db_value as insert_many would.
    """
    at, encode = Ranking.ranked_at.db_value(now), Ranking.reasons.db_value
    db.database.cursor().executemany(
        _INSERT_RANKING,
        [
            (
                job_id,
                r.worker_id,
                r.rank + offset if r.eligible else 0,
                r.score,
                r.eligible,
                encode(r.reasons_stored()),
                at,
            )
            for r in ranked
        ],
    )


def _rank_and_store(job: Job, now: dt.datetime) -> tuple[int, int]:
    """Rank the pool for `job`, replace its stored Ranking rows, log them; (eligible, ineligible).

    Rows are stored for the best RANKING_STORED eligible workers and for the ineligible ones
    present at the station today, each with its reasons as codes and parameters (rendered in
    both languages when read). Workers in the area without the job's skills are only counted.
    Anyone else is explained on request, worked out as at this ranking's time; the cascade
    ranks the rest again and stores the next ones if the stored workers run out.
    """
    present = present_ids()
    with collector.held_off():
        pool = ranking_pool(job, present, consented_ids(), bookings_overlapping(job))
        unskilled = pool.unskilled
        ranked = rank_best(job_facts(job), pool.workers, now, keep=stored_limit())
        del pool
    Ranking.delete().where(Ranking.job == job.id).execute()
    _store(job.id, [r for r in ranked.rows if r.eligible or r.worker_id in present], now)
    changelog.record(
        "ranking", job.id, "create", ranking_entry(job.id, ranked, now, unskilled=unskilled)
    )
    return ranked.eligible, ranked.ineligible + unskilled


def _ranking_cut(job_id: str) -> bool:
    """Whether the job's latest ranking (or top-up) found more eligible workers than it stored.

    Read from its change-log entry; a job with no entry at hand is taken as cut (a top-up
    then finds out and logs the answer).
    """
    entry = (
        ChangeEntry.select(ChangeEntry.fields)
        .where((ChangeEntry.entity == "ranking") & (ChangeEntry.entity_id == job_id))
        .order_by(ChangeEntry.seq.desc())
        .first()
    )
    if entry is None:
        return True
    fields = entry.fields or {}
    eligible = int(fields.get("eligible") or 0)
    return eligible > int(fields.get("stored", eligible))


def _top_up(job: Job, now: dt.datetime) -> bool:
    """The stored ranking ran out with places still open: rank the workers not stored yet live
    (those offered, declined or assigned are stored or ineligible) and store the next
    RANKING_STORED after the last stored rank. True when any were stored."""
    if not _ranking_cut(job.id):
        return False
    present = present_ids()
    with collector.held_off():
        pool = ranking_pool(
            job, present, consented_ids(), bookings_overlapping(job), unranked_only=True
        )
        unskilled = pool.unskilled
        ranked = rank_best(job_facts(job), pool.workers, now, keep=stored_limit())
        del pool
    last = Ranking.select(peewee.fn.MAX(Ranking.rank)).where(Ranking.job == job.id).scalar() or 0
    _store(job.id, [r for r in ranked.rows if r.eligible], now, offset=last)
    changelog.record(
        "ranking",
        job.id,
        "update",
        ranking_entry(job.id, ranked, now, unskilled=unskilled, after_rank=last),
    )
    return ranked.stored > 0


def ranking_entry(
    job_id: str, ranked: RankedPool, now: dt.datetime, *, unskilled: int = 0, after_rank: int = 0
) -> dict[str, Any]:
    """What the change log (and so the hub) gets of a ranking: bounded, whatever the pool size.

    The hub audits the order of dispatch, not every worker's line: the first RANKING_LOGGED
    eligible workers with their score and reason codes (who was first in line, and why), how
    many were in the pool (`ranked`), eligible and stored, and how many were left out for each
    reason (`unskilled`, logged as `counted_unskilled`: workers in the area without the job's
    skills, counted by the pool query and not ranked, so only their missing skills count).
    Each offer's own entry carries its rank, so offers further down are still visible. A top-up
    (`after_rank` > 0, op update) logs the next workers stored, ranked after the stored ones.
    """
    left_out = dict(ranked.left_out)
    if unskilled:
        left_out["skills_missing"] = left_out.get("skills_missing", 0) + unskilled
    top = [
        [r.worker_id, r.rank + after_rank, r.score, [c.code for c in r.reasons]]
        for r in ranked.rows[: min(RANKING_LOGGED, ranked.stored)]
    ]
    fields = {
        "job_id": job_id,
        "ranked_at": now,
        "ranked": ranked.eligible + ranked.ineligible + unskilled,
        "eligible": ranked.eligible,
        "stored": ranked.stored,
        "ineligible_by_reason": left_out,
        "counted_unskilled": unskilled,
        "top": top,
    }
    if after_rank:
        fields["after_rank"] = after_rank
    while (
        top and len(json.dumps(changelog.plain(fields), ensure_ascii=False)) > RANKING_ENTRY_BYTES
    ):
        del top[-max(1, len(top) // 4) :]  # only with very long ids or reason lists
    fields["top_count"] = len(top)
    return fields


# ---------------------------------------------------------------- cascade


def _cascade_job(job: Job | _LiveJob) -> CascadeJob:
    return CascadeJob(
        job.id,
        job.dispatch_mode,
        job.status,
        job.headcount,
        job.confirmed_count,
        job.dispatch_started_at,
        job.escalated_at,
    )


_CANDIDATES = (
    'SELECT "r"."worker_id", "r"."rank" FROM "ranking" AS "r" '
    'JOIN "worker" AS "w" ON "w"."id" = "r"."worker_id" '
    f'WHERE "r"."job_id" = ? AND "r"."eligible" = 1 AND "w"."status" = \'{WorkerStatus.ACTIVE}\' '
    'AND NOT EXISTS (SELECT 1 FROM "offer" AS "o" WHERE "o"."worker_id" = "r"."worker_id" AND '
    f'(("o"."job_id" = ? AND "o"."status" != \'{OfferStatus.WITHDRAWN}\') '
    f'OR ("o"."status" = \'{OfferStatus.PENDING}\' AND "o"."expires_at" > ?))) '
    'AND NOT EXISTS (SELECT 1 FROM "assignment" AS "a" WHERE "a"."worker_id" = "r"."worker_id" AND '
    '("a"."job_id" = ?{clash})) ORDER BY "r"."rank" LIMIT ?'
)
_CANDIDATES_FLEXIBLE = _CANDIDATES.format(clash="")
# Whether someone who fits the job and was not offered it is holding another job's live offer.
_BUSY_ELSEWHERE = (
    'SELECT 1 FROM "ranking" AS "r" JOIN "worker" AS "w" ON "w"."id" = "r"."worker_id" '
    f'WHERE "r"."job_id" = ? AND "r"."eligible" = 1 AND "w"."status" = \'{WorkerStatus.ACTIVE}\' '
    'AND NOT EXISTS (SELECT 1 FROM "offer" AS "o" WHERE "o"."worker_id" = "r"."worker_id" AND '
    f'"o"."job_id" = ? AND "o"."status" != \'{OfferStatus.WITHDRAWN}\') '
    'AND EXISTS (SELECT 1 FROM "offer" AS "o" WHERE "o"."worker_id" = "r"."worker_id" AND '
    f'"o"."status" = \'{OfferStatus.PENDING}\' AND "o"."expires_at" > ?) '
    'AND NOT EXISTS (SELECT 1 FROM "assignment" AS "a" WHERE "a"."worker_id" = "r"."worker_id" '
    'AND "a"."job_id" = ?) LIMIT 1'
)
_CANDIDATES_TIMED = _CANDIDATES.format(
    clash=f' OR ("a"."status" IN ({marks(BOOKED_ASSIGNMENTS)}) '
    'AND "a"."starts_at" < ? AND "a"."ends_at" > ?)'
)


def _candidates(job: Job | _LiveJob, limit: int, now: dt.datetime) -> list[tuple[str, int]]:
    """The next eligible workers for an offer, best ranked first: still active, not offered this
    job before, not holding another live offer, not booked on this job or in its window.

    Fixed SQL: the offer cascade asks this for every live job on every beat that needs more.
    """
    if limit <= 0:
        return []
    at = Offer.expires_at.db_value(now)
    if is_timed(job):
        when = Assignment.starts_at.db_value
        params: tuple[Any, ...] = (
            job.id,
            job.id,
            at,
            job.id,
            *BOOKED_ASSIGNMENTS,
            when(job.ends_at),
            when(job.starts_at),
            limit,
        )
        sql = _CANDIDATES_TIMED
    else:
        params, sql = (job.id, job.id, at, job.id, limit), _CANDIDATES_FLEXIBLE
    return [(w, r) for w, r in db.database.execute_sql(sql, params)]


def _busy_elsewhere(job_id: str, now: dt.datetime) -> bool:
    """Whether a worker who fits `job_id` is only waiting on another job's live offer."""
    at = Offer.expires_at.db_value(now)
    params = (job_id, job_id, at, job_id)
    return db.database.execute_sql(_BUSY_ELSEWHERE, params).fetchone() is not None


def _offer_views(job_id: str) -> list[OfferView]:
    query = Offer.select(Offer.id, Offer.worker, Offer.status, Offer.expires_at).where(
        (Offer.job == job_id) & (Offer.status == OfferStatus.PENDING)
    )
    return [OfferView(o.id, o.worker_id, o.status, o.expires_at) for o in query]


def _set_job(job: Job, now: dt.datetime, **changes: Any) -> None:
    """Update the job row and log the changed fields."""
    for name, value in changes.items():
        setattr(job, name, value)
    job.updated_at = now
    db.update_row(Job, job.id, {"updated_at": now, **changes})
    changelog.record("job", job.id, "update", changes)
    _job_event(job)


def _job_event(job: Job) -> None:
    """The board and the console redraw the job once the change commits."""
    data = {"job_id": job.id, "status": job.status, "places_left": _places_left(job)}
    events.publish(events.BOARD, "job", data)
    events.publish(events.STAFF, "job", data)


def _places_left(job: Job) -> int:
    return max(0, int(job.headcount or 0) - int(job.confirmed_count or 0))


_OFFER_OWNER = 'SELECT "worker_id", "job_id" FROM "offer" WHERE "id" = ?'


def _offer_event(offer_id: str, status: str, worker_id: str = "", job_id: str = "") -> None:
    """Tell the worker (their phone page or the kiosk) and the console an offer changed."""
    if not worker_id:
        found = db.database.execute_sql(_OFFER_OWNER, (offer_id,)).fetchone()
        if found is None:
            return
        worker_id, job_id = found
    data = {"offer_id": offer_id, "job_id": job_id, "worker_id": worker_id, "status": status}
    kind = "offer" if status == OfferStatus.PENDING else "offer_closed"
    events.publish(events.worker_topic(worker_id), kind, data)
    events.publish(events.STAFF, kind, data)


def _close_offer(offer_id: str, status: str, now: dt.datetime) -> None:
    Offer.update(status=status, answered_at=now).where(Offer.id == offer_id).execute()
    changelog.record("offer", offer_id, "update", {"status": status, "answered_at": now})
    _offer_event(offer_id, status)


def _cascade(job: Job, now: dt.datetime, cfg: CascadeSettings) -> CascadePlan:
    """Run one cascade step for `job` inside the caller's transaction and apply it."""
    offers = _offer_views(job.id)
    owners = {o.id: o.worker_id for o in offers}
    live_out = sum(1 for o in offers if o.expires_at > now)
    wanted = parallel_offers(_cascade_job(job), now, cfg) - live_out
    candidates = _candidates(job, channels.look_ahead(wanted, now), now)
    if len(candidates) < wanted and _top_up(job, now):
        candidates = _candidates(job, channels.look_ahead(wanted, now), now)
    ranks = dict(candidates)
    reach = channels.reach([w for w, _ in candidates], cfg, now)
    step = plan(
        _cascade_job(job),
        offers,
        [w for w, _ in candidates],
        now,
        reach.settings,
        channels=reach.planned_channels(),
        sms_queued=reach.sms_queued,
        busy_elsewhere=len(candidates) < wanted and _busy_elsewhere(job.id, now),
    )
    for offer_id in step.expire:
        Offer.update(status=OfferStatus.EXPIRED).where(Offer.id == offer_id).execute()
        changelog.record("offer", offer_id, "update", {"status": OfferStatus.EXPIRED})
        _offer_event(offer_id, OfferStatus.EXPIRED, owners.get(offer_id, ""), job.id)
    for worker_id in step.offer_to:
        expires_at = step.deadline(worker_id)
        offer = Offer.create(
            id=new_id(),
            job=job.id,
            worker=worker_id,
            rank=ranks[worker_id],
            status=OfferStatus.PENDING,
            sent_at=now,
            expires_at=expires_at,
        )
        changelog.record(
            "offer",
            offer.id,
            "create",
            {
                "job_id": job.id,
                "worker_id": worker_id,
                "rank": offer.rank,
                "status": OfferStatus.PENDING,
                "sent_at": now,
                "expires_at": expires_at,
            },
        )
        if reach.by_sms(worker_id) and expires_at is not None:
            sms.queue_offer(offer.id, job.id, worker_id, expires_at)
        _offer_event(offer.id, OfferStatus.PENDING, worker_id, job.id)
    if step.escalate:
        _set_job(job, now, status=JobStatus.ESCALATED, escalated_at=now)
    return step


# ---------------------------------------------------------------- confirmation


# The job columns dispatch reads: a narrow select keeps the grab path quick.
_JOB_COLUMNS = (
    Job.id,
    Job.status,
    Job.dispatch_mode,
    Job.headcount,
    Job.confirmed_count,
    Job.community,
    Job.skills,
    Job.starts_at,
    Job.ends_at,
    Job.time_flexible,
    Job.dispatch_started_at,
    Job.escalated_at,
    Job.filled_at,
    Job.updated_at,
)


# Hot-path reads as fixed SQL (peewee would rebuild the same statement on every grab).
_JOB_FIELDS = tuple(c.name for c in _JOB_COLUMNS)
_WORKER_FIELDS = tuple(c.name for c in WORKER_COLUMNS)
_WORKERS_ON_JOB = 'SELECT "worker_id", "status" FROM "assignment" WHERE "job_id" = ?'


def _job_or_404(job_id: str) -> Job:
    job = db.get_row(Job, "id", str(job_id), _JOB_FIELDS)
    if job is None:
        raise NotFound("工作", "job")
    return job


def _job_not_open(job: Job) -> Conflict:
    if job.status == JobStatus.HELD:
        return Conflict(
            "job_not_open",
            "此工作正在等待驿站工作人员审核，暂不接受抢单或派单",
            "the job is waiting for staff review and takes no grabs or offers",
            job_status=job.status,
        )
    return Conflict(
        "job_not_open",
        f"此工作当前不在派工中（状态：{job.status}）",
        f"the job is not open for dispatch (status: {job.status})",
        job_status=job.status,
    )


_SCREENED_JOBS = LIVE_JOBS | {JobStatus.HELD}  # where a blocked employer is named


def _employer_blocked(job_id: str) -> bool:
    try:
        employer_blocks.refuse_if_blocked(job_id)
    except Conflict:
        return True
    return False


def _full(job: Job) -> Conflict:
    return Conflict(
        "job_full",
        f"名额已满：此工作 {job.headcount} 人已招满",
        f"the job is full ({job.headcount} places)",
        headcount=job.headcount,
    )


def _confirm(job: Job | str, worker_id: str, via: str, actor: Staff | None) -> Assignment:
    """Confirm one worker on one job; the only place an Assignment is created.

    Must run inside a `db.atomic()` write transaction (BEGIN IMMEDIATE): the job is read under
    the write lock, so its place count and the worker's bookings cannot change under us. This
    is the hot path of a grab, so it keeps to a handful of queries.
    """
    now = clock.now()
    if not isinstance(job, Job):
        job = _job_or_404(job)
    if job.status in _SCREENED_JOBS:
        employer_blocks.refuse_if_blocked(job.id)
    if job.status not in LIVE_JOBS:
        raise _full(job) if job.status == JobStatus.FILLED else _job_not_open(job)
    row = db.get_values(Worker, "id", str(worker_id), _WORKER_FIELDS)
    if row is None:
        raise NotFound("工人", "worker")
    on_job = dict(db.database.execute_sql(_WORKERS_ON_JOB, (job.id,)).fetchall())
    assigned = set(on_job)
    if on_job.get(row["id"]) in DROPPED_ASSIGNMENTS:
        raise Conflict(
            "not_eligible",
            "该工人此前已取消或未到岗，不能再次确认此工作",
            "the worker cancelled or did not show up for this job before",
        )
    if row["id"] in assigned:
        raise Conflict(
            "already_assigned", "该工人已确认过此工作", "the worker is already on this job"
        )
    if job.confirmed_count >= job.headcount:
        raise _full(job)
    facts = worker_facts([row], {}, set(), bookings_overlapping(job, row["id"]))[0]
    # Declines matter only to the ranking: a grab-mode job has no offers, and staff or an
    # offered worker confirming skip them.
    why_not = check_eligibility(
        job_facts(job, assigned=assigned, declined=set()), facts, manual=via != "grab"
    )
    clash = [r for r in why_not if r.code == "overlapping_booking"]
    if clash:
        raise Conflict(
            "overlapping_booking",
            "该工人在此时段已有其他工作：" + clash[0].detail_zh,
            "the worker is already booked at that time: " + clash[0].detail_en,
        )
    if why_not:
        raise Conflict(
            "not_eligible",
            "不符合此工作的要求：" + "；".join(r.detail_zh for r in why_not),
            "not eligible for this job: " + "; ".join(r.detail_en for r in why_not),
            reasons=[r.as_dict() for r in why_not],
        )

    worker_id = row["id"]
    assignment = Assignment(
        id=assignment_id(job.id, worker_id),
        job=job.id,
        worker=worker_id,
        via=via,
        status=AssignmentStatus.CONFIRMED,
        starts_at=job.starts_at,
        ends_at=job.ends_at,
        confirmed_at=now,
        assigned_by=actor.id if actor is not None else None,
        updated_at=now,
    )
    db.insert_row(Assignment, assignment.__data__)  # what Assignment.create would write
    assignment._dirty.clear()
    printing.queue_slip(assignment)  # the slip is written with the confirmation
    changelog.record(
        "assignment",
        assignment.id,
        "create",
        {
            "job_id": job.id,
            "worker_id": worker_id,
            "via": via,
            "status": AssignmentStatus.CONFIRMED,
            "starts_at": job.starts_at,
            "ends_at": job.ends_at,
            "confirmed_at": now,
            "assigned_by": actor.id if actor is not None else None,
        },
    )
    db.update_row(Worker, worker_id, {"last_assigned_at": now, "updated_at": now})
    changelog.record("worker", worker_id, "update", {"last_assigned_at": now})
    booked = {"job_id": job.id, "assignment_id": assignment.id, "worker_id": worker_id, "via": via}
    events.publish(events.worker_topic(worker_id), "booked", booked)
    events.publish(events.STAFF, "booked", booked)
    offers = job.dispatch_mode == "offer"
    if offers:
        for offer in Offer.select(Offer.id).where(
            (Offer.job == job.id)
            & (Offer.worker == worker_id)
            & (Offer.status == OfferStatus.PENDING)
        ):
            _close_offer(offer.id, OfferStatus.ACCEPTED, now)

    confirmed = job.confirmed_count + 1
    if confirmed >= job.headcount:
        _set_job(job, now, confirmed_count=confirmed, status=JobStatus.FILLED, filled_at=now)
        if offers:
            for offer in Offer.select(Offer.id).where(
                (Offer.job == job.id) & (Offer.status == OfferStatus.PENDING)
            ):
                _close_offer(offer.id, OfferStatus.WITHDRAWN, now)
    else:
        _set_job(job, now, confirmed_count=confirmed)
    return assignment


# ---------------------------------------------------------------- public use cases


def start_dispatch(job: Job) -> dict[str, Any]:
    """Rank workers for a newly open job, store the reasons, send the first offers (offer mode).

    Runs inside the caller's transaction (post_job, release_job); returns the dispatch state.
    """
    with _writing():
        now = clock.now()
        fresh = _job_or_404(job.id)
        if fresh.status not in LIVE_JOBS:
            raise _job_not_open(fresh)
        eligible, ineligible = _rank_and_store(fresh, now)
        _set_job(fresh, now, dispatch_started_at=now, escalated_at=None, status=JobStatus.OPEN)
        step = _cascade(fresh, now, settings())
        for name in ("dispatch_started_at", "escalated_at", "status", "updated_at"):
            setattr(job, name, getattr(fresh, name))
    return {
        "job_id": job.id,
        "mode": job.dispatch_mode,
        "status": job.status,
        "eligible": eligible,
        "ineligible": ineligible,
        "offered": list(step.offer_to),
    }


def grab(job_id: str, worker_id: str, actor: Staff | None) -> Assignment:
    """A worker grabs a grab-mode job (抢单); valid grabs win in order up to the headcount."""
    # Most grabs in a rush hit a job that has just filled: answer those from a plain read,
    # without queueing for the write lock. A job never refills behind a reader's back except
    # through a cancellation, and then this grab simply lost the race, as it would have anyway.
    _grabbable(_job_or_404(job_id))
    with _writing():
        job = _job_or_404(job_id)
        _grabbable(job)
        return _confirm(job, worker_id, "grab", actor)


def _grabbable(job: Job) -> None:
    if (
        job.status == JobStatus.HELD
    ):  # say so when the employer's block is why (_confirm checks live jobs)
        employer_blocks.refuse_if_blocked(job.id)
    if job.dispatch_mode != "grab":
        raise Conflict(
            "not_eligible",
            "此工作由驿站派单，不能抢单，请等待派单通知",
            "this job is offered by the station, not open to grabs",
        )
    if job.status == JobStatus.FILLED or (
        job.status in LIVE_JOBS and job.confirmed_count >= job.headcount
    ):
        raise _full(job)
    if job.status not in LIVE_JOBS:
        raise _job_not_open(job)


def assign(job_id: str, worker_id: str, actor: Staff | None) -> Assignment:
    """Staff confirm a worker by hand: skills and area may be skipped, headcount and overlap
    never."""
    with _writing():
        return _confirm(str(job_id), str(worker_id), "manual", actor)


def _pending_offer(offer_id: str, worker_id: str | None, now: dt.datetime) -> Offer:
    offer = Offer.get_or_none(Offer.id == str(offer_id))
    if offer is None:
        raise NotFound("派单", "offer")
    if worker_id is not None and offer.worker_id != str(worker_id):
        raise Forbidden("not_your_offer", "这不是给您的派单", "this offer was made to someone else")
    if offer.status != OfferStatus.PENDING or offer.expires_at <= now:
        if offer.status == OfferStatus.WITHDRAWN:
            employer_blocks.refuse_if_blocked(offer.job_id)  # say why, when the block is why
        status = OfferStatus.EXPIRED if offer.status == OfferStatus.PENDING else offer.status
        raise Conflict(
            "offer_closed",
            "此派单已结束（已过期、已回复或名额已满）",
            "this offer is closed (expired, answered or the job is full)",
            offer_status=status,
        )
    return offer


def accept_offer(offer_id: str, worker_id: str | None, actor: Staff | None) -> Assignment:
    """The offered worker accepts before the deadline and is confirmed on the job."""
    refused: Conflict | None = None
    with _writing():
        now = clock.now()
        offer = _pending_offer(offer_id, worker_id, now)
        try:
            with db.atomic():
                assignment = _confirm(offer.job_id, offer.worker_id, "offer", actor)
        except Conflict as exc:
            # The offer cannot be honoured (booked meanwhile, job no longer open): close it
            # and pass the place on, then tell the worker why.
            _close_offer(offer.id, OfferStatus.WITHDRAWN, now)
            _cascade(_job_or_404(offer.job_id), now, settings())
            refused = exc
    if refused is not None:
        raise refused
    return assignment


def decline_offer(offer_id: str, worker_id: str | None, actor: Staff | None) -> Offer:
    """The offered worker says no; the next ranked worker gets an offer at once."""
    with _writing():
        now = clock.now()
        offer = _pending_offer(offer_id, worker_id, now)
        _close_offer(offer.id, OfferStatus.DECLINED, now)
        job = _job_or_404(offer.job_id)
        if job.status in LIVE_JOBS:
            _cascade(job, now, settings())
    offer.status, offer.answered_at = OfferStatus.DECLINED, now
    return offer


class _LiveJob(NamedTuple):
    """What the beat needs of a live job (read as plain values: it reads them all every second)."""

    id: str
    dispatch_mode: str
    status: str
    headcount: int
    confirmed_count: int
    time_flexible: bool
    starts_at: dt.datetime | None
    ends_at: dt.datetime | None
    dispatch_started_at: dt.datetime | None
    escalated_at: dt.datetime | None


_LIVE_JOBS = (
    'SELECT "id", "dispatch_mode", "status", "headcount", "confirmed_count", "time_flexible", '
    '"starts_at", "ends_at", "dispatch_started_at", "escalated_at" '
    f'FROM "job" WHERE "status" IN ({marks(LIVE_JOBS)})'
)
_PENDING_OFFERS = 'SELECT "id", "job_id", "worker_id", "expires_at" FROM "offer" WHERE "status" = ?'


def _live_jobs_and_offers(now: dt.datetime) -> tuple[list[_LiveJob], dict[str, list[OfferView]]]:
    """Every live job and the pending offers by job, as plain values."""
    rows = db.database.execute_sql(_LIVE_JOBS, tuple(LIVE_JOBS))
    jobs = [
        _LiveJob(
            i,
            mode,
            status,
            head,
            confirmed,
            bool(flexible),
            stored_time(start),
            stored_time(end),
            stored_time(started),
            stored_time(escalated),
        )
        for i, mode, status, head, confirmed, flexible, start, end, started, escalated in rows
    ]
    pending: dict[str, list[OfferView]] = {}
    for offer_id, job_id, worker_id, expires in db.database.execute_sql(
        _PENDING_OFFERS, (OfferStatus.PENDING,)
    ):
        pending.setdefault(job_id, []).append(
            OfferView(offer_id, worker_id, OfferStatus.PENDING, stored_time(expires) or now)
        )
    return jobs, pending


def tick() -> dict[str, int]:
    """One beat of the engine: expire overdue offers, send the next ones, escalate late jobs."""
    now = clock.now()
    cfg = settings()
    totals = {"jobs": 0, "expired": 0, "offered": 0, "escalated": 0}
    live_jobs, pending = _live_jobs_and_offers(now)
    for job in live_jobs:
        time.sleep(0)  # let a request thread in between jobs: the beat is never in a hurry
        totals["jobs"] += 1
        offers = pending.get(job.id, [])
        live_out = sum(1 for o in offers if o.expires_at > now)
        wants_more = parallel_offers(_cascade_job(job), now, cfg) > live_out
        # Running out of candidates is decided in _cascade, which knows who is busy elsewhere.
        quiet = plan(_cascade_job(job), offers, [], now, cfg, busy_elsewhere=True)
        if quiet.idle and not (wants_more and (_candidates(job, 1, now) or _ranking_cut(job.id))):
            continue
        with _writing():
            fresh = _job_or_404(job.id)
            if fresh.status not in LIVE_JOBS:
                continue
            step = _cascade(fresh, now, cfg)
        totals["expired"] += len(step.expire)
        totals["offered"] += len(step.offer_to)
        totals["escalated"] += int(step.escalate)
    return totals


def reopen(job: Job) -> Job:
    """A place came free (a cancellation): recount live places and dispatch again if not started."""
    with _writing():
        now = clock.now()
        fresh = _job_or_404(job.id)
        holding = (
            Assignment.select()
            .where((Assignment.job == fresh.id) & Assignment.status.in_(PLACE_HOLDING_ASSIGNMENTS))
            .count()
        )
        if holding != fresh.confirmed_count:
            _set_job(fresh, now, confirmed_count=holding)
        not_started = fresh.starts_at is None or fresh.starts_at > now
        if _employer_blocked(fresh.id):  # no new offers: the job waits for staff review
            if fresh.status == JobStatus.FILLED and holding < fresh.headcount and not_started:
                full = Job.get_by_id(fresh.id)
                employer_blocks.hold_job(
                    fresh.id, full.screening_reasons, full.employer.block_reason
                )
                fresh = _job_or_404(fresh.id)
        elif fresh.status == JobStatus.FILLED and holding < fresh.headcount and not_started:
            _set_job(
                fresh,
                now,
                status=JobStatus.OPEN,
                filled_at=None,
                escalated_at=None,
                dispatch_started_at=now,
            )
            _rank_and_store(fresh, now)
            _cascade(fresh, now, settings())
        elif fresh.status in LIVE_JOBS:
            _cascade(fresh, now, settings())
        for name in (
            "confirmed_count",
            "status",
            "filled_at",
            "escalated_at",
            "dispatch_started_at",
            "updated_at",
        ):
            setattr(job, name, getattr(fresh, name))
    return job
