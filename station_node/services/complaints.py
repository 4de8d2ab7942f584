"""Complaints taken at the station: filed by a worker, an employer or any resident, resolved by
staff.

A complaint may name the job, worker and employer it is about (each checked to exist; a job
brings its employer along). Complaints that an employer demanded money or kept an ID card are
flagged for staff to consider blocking that employer — a person decides, nothing is blocked
automatically. The hub counts open and resolved complaints per station from the change log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import peewee

from kuaigong import clock
from kuaigong.errors import Conflict, FieldError, FieldErrors, InvalidInput
from kuaigong.states import ComplaintStatus
from station_node import catalog, changelog, db
from station_node.models import Complaint, Employer, Job, Staff, Worker
from station_node.services import get_or_404, require_staff
from station_node.validation import clean_choice, clean_text

KINDS: catalog.Labels = {
    "unpaid_wages": ("拖欠工资", "Unpaid wages"),
    "no_show": ("爽约未到", "No-show"),
    "fee_demanded": ("收取押金或费用", "Fee or deposit demanded"),
    "id_card_withheld": ("扣押身份证", "ID card withheld"),
    "unfair_allocation": ("派工不公平", "Unfair allocation"),
    "unsafe_work": ("工作不安全", "Unsafe work"),
    "other": ("其他", "Other"),
}
FILED_BY: catalog.Labels = {
    "worker": ("劳动者", "Worker"),
    "employer": ("用工方", "Employer"),
    "resident": ("居民", "Resident"),
}
STATUSES: catalog.Labels = {
    ComplaintStatus.OPEN: ("待处理", "Open"),
    ComplaintStatus.RESOLVED: ("已办结", "Resolved"),
}
# Abuse the city screens postings for: staff should consider blocking the employer named.
BLOCK_WORTHY = ("fee_demanded", "id_card_withheld")
TEXT_MIN, TEXT_MAX = 5, 1000
RESOLUTION_MIN = 2
_LOGGED = (
    "by",
    "kind",
    "text",
    "job_id",
    "worker_id",
    "employer_id",
    "status",
    "created_at",
    "taken_by",
)


def _sized_text(
    value: Any, errs: FieldErrors, field: str, zh: str, en: str, minimum: int
) -> str | None:
    text = clean_text(value, errs, field, zh, en, max_len=TEXT_MAX, multiline=True)
    if text is not None and len(text) < minimum:
        errs.add(
            field,
            "too_short",
            f"{zh}至少{minimum}个字",
            f"{en} must be at least {minimum} characters",
        )
        return None
    return text


def _reference(
    data: Mapping[str, Any], errs: FieldErrors, field: str, model: Any, zh: str, en: str
) -> Any:
    """The row an optional `<thing>_id` names; a field error when it is the wrong type or
    unknown."""
    value = data.get(field)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 64:
        errs.add(field, "wrong_type", f"{zh}编号格式不对", f"{en} id has the wrong type")
        return None
    row = model.get_or_none(model.id == value.strip())
    if row is None:
        errs.add(field, "not_found", f"找不到这个{zh}", f"No such {en.lower()}")
    return row


def file_complaint(data: Mapping[str, Any], actor: Staff | None) -> Complaint:
    """Record a complaint (staff at the desk, or a resident at the kiosk with actor None)."""
    if not isinstance(data, Mapping):
        raise InvalidInput(
            [
                FieldError(
                    "body",
                    "wrong_type",
                    "提交的内容应为表单或 JSON 对象",
                    "The body must be a form or JSON object",
                )
            ]
        )
    errs = FieldErrors()
    by = clean_choice(data.get("by"), errs, "by", "投诉人身份", "Filed by", FILED_BY)
    kind = clean_choice(data.get("kind"), errs, "kind", "投诉类型", "Kind", KINDS)
    text = _sized_text(data.get("text"), errs, "text", "投诉内容", "Complaint text", TEXT_MIN)
    job = _reference(data, errs, "job_id", Job, "工作", "Job")
    worker = _reference(data, errs, "worker_id", Worker, "劳动者", "Worker")
    employer = _reference(data, errs, "employer_id", Employer, "用工方", "Employer")
    if job is not None and employer is not None and job.employer_id != employer.id:
        errs.add(
            "employer_id",
            "not_this_jobs_employer",
            "所选用工方不是这项工作的用工方",
            "This employer did not post that job",
        )
    errs.raise_if_any()
    if job is not None and employer is None:
        employer = job.employer  # a complaint about a job is a complaint about who posted it
    now = clock.now()
    with db.atomic():
        complaint = Complaint.create(
            by=by,
            kind=kind,
            text=text,
            job=job,
            worker=worker,
            employer=employer,
            created_at=now,
            taken_by=actor.username if actor else None,
        )
        changelog.record(
            "complaint", complaint.id, "create", {f: getattr(complaint, f) for f in _LOGGED}
        )
    return complaint


def resolve_complaint(complaint_id: str, resolution: Any, actor: Staff | None) -> Complaint:
    """Staff close a complaint, writing down what was done about it."""
    staff = require_staff(actor)
    errs = FieldErrors()
    text = _sized_text(resolution, errs, "resolution", "处理结果", "Resolution", RESOLUTION_MIN)
    errs.raise_if_any()
    with db.atomic():
        complaint = get_or_404(Complaint, complaint_id, "这条投诉", "Complaint")
        if complaint.status == ComplaintStatus.RESOLVED:
            raise Conflict(
                "already_resolved", "这条投诉已经办结", "This complaint is already resolved"
            )
        now = clock.now()
        complaint.status, complaint.resolution, complaint.resolved_at = (
            ComplaintStatus.RESOLVED,
            text,
            now,
        )
        complaint.resolved_by = staff.username
        complaint.save()
        changelog.record(
            "complaint",
            complaint.id,
            "update",
            {
                "status": ComplaintStatus.RESOLVED,
                "resolution": text,
                "resolved_at": now,
                "resolved_by": staff.username,
            },
        )
    return complaint


def list_complaints(
    status: str | None = None, worker_id: str | None = None, limit: int = 200
) -> list[Complaint]:
    """Complaints, open ones first, newest first within each; optionally one status or worker."""
    open_first = peewee.Case(None, [(Complaint.status == ComplaintStatus.OPEN, 0)], 1)
    query = Complaint.select().order_by(open_first, Complaint.created_at.desc())
    if status is not None:
        query = query.where(Complaint.status == status)
    if worker_id is not None:
        query = query.where(Complaint.worker == worker_id)
    return list(query.limit(limit))


def complaint_counts() -> dict[str, int]:
    """How many complaints are open and how many resolved (all time)."""
    counts = {status.value: 0 for status in ComplaintStatus}
    query = Complaint.select(Complaint.status, peewee.fn.COUNT(Complaint.id)).group_by(
        Complaint.status
    )
    for status, count in query.tuples():
        counts[status] = counts.get(status, 0) + count
    return counts


def suggests_blocking(complaint: Complaint) -> bool:
    """True when staff should consider blocking the employer: money demanded or an ID card kept."""
    if complaint.kind not in BLOCK_WORTHY or complaint.employer_id is None:
        return False
    employer = Employer.get_or_none(Employer.id == complaint.employer_id)
    return employer is not None and not employer.blocked
