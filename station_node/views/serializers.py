"""Model rows → JSON-ready dicts for the API and the board. ID numbers appear only masked."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kuaigong.states import JobStatus
from station_node.models import Assignment, Employer, Job, Offer, Ranking, Staff, Worker


def when(value: dt.datetime | dt.date | None) -> str | None:
    """UTC datetimes as ISO 8601 with Z; dates as YYYY-MM-DD; None stays None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def staff(row: Staff) -> dict[str, Any]:
    """A staff member as shown to other staff."""
    return {
        "id": row.id,
        "username": row.username,
        "display_name": row.display_name,
        "role": row.role,
    }


def worker(row: Worker) -> dict[str, Any]:
    """A worker's record: masked ID number, derived birth date and sex, reliability figures."""
    return {
        "id": row.id,
        "name": row.name,
        "id_number_masked": row.id_masked,
        "birth_date": when(row.birth_date),
        "sex": row.sex,
        "mobile": row.mobile,
        "skills": row.skills or [],
        "areas": row.areas or [],
        "availability": row.availability or {},
        "priority_groups": row.priority_groups or [],
        "status": row.status,
        "reliability": reliability(row),
        "last_assigned_at": when(row.last_assigned_at),
        "created_at": when(row.created_at),
    }


def reliability(row: Worker) -> dict[str, Any]:
    """No-shows, late cancellations, completed jobs and the average rating (tenths of a star)."""
    average = None
    if row.rating_count:
        average = round(row.rating_sum * 10 / row.rating_count)
    return {
        "completed": row.completed_count,
        "no_shows": row.no_show_count,
        "late_cancels": row.late_cancel_count,
        "rating_count": row.rating_count,
        "rating_tenths": average,
    }


def employer(row: Employer) -> dict[str, Any]:
    """An employer: a person shows the masked ID number, an organisation its credit code."""
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "id_number_masked": row.id_masked,
        "credit_code": row.credit_code,
        "contact_name": row.contact_name,
        "mobile": row.mobile,
        "address": row.address,
        "blocked": row.blocked,
        "block_reason": row.block_reason,
        "created_at": when(row.created_at),
    }


def job(row: Job) -> dict[str, Any]:
    """A job with its screening result and dispatch state."""
    return {
        "id": row.id,
        "employer_id": row.employer_id,
        "title": row.title,
        "category": row.category,
        "description": row.description,
        "skills": row.skills or [],
        "headcount": row.headcount,
        "pay_fen": row.pay_fen,
        "pay_unit": row.pay_unit,
        "address": row.address,
        "community": row.community,
        "starts_at": when(row.starts_at),
        "ends_at": when(row.ends_at),
        "time_flexible": row.time_flexible,
        "term": row.term,
        "urgency": row.urgency,
        "insurance_required": row.insurance_required,
        "source": row.source,
        "source_department": row.source_department,
        "dispatch_mode": row.dispatch_mode,
        "status": row.status,
        "screening": {
            "held": row.status == JobStatus.HELD,
            "reasons": row.screening_reasons or [],
        },
        "dispatch": {
            "mode": row.dispatch_mode,
            "started_at": when(row.dispatch_started_at),
            "confirmed": row.confirmed_count,
            "headcount": row.headcount,
            "open_places": max(row.headcount - row.confirmed_count, 0),
            "escalated_at": when(row.escalated_at),
            "filled_at": when(row.filled_at),
        },
        "posted_at": when(row.posted_at),
    }


def _columns(row: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """The named columns of a row, times and dates as ISO text."""
    values = {name: getattr(row, name) for name in names}
    return {k: when(v) if isinstance(v, dt.datetime | dt.date) else v for k, v in values.items()}


_OFFER = ("id", "job_id", "worker_id", "rank", "status", "sent_at", "expires_at", "answered_at")
_ASSIGNMENT = (
    "id",
    "job_id",
    "worker_id",
    "via",
    "status",
    "starts_at",
    "ends_at",
    "confirmed_at",
    "checked_in_at",
    "completed_at",
    "quantity",
    "pay_fen",
    "pay_method",
    "paid_at",
    "worker_confirmed_pay_at",
    "cancelled_by",
    "cancel_late",
    "cancel_reason",
    "rating_of_worker",
    "rating_of_employer",
)


def offer(row: Offer) -> dict[str, Any]:
    """One offer in the cascade."""
    return _columns(row, _OFFER)


def assignment(row: Assignment) -> dict[str, Any]:
    """A confirmed worker on a job and how far it has gone (check-in, completion, pay, ratings)."""
    return _columns(row, _ASSIGNMENT)


def ranking(row: Ranking) -> dict[str, Any]:
    """A worker's place in a job's ranking with its reasons."""
    return {
        "worker_id": row.worker_id,
        "rank": row.rank,
        "score": row.score,
        "eligible": row.eligible,
        "reasons": row.reasons or [],
    }


def plain(value: Any) -> Any:
    """Make service-made dicts (board rows, explanations) JSON-ready: datetimes to ISO text."""
    if isinstance(value, dt.datetime | dt.date):
        return when(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items() if k not in _SECRET_KEYS}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return None
    if hasattr(value, "__data__"):  # a model row slipped into a dict
        return getattr(value, "id", None)
    return value


_SECRET_KEYS = {
    "id_cipher",
    "id_number",
    "id_hash",
    "password_hash",
    "token_hash",
    "user_token_hash",
}
