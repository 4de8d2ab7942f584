"""API: complaints — filed by staff for anyone or by a worker for themselves, resolved by staff."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request

from kuaigong.errors import FieldError, InvalidInput
from station_node import auth
from station_node.models import Complaint
from station_node.services.complaints import (
    STATUSES,
    file_complaint,
    list_complaints,
    resolve_complaint,
    suggests_blocking,
)
from station_node.views import serializers
from station_node.views.api import body

bp = Blueprint("api_complaints", __name__, url_prefix="/api/v1/complaints")


def complaint(row: Complaint) -> dict[str, Any]:
    """A complaint as the API shows it, with the hint to consider blocking its employer."""

    return {
        "id": row.id,
        "by": row.by,
        "kind": row.kind,
        "text": row.text,
        "job_id": row.job_id,
        "worker_id": row.worker_id,
        "employer_id": row.employer_id,
        "status": row.status,
        "resolution": row.resolution,
        "created_at": serializers.when(row.created_at),
        "resolved_at": serializers.when(row.resolved_at),
        "taken_by": row.taken_by,
        "resolved_by": row.resolved_by,
        "consider_blocking_employer": suggests_blocking(row),
    }


@bp.post("")
@auth.api_staff_or_worker
def create() -> Any:
    """File a complaint (201). A worker token files as that worker: by=worker, worker_id=self."""

    data = body()
    if auth.current_staff() is None:
        auth.require_self(data.get("worker_id") if isinstance(data.get("worker_id"), str) else None)
        data = data | {"by": "worker", "worker_id": auth.acting_worker().id}
    row = file_complaint(data, auth.current_staff())
    return jsonify(complaint=complaint(row)), 201


@bp.get("")
@auth.api_staff_or_worker
def list_all() -> Any:
    """Complaints, open first (?status=open|resolved); a worker token sees only their own."""

    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        raise InvalidInput(
            [
                FieldError(
                    "status",
                    "unknown_choice",
                    "状态只能是 open 或 resolved",
                    "status must be open or resolved",
                )
            ]
        )
    worker = auth.current_worker() if auth.current_staff() is None else None
    rows = list_complaints(status=status, worker_id=worker.id if worker else None)
    return jsonify(complaints=[complaint(row) for row in rows])


@bp.post("/<complaint_id>/resolve")
@auth.api_staff
def resolve(complaint_id: str) -> Any:
    """Close a complaint: {"resolution": what was done}."""

    row = resolve_complaint(complaint_id, body().get("resolution"), auth.current_staff())
    return jsonify(complaint=complaint(row))
