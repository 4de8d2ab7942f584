"""Read-only views of dispatch: the live board, a job's state, a worker's offers, and the
stored reasons behind a ranking ("why him and not me")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from peewee import fn

from kuaigong import clock
from kuaigong.errors import NotFound
from kuaigong.states import (
    LIVE_JOBS,
    PLACE_HOLDING_ASSIGNMENTS,
    REFUSED_OFFERS,
    JobStatus,
    OfferStatus,
)
from station_node.matching import Booking, JobFacts, Reason, WorkerFacts, check_eligibility, score
from station_node.matching.board import board_row
from station_node.matching.reasons import stored_as_dicts
from station_node.models import Assignment, Job, Offer, Presence, PriorityConsent, Ranking, Worker
from station_node.services.dispatch.rows import (
    WORKER_COLUMNS,
    bookings_with_time,
    config_value,
    job_facts,
    local_day,
    worker_facts,
)

BOARD_RECENT_SECONDS = 600
_JOB_COLUMNS = (
    Job.id,
    Job.title,
    Job.community,
    Job.dispatch_mode,
    Job.status,
    Job.headcount,
    Job.confirmed_count,
    Job.dispatch_started_at,
    Job.escalated_at,
    Job.filled_at,
)


def _rows(jobs: list[dict[str, Any]], now: dt.datetime) -> list[dict[str, Any]]:
    ids = [j["id"] for j in jobs]
    offers: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    assignments: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for o in (
            Offer.select(
                Offer.id, Offer.job, Offer.worker, Offer.status, Offer.expires_at, Worker.name
            )
            .join(Worker, on=(Offer.worker == Worker.id))
            .where(Offer.job.in_(ids))
            .order_by(Offer.sent_at, Offer.rank)
            .dicts()
        ):
            offers[o["job"]].append({**o, "worker_id": o["worker"]})
        for a in (
            Assignment.select(
                Assignment.job,
                Assignment.worker,
                Assignment.via,
                Assignment.confirmed_at,
                Worker.name,
            )
            .join(Worker, on=(Assignment.worker == Worker.id))
            .where(Assignment.job.in_(ids) & Assignment.status.in_(PLACE_HOLDING_ASSIGNMENTS))
            .order_by(Assignment.confirmed_at)
            .dicts()
        ):
            assignments[a["job"]].append({**a, "worker_id": a["worker"]})
    target = int(config_value("DISPATCH_TARGET_SECONDS", 60))
    return [board_row(j, offers[j["id"]], assignments[j["id"]], now, target) for j in jobs]


def board() -> list[dict[str, Any]]:
    """The live dispatch board: open and escalated jobs, then jobs filled in the last 10 minutes."""
    now = clock.now()
    recent = now - dt.timedelta(seconds=BOARD_RECENT_SECONDS)
    jobs = list(
        Job.select(*_JOB_COLUMNS)
        .where(
            Job.status.in_(LIVE_JOBS)
            | ((Job.status == JobStatus.FILLED) & (Job.filled_at >= recent))
        )
        .order_by(Job.dispatch_started_at.desc(nulls="LAST"), Job.id)
        .dicts()
    )
    rows = _rows(jobs, now)
    order = {JobStatus.ESCALATED: 0, JobStatus.OPEN: 1, JobStatus.FILLED: 2}
    rows.sort(key=lambda r: order.get(r["status"], 3))
    return rows


def job_state(job_id: str) -> dict[str, Any]:
    """One job's dispatch state, as a board row (for the job's page and the API)."""
    job = Job.select(*_JOB_COLUMNS).where(Job.id == str(job_id)).dicts().first()
    if job is None:
        raise NotFound("工作", "job")
    return _rows([job], clock.now())[0]


def pending_offers(worker_id: str) -> list[dict[str, Any]]:
    """Offers waiting for this worker's answer, with the job and the seconds left."""
    now = clock.now()
    query = (
        Offer.select(
            Offer.id,
            Offer.expires_at,
            Job.id.alias("job_id"),
            Job.title,
            Job.community,
            Job.address,
            Job.starts_at,
            Job.ends_at,
            Job.pay_fen,
            Job.pay_unit,
        )
        .join(Job, on=(Offer.job == Job.id))
        .where(
            (Offer.worker == str(worker_id))
            & (Offer.status == OfferStatus.PENDING)
            & (Offer.expires_at > now)
        )
        .order_by(Offer.expires_at)
        .dicts()
    )
    return [
        {
            **row,
            "offer_id": row.pop("id"),
            "seconds_left": max(0, int((row["expires_at"] - now).total_seconds())),
        }
        for row in query
    ]


def _outcomes(job_id: str) -> dict[str, str]:
    """What happened to each worker on this job: offered, declined, expired, confirmed …"""
    found: dict[str, str] = {}
    for o in (
        Offer.select(Offer.worker, Offer.status).where(Offer.job == job_id).order_by(Offer.sent_at)
    ):
        found[o.worker_id] = "offered" if o.status == OfferStatus.PENDING else o.status
    for a in Assignment.select(Assignment.worker, Assignment.status).where(
        Assignment.job == job_id
    ):
        found[a.worker_id] = "confirmed" if a.status in PLACE_HOLDING_ASSIGNMENTS else a.status
    return found


def _facts_as_of(job: Job, row: dict[str, Any], at: dt.datetime) -> tuple[JobFacts, WorkerFacts]:
    """The job's and the worker's facts as they stood at `at`, as far as the rows still tell.

    Presence, consent, bookings, earlier assignments and this job's declines are taken as of
    `at`; the worker's skills, areas, hours, account status and reliability counters are
    today's (no history of them is kept).
    """
    wid = row["id"]
    presence = (
        Presence.select(Presence.checked_in_at)
        .where(
            (Presence.worker == wid)
            & (Presence.day == local_day(at))
            & (Presence.checked_in_at <= at)
            & (Presence.checked_out_at.is_null() | (Presence.checked_out_at > at))
        )
        .scalar()
    )
    consented = (
        PriorityConsent.select()
        .where(
            (PriorityConsent.worker == wid)
            & (PriorityConsent.consented_at <= at)
            & (PriorityConsent.withdrawn_at.is_null() | (PriorityConsent.withdrawn_at > at))
        )
        .exists()
    )
    if row["last_assigned_at"] is not None and row["last_assigned_at"] > at:  # got work since
        row = {
            **row,
            "last_assigned_at": Assignment.select(fn.MAX(Assignment.confirmed_at))
            .where((Assignment.worker == wid) & (Assignment.confirmed_at <= at))
            .scalar(),
        }
    bookings = {
        w: [b for b in held if b.confirmed_at is None or b.confirmed_at <= at]
        for w, held in bookings_with_time(job, wid).items()
    }
    facts = worker_facts(
        [row],
        {wid: presence} if presence else {},
        {wid} if consented else set(),
        {
            w: [Booking(b.job_id, b.starts_at, b.ends_at) for b in held]
            for w, held in bookings.items()
        },
    )[0]
    assigned = {
        a
        for (a,) in Assignment.select(Assignment.worker)
        .where((Assignment.job == job.id) & (Assignment.confirmed_at <= at))
        .tuples()
    }
    declined = {
        o
        for (o,) in Offer.select(Offer.worker)
        .where((Offer.job == job.id) & Offer.status.in_(REFUSED_OFFERS) & (Offer.sent_at < at))
        .tuples()
    }
    return job_facts(job, assigned=assigned, declined=declined), facts


def _live_explanation(job: Job, worker_id: str) -> dict[str, Any]:
    """Reasons worked out on request for a worker the stored ranking does not hold: as at the
    ranking's time (`as_of`) where the rows still tell, today's worker details otherwise."""
    row = Worker.select(*WORKER_COLUMNS).where(Worker.id == str(worker_id)).dicts().first()
    if row is None:
        raise NotFound("工人", "worker")
    now = clock.now()
    at = job.dispatch_started_at or now
    job_then, facts = _facts_as_of(job, row, at)
    why_not = check_eligibility(job_then, facts)
    reasons = why_not or score(facts, at)
    total = 0 if why_not else sum(r.points for r in reasons)
    entry: dict[str, Any] = {
        "worker_id": row["id"],
        "name": row["name"],
        "rank": 0,
        "score": total,
        "eligible": not why_not,
        "reasons": [r.as_dict() for r in reasons],
        "ranked_at": None,
        "live": True,
        "as_of": at.replace(microsecond=0).isoformat() + "Z",
    }
    if not why_not:  # eligible, below the best ones the ranking stores
        stored = Ranking.select().where((Ranking.job == job.id) & Ranking.eligible)
        ahead = stored.where(Ranking.score >= total).count()
        entry["ahead"] = ahead
        entry["reasons"].append(
            Reason("ranked_below", 0, {"ahead": ahead, "stored": stored.count()}).as_dict()
        )
    return entry


def explain(
    job_id: str, worker_id: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """The stored ranking of a job with every reason: the best eligible workers in order, then
    the ineligible ones present at the station.

    `limit` keeps the first rows only. With `worker_id`, only that worker's entry: worked out
    on request (`"live": true`, `"as_of"` the ranking's time) when the stored ranking does not
    hold them (it holds the best RANKING_STORED eligible workers and those present at the
    station then); an eligible worker below those gets their score and reasons, `ahead` (how
    many stored workers scored as high or higher) and a `ranked_below` reason saying so.
    """
    job = Job.get_or_none(Job.id == str(job_id))
    if job is None:
        raise NotFound("工作", "job")

    def stored(eligible: bool, count: int | None) -> list[dict[str, Any]]:
        query = (
            Ranking.select(
                Ranking.worker,
                Ranking.rank,
                Ranking.score,
                Ranking.eligible,
                Ranking.reasons,
                Ranking.ranked_at,
                Worker.name,
            )
            .join(Worker, on=(Ranking.worker == Worker.id))
            .where((Ranking.job == job.id) & (Ranking.eligible == eligible))
            .order_by(Ranking.rank, Worker.name)  # by the (job, rank) index for the eligible
        )
        if worker_id is not None:
            query = query.where(Ranking.worker == str(worker_id))
        return list(query.limit(count).dicts()) if count is not None else list(query.dicts())

    found = stored(True, limit)
    if limit is None or len(found) < limit:
        found += stored(False, None if limit is None else limit - len(found))
    outcomes = _outcomes(job.id)
    rows = [
        {
            "worker_id": r["worker"],
            "name": r["name"],
            "rank": r["rank"],
            "score": r["score"],
            "eligible": r["eligible"],
            "reasons": stored_as_dicts(r["reasons"]),
            "ranked_at": r["ranked_at"].replace(microsecond=0).isoformat() + "Z",
            "live": False,
            "outcome": outcomes.get(r["worker"]),
        }
        for r in found
    ]
    if worker_id is not None and not rows:
        entry = _live_explanation(job, str(worker_id))
        entry["outcome"] = outcomes.get(entry["worker_id"])
        rows = [entry]
    return rows
