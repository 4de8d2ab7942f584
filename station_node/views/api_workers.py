"""API: workers and employers — register, look up, check in, block."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from station_node import auth
from station_node.models import Assignment, Employer, Worker
from station_node.services import registration
from station_node.services.registration import block_employer as block
from station_node.services.registration import check_in_worker, search_workers
from station_node.services.registration import unblock_employer as unblock
from station_node.services.staff import issue_worker_token
from station_node.views import serializers
from station_node.views.api import body, found, text_field

bp = Blueprint("api_workers", __name__, url_prefix="/api/v1")


def _worker(worker_id: str) -> Worker:
    return found(Worker, worker_id, "该工人", "Worker")


def _employer(employer_id: str) -> Employer:
    return found(Employer, employer_id, "该用工方", "Employer")


@bp.post("/workers")
@auth.api_staff
def register_worker() -> Any:
    """Register a worker (201)."""

    worker = registration.register_worker(body(), auth.current_staff())
    return jsonify(worker=serializers.worker(worker)), 201


@bp.get("/workers")
@auth.api_staff
def list_workers() -> Any:
    """Workers, newest first; ?q= searches name or mobile (however typed), or a whole ID number."""

    q = request.args.get("q", "").strip()[:64]
    return jsonify(workers=[serializers.worker(w) for w in search_workers(q)])


@bp.get("/workers/<worker_id>")
@auth.api_staff_or_worker
def show_worker(worker_id: str) -> Any:
    """One worker with their assignments (a worker may see only themselves)."""
    auth.require_self(worker_id)
    worker = _worker(worker_id)
    rows = (
        Assignment.select()
        .where(Assignment.worker == worker)
        .order_by(Assignment.confirmed_at.desc())
    )
    return jsonify(
        worker=serializers.worker(worker),
        assignments=[serializers.assignment(a) for a in rows.limit(100)],
    )


@bp.post("/workers/<worker_id>/checkin")
@auth.api_staff
def check_in(worker_id: str) -> Any:
    """Put the worker in today's present pool."""

    presence = check_in_worker(_worker(worker_id).id, auth.current_staff())
    return jsonify(
        worker_id=worker_id,
        day=serializers.when(presence.day),
        checked_in_at=serializers.when(presence.checked_in_at),
    )


@bp.post("/workers/<worker_id>/token")
@auth.api_staff
def issue_token(worker_id: str) -> Any:
    """Issue the worker's own token (for the kiosk or a phone); shown once (201)."""

    token = issue_worker_token(_worker(worker_id).id, auth.current_staff())
    return jsonify(worker_id=worker_id, token=token), 201


@bp.post("/employers")
@auth.api_staff
def register_employer() -> Any:
    """Register an employer: a person or an organisation (201)."""

    employer = registration.register_employer(body(), auth.current_staff())
    return jsonify(employer=serializers.employer(employer)), 201


@bp.get("/employers/<employer_id>")
@auth.api_staff
def show_employer(employer_id: str) -> Any:
    """One employer."""
    return jsonify(employer=serializers.employer(_employer(employer_id)))


@bp.post("/employers/<employer_id>/block")
@auth.api_admin
def block_employer(employer_id: str) -> Any:
    """Block an employer (admin): their postings are held for review."""

    data = body()
    reason = text_field(data, "reason", "原因", "Reason", required=False, max_len=200)
    block(_employer(employer_id).id, reason or "", auth.current_staff())
    return jsonify(employer=serializers.employer(_employer(employer_id)))


@bp.post("/employers/<employer_id>/unblock")
@auth.api_admin
def unblock_employer(employer_id: str) -> Any:
    """Lift an employer's block (admin)."""

    unblock(_employer(employer_id).id, auth.current_staff())
    return jsonify(employer=serializers.employer(_employer(employer_id)))
