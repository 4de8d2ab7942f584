"""API: jobs — post, list, look at (with the ranking's reasons), release, grab, assign, offers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, jsonify, request

from kuaigong.errors import FieldError, InvalidInput, NotFound
from kuaigong.states import ACTIVE_JOBS, LIVE_JOBS, JobStatus
from station_node import auth
from station_node.models import Assignment, Job, Offer, Ranking, Staff, Worker
from station_node.services import dispatch
from station_node.services.posting import cancel_job, reject_job, release_job
from station_node.services.posting import post_job as post
from station_node.views import serializers
from station_node.views.api import body, found, required_text, text_field

bp = Blueprint("api_jobs", __name__, url_prefix="/api/v1")

_JOB_STATUSES = [status.value for status in JobStatus]
RANKING_IN_ANSWER = 10  # ranking rows in the answer to a posting or release (GET shows all)


def _job(job_id: str) -> Job:
    return found(Job, job_id, "该岗位", "Job")


def _public(state: dict[str, Any]) -> dict[str, Any]:
    """A board row without other workers' names (what a worker may see)."""
    people = ("offered", "declined", "expired", "withdrawn", "confirmed")
    return {k: v for k, v in state.items() if k not in people}


def job_detail(
    job: Job, with_explanation: bool, ranking_limit: int | None = None
) -> dict[str, Any]:
    """A job with its offers and assignments; staff also get the ranking's reasons.

    `ranking_limit` shortens the ranking to its first rows (the answer to a posting: a large
    station ranks thousands of workers; GET /jobs/<id> has them all).
    """

    detail: dict[str, Any] = {"job": serializers.job(job)}
    if job.dispatch_started_at is not None:
        state = dispatch.job_state(job.id)
        detail["dispatch_state"] = serializers.plain(state if with_explanation else _public(state))
    if with_explanation:
        detail["ranking"] = serializers.plain(dispatch.explain(job.id, limit=ranking_limit))
        if ranking_limit is not None:
            detail["ranking_total"] = Ranking.select().where(Ranking.job == job.id).count()
        detail["offers"] = [serializers.offer(o) for o in job.offers.order_by(Offer.sent_at)]
        detail["assignments"] = [
            serializers.assignment(a) for a in job.assignments.order_by(Assignment.confirmed_at)
        ]
    return detail


@bp.post("/jobs")
@auth.api_staff
def post_job() -> Any:
    """Post a job: screened, then held for review or opened for dispatch (201)."""

    job = post(body(), auth.current_staff())
    return jsonify(job_detail(Job.get_by_id(job.id), True, RANKING_IN_ANSWER)), 201


@bp.get("/jobs")
@auth.api_staff_or_worker
def list_jobs() -> Any:
    """Jobs, newest first; ?status= filters (workers see only jobs being dispatched)."""
    status = request.args.get("status")
    if status and status not in _JOB_STATUSES:
        raise InvalidInput(
            [
                FieldError(
                    "status",
                    "invalid_choice",
                    "岗位状态取值不正确：" + "、".join(_JOB_STATUSES),
                    "status must be one of " + ", ".join(_JOB_STATUSES),
                )
            ]
        )
    query = Job.select().order_by(Job.posted_at.desc())
    if auth.current_staff() is None:
        query = query.where(Job.status.in_(LIVE_JOBS))
    if status:
        query = query.where(Job.status == status)
    return jsonify(jobs=[serializers.job(j) for j in query.limit(500)])


@bp.get("/jobs/<job_id>")
@auth.api_staff_or_worker
def show_job(job_id: str) -> Any:
    """One job; for staff with its ranking, offers and assignments ("why him and not me")."""
    job = _job(job_id)
    if auth.current_staff() is not None:
        return jsonify(job_detail(job, with_explanation=True))
    if job.status not in ACTIVE_JOBS:
        raise NotFound("该岗位", "Job")

    detail = job_detail(job, with_explanation=False)
    worker = auth.acting_worker()
    # "Why not me": the worker's own entry in the ranking, with its reasons.
    detail["my_ranking"] = serializers.plain(dispatch.explain(job.id, worker.id))
    return jsonify(detail)


@bp.post("/jobs/<job_id>/release")
@auth.api_staff
def release(job_id: str) -> Any:
    """Release a held job after review: it opens and dispatch starts."""

    job = release_job(_job(job_id).id, auth.current_staff())
    return jsonify(job_detail(Job.get_by_id(job.id), True, RANKING_IN_ANSWER))


def _with_reason(job_id: str, action: Callable[[str, Staff | None, str], Any]) -> Any:
    """Run a staff action that needs {"reason"} on the job; answer the job as it is after."""
    reason = required_text(body(), "reason", "原因", "Reason", max_len=200)
    action(_job(job_id).id, auth.current_staff(), reason)
    return jsonify(job=serializers.job(_job(job_id)))


@bp.post("/jobs/<job_id>/reject")
@auth.api_staff
def reject(job_id: str) -> Any:
    """Reject a held job with a reason."""

    return _with_reason(job_id, reject_job)


@bp.post("/jobs/<job_id>/cancel")
@auth.api_staff
def cancel(job_id: str) -> Any:
    """Cancel a job with a reason."""

    return _with_reason(job_id, cancel_job)


@bp.post("/jobs/<job_id>/grab")
@auth.api_staff_or_worker
def grab(job_id: str) -> Any:
    """Grab a place: a worker for themselves, or staff for {"worker_id"}. 409 when
    full/overlapping."""

    data = body()
    worker = auth.current_worker()
    if auth.current_staff() is None and worker is not None:
        auth.require_self(text_field(data, "worker_id", "工人编号", "worker_id", required=False))
        worker_id = worker.id
    else:
        worker_id = required_text(data, "worker_id", "工人编号", "worker_id")
    assignment = dispatch.grab(job_id, worker_id, auth.current_staff())  # 404 for an unknown job
    return jsonify(assignment=serializers.assignment(assignment)), 201


@bp.post("/jobs/<job_id>/assign")
@auth.api_staff
def assign(job_id: str) -> Any:
    """Staff assign a worker by hand (201); the same guards as a grab."""

    worker_id = required_text(body(), "worker_id", "工人编号", "worker_id")
    assignment = dispatch.assign(_job(job_id).id, worker_id, auth.current_staff())
    return jsonify(assignment=serializers.assignment(assignment)), 201


def _offer_for_caller(offer_id: str) -> tuple[Offer, str | None]:
    offer = found(Offer, offer_id, "该派单", "Offer")
    if auth.current_staff() is not None:
        return offer, None
    auth.require_self(offer.worker_id)
    return offer, offer.worker_id


@bp.post("/offers/<offer_id>/accept")
@auth.api_staff_or_worker
def accept_offer(offer_id: str) -> Any:
    """The offered worker (or staff on their behalf) accepts: an assignment (201) or 409."""

    offer, worker_id = _offer_for_caller(offer_id)
    assignment = dispatch.accept_offer(offer.id, worker_id, auth.current_staff())
    return jsonify(assignment=serializers.assignment(assignment)), 201


@bp.post("/offers/<offer_id>/decline")
@auth.api_staff_or_worker
def decline_offer(offer_id: str) -> Any:
    """The offered worker declines; the cascade moves on."""

    offer, worker_id = _offer_for_caller(offer_id)
    declined = dispatch.decline_offer(offer.id, worker_id, auth.current_staff())
    return jsonify(offer=serializers.offer(declined))


@bp.get("/workers/<worker_id>/offers")
@auth.api_staff_or_worker
def pending_offers(worker_id: str) -> Any:
    """A worker's pending offers (what the kiosk or phone shows to answer)."""

    auth.require_self(worker_id)
    worker = found(Worker, worker_id, "该工人", "Worker")
    return jsonify(offers=serializers.plain(dispatch.pending_offers(worker.id)))


@bp.get("/board")
@auth.api_staff
def board() -> Any:
    """The live dispatch board rows."""

    return jsonify(rows=serializers.plain(dispatch.board()))
