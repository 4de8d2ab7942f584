"""Posting a job: full validation, screening, and the start of dispatch — or a hold for review.

A job that screening flags is stored held (`JobStatus.HELD`) with its reasons and is never
dispatched until a staff member releases it; release and rejection record who and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from kuaigong import clock
from kuaigong.errors import Conflict, FieldError, FieldErrors, InvalidInput
from kuaigong.states import (
    ENDED_JOBS,
    SHOWED_UP_ASSIGNMENTS,
    AssignmentStatus,
    JobStatus,
    OfferStatus,
)
from station_node import catalog, changelog, db, events
from station_node.models import Assignment, Employer, Job, Offer, Staff
from station_node.services import get_or_404, require_staff, utc_offset_hours, vocabulary
from station_node.services.screening import screen_job
from station_node.validation import (
    clean_bool,
    clean_choice,
    clean_codes,
    clean_datetime,
    clean_int,
    clean_text,
    refuse_far_future,
)

MAX_HEADCOUNT = 500
PAST_GRACE = dt.timedelta(minutes=30)  # a job may start a little before it is typed in
MAX_DURATION = dt.timedelta(days=366)
_LOGGED = (
    "employer_id",
    "title",
    "category",
    "description",
    "skills",
    "headcount",
    "pay_fen",
    "pay_unit",
    "address",
    "community",
    "starts_at",
    "ends_at",
    "time_flexible",
    "term",
    "urgency",
    "insurance_required",
    "source",
    "source_department",
    "dispatch_mode",
    "status",
    "screening_reasons",
    "posted_at",
)


@dataclass(frozen=True)
class _Field:
    """One posted field: its cleaner (a `station_node.validation.clean_*`), its names in error
    messages, and the cleaner's keyword options (limits, choices, default, required)."""

    name: str
    zh: str
    en: str
    clean: Callable[..., Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    limits: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None  # from earlier fields
    when: Callable[[dict[str, Any]], bool] | None = None  # asked only then; else stored None
    empty: Any = None  # stored when an optional field is left blank


def _communities(_: dict[str, Any]) -> Mapping[str, Any]:
    """The station's communities, read per posting: an instance may configure its own."""
    return {"options": {area: area for area in catalog.areas()}}


def _pay_cap(out: dict[str, Any]) -> Mapping[str, Any]:
    """The highest pay for the chosen unit (the highest of all when the unit was bad)."""
    return {"maximum": catalog.MAX_PAY_FEN.get(out["pay_unit"] or "", _MAX_PAY_FEN)}


def _from_department(out: dict[str, Any]) -> bool:
    return out["source"] == "department"


_MAX_PAY_FEN = max(catalog.MAX_PAY_FEN.values())
# In the order their errors are listed; pay_fen comes after pay_unit, which sets its cap.
_FIELDS = (
    _Field("title", "工作名称", "Title", clean_text, {"max_len": 100}),
    _Field("category", "行业类别", "Category", clean_choice, {"options": catalog.CATEGORIES}),
    _Field(
        "description",
        "工作内容",
        "Description",
        clean_text,
        {"max_len": 2000, "required": False, "multiline": True},
        empty="",
    ),
    _Field("skills", "技能", "Skills", clean_codes, {"options": catalog.SKILLS, "required": False}),
    _Field(
        "headcount",
        "招聘人数",
        "Headcount",
        clean_int,
        {"minimum": 1, "maximum": MAX_HEADCOUNT},
    ),
    _Field("pay_unit", "计酬方式", "Pay unit", clean_choice, {"options": catalog.PAY_UNITS}),
    _Field("address", "工作地点", "Address", clean_text, {"max_len": 200}),
    _Field("community", "所在社区", "Community", clean_choice, limits=_communities),
    _Field(
        "term", "用工期限", "Term", clean_choice, {"options": catalog.TERMS, "default": "short"}
    ),
    _Field(
        "urgency",
        "紧急程度",
        "Urgency",
        clean_choice,
        {"options": catalog.URGENCIES, "default": "normal"},
    ),
    _Field(
        "insurance_required",
        "需要保险",
        "Insurance required",
        clean_bool,
        {"default": True},
    ),
    _Field(
        "source",
        "信息来源",
        "Source",
        clean_choice,
        {"options": catalog.SOURCES, "default": "walk_in"},
    ),
    _Field(
        "dispatch_mode",
        "派工方式",
        "Dispatch mode",
        clean_choice,
        {"options": catalog.DISPATCH_MODES, "default": "offer"},
    ),
    _Field("pay_fen", "报酬（分）", "Pay (fen)", clean_int, {"minimum": 1}, limits=_pay_cap),
    _Field(
        "source_department",
        "派单部门",
        "Department",
        clean_text,
        {"max_len": 100},
        when=_from_department,
    ),
)


def _clean_window(data: Mapping[str, Any], errs: FieldErrors, now: dt.datetime) -> dict[str, Any]:
    flexible = clean_bool(
        data.get("time_flexible"), errs, "time_flexible", "时间灵活", "Time flexible", default=False
    )
    if flexible:
        return {"time_flexible": True, "starts_at": None, "ends_at": None}
    offset = utc_offset_hours()
    starts = clean_datetime(
        data.get("starts_at"), errs, "starts_at", "开始时间", "Start time", utc_offset_hours=offset
    )
    ends = clean_datetime(
        data.get("ends_at"), errs, "ends_at", "结束时间", "End time", utc_offset_hours=offset
    )
    if starts and starts < now - PAST_GRACE:
        errs.add("starts_at", "in_the_past", "开始时间已经过去", "The start time is in the past")
    refuse_far_future(
        starts, now, errs, "starts_at", "开始时间", "Start time", utc_offset_hours=offset
    )
    if starts and ends:
        if ends <= starts:
            errs.add(
                "ends_at",
                "end_before_start",
                "结束时间应晚于开始时间",
                "The end time must be after the start time",
            )
        elif ends - starts > MAX_DURATION:
            errs.add(
                "ends_at",
                "too_long_window",
                "工作时间跨度不能超过一年",
                "A job cannot span more than a year",
            )
    return {"time_flexible": False, "starts_at": starts, "ends_at": ends}


def clean_job(data: Mapping[str, Any], now: dt.datetime) -> tuple[dict[str, Any], Employer | None]:
    """Check a posting's every field; raise InvalidInput naming each bad one."""
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
    employer = None
    employer_id = data.get("employer_id")
    if employer_id in (None, ""):
        errs.add("employer_id", "required", "请选择用工方", "Choose the employer")
    elif (
        not isinstance(employer_id, str)
        or (employer := Employer.get_or_none(Employer.id == employer_id)) is None
    ):
        errs.add(
            "employer_id",
            "unknown_employer",
            "找不到该雇主，请先登记",
            "Unknown employer; register it first",
        )
    out: dict[str, Any] = {}
    for spec in _FIELDS:
        if spec.when is not None and not spec.when(out):
            out[spec.name] = None
            continue
        options = {**spec.options, **(spec.limits(out) if spec.limits else {})}
        value = spec.clean(data.get(spec.name), errs, spec.name, spec.zh, spec.en, **options)
        out[spec.name] = spec.empty if value is None else value
    out.update(_clean_window(data, errs, now))
    errs.raise_if_any()
    return out, employer


def post_job(data: Mapping[str, Any], actor: Staff | None) -> Job:
    """Post a job: held with reasons if screening flags it, else open with dispatch started."""
    now = clock.now()
    fields, employer = clean_job(data, now)
    assert employer is not None
    phrases = vocabulary.active_phrases()
    reasons = _screen(fields, employer, phrases)
    with db.writing():
        was_blocked = employer.blocked
        employer = get_or_404(Employer, employer.id, "该雇主", "Employer")
        if employer.blocked != was_blocked:  # blocked or unblocked meanwhile
            reasons = _screen(fields, employer, phrases)
        job = Job.create(
            employer=employer,
            status=JobStatus.HELD if reasons else JobStatus.OPEN,
            screening_reasons=reasons,
            posted_by=actor,
            posted_at=now,
            updated_at=now,
            **fields,
        )
        changelog.record(
            "job",
            job.id,
            "create",
            {k: getattr(job, k) for k in _LOGGED}
            | {"posted_by": actor.username if actor else None},
        )
        if not reasons:
            _start_dispatch(job)
        _announce(job, "posted")
    return job


def _announce(job: Job, change: str) -> None:
    """The board (open jobs only) and the console learn of the job once the change commits."""
    data = {"job_id": job.id, "status": job.status, "change": change}
    if job.status not in (JobStatus.HELD, JobStatus.REJECTED):
        events.publish(events.BOARD, "job", data)
    events.publish(events.STAFF, "job", data)


def _screen(
    fields: dict[str, Any], employer: Employer, phrases: list[dict[str, str]]
) -> list[dict[str, Any]]:
    """Screening's reasons, with the station's and the city's extra phrases."""
    return screen_job(fields, employer, extra_phrases=phrases)


def _start_dispatch(job: Job) -> None:
    from station_node.services import dispatch

    dispatch.start_dispatch(job)


def _held_job(job_id: str) -> Job:
    job = get_or_404(Job, job_id, "该工作", "Job")
    if job.status != JobStatus.HELD:
        raise Conflict(
            "job_not_held",
            f"该工作不在待审核状态（当前：{job.status}）",
            f"The job is not waiting for review (status: {job.status})",
            job_status=job.status,
        )
    return job


def _review(job: Job, actor: Staff, status: str, extra: dict[str, Any]) -> None:
    now = clock.now()
    job.status, job.reviewed_by, job.reviewed_at, job.updated_at = status, actor, now, now
    for key, value in extra.items():
        setattr(job, key, value)
    job.save()
    changelog.record(
        "job",
        job.id,
        "update",
        {"status": status, "reviewed_by": actor.username, "reviewed_at": now, "updated_at": now}
        | extra,
    )


def release_job(job_id: str, actor: Staff | None) -> Job:
    """Staff reviewed a held job and let it through: it opens and dispatch starts."""
    staff = require_staff(actor)
    with db.atomic():
        job = _held_job(job_id)
        if job.employer.blocked:
            raise Conflict(
                "employer_blocked",
                "该用工方仍在暂停中，请先解除暂停再发布其工作",
                "The employer is still blocked; lift the block before releasing its job",
            )
        if not job.time_flexible and job.ends_at is not None and job.ends_at <= clock.now():
            raise Conflict(
                "job_expired", "该工作的时间已过，无法发布", "The job's time has already passed"
            )
        _review(job, staff, JobStatus.OPEN, {})
        _start_dispatch(job)
        _announce(job, "released")
    return job


def reject_job(job_id: str, actor: Staff | None, reason: str) -> Job:
    """Staff reviewed a held job and refused it; the reason is kept with the screening reasons."""
    staff = require_staff(actor)
    errs = FieldErrors()
    text = clean_text(reason, errs, "reason", "不予发布的原因", "Reason", max_len=200)
    errs.raise_if_any()
    with db.atomic():
        job = _held_job(job_id)
        note = {"code": "rejected_by_staff", "message_zh": text, "message_en": text}
        _review(
            job, staff, JobStatus.REJECTED, {"screening_reasons": [*job.screening_reasons, note]}
        )
        _announce(job, "rejected")
    return job


def cancel_job(job_id: str, actor: Staff | None, reason: str) -> Job:
    """Withdraw a job before work starts: pending offers withdrawn, confirmed workers released."""
    staff = require_staff(actor)
    errs = FieldErrors()
    text = clean_text(reason, errs, "reason", "取消原因", "Reason", max_len=200)
    errs.raise_if_any()
    with db.atomic():
        job = get_or_404(Job, job_id, "该工作", "Job")
        if job.status in ENDED_JOBS:
            raise Conflict(
                "job_finished",
                "该工作已结束或已取消",
                "The job is already finished or cancelled",
                job_status=job.status,
            )
        started = Assignment.select().where(
            (Assignment.job == job) & Assignment.status.in_(SHOWED_UP_ASSIGNMENTS)
        )
        if started.exists():
            raise Conflict(
                "job_in_progress",
                "已有劳动者到岗，不能取消整项工作；请逐个处理",
                "Workers have already started; handle each assignment instead",
            )
        now = clock.now()
        for offer in Offer.select().where(
            (Offer.job == job) & (Offer.status == OfferStatus.PENDING)
        ):
            offer.status, offer.answered_at = OfferStatus.WITHDRAWN, now
            offer.save()
            _tell_worker(offer.worker_id, "offer_closed", offer.id, job.id, offer.status)
            changelog.record(
                "offer", offer.id, "update", {"status": OfferStatus.WITHDRAWN, "answered_at": now}
            )
        late_by = job.starts_at is not None and job.starts_at - now < _late_window()
        for assignment in Assignment.select().where(
            (Assignment.job == job) & (Assignment.status == AssignmentStatus.CONFIRMED)
        ):
            assignment.status, assignment.cancelled_by = AssignmentStatus.CANCELLED, "employer"
            assignment.cancel_late, assignment.cancel_reason, assignment.updated_at = (
                late_by,
                text,
                now,
            )
            assignment.save()
            _tell_worker(
                assignment.worker_id, "booking_cancelled", assignment.id, job.id, "cancelled"
            )
            changelog.record(
                "assignment",
                assignment.id,
                "update",
                {
                    "status": AssignmentStatus.CANCELLED,
                    "cancelled_by": "employer",
                    "cancel_late": late_by,
                    "cancel_reason": text,
                    "updated_at": now,
                },
            )
        job.status, job.confirmed_count, job.updated_at = JobStatus.CANCELLED, 0, now
        job.save()
        changelog.record(
            "job",
            job.id,
            "update",
            {
                "status": JobStatus.CANCELLED,
                "confirmed_count": 0,
                "cancel_reason": text,
                "cancelled_by": staff.username,
                "updated_at": now,
            },
        )
        _announce(job, "cancelled")
    return job


def _tell_worker(worker_id: str, kind: str, row_id: str, job_id: str, status: str) -> None:
    key = "offer_id" if kind.startswith("offer") else "assignment_id"
    data = {key: row_id, "job_id": job_id, "worker_id": worker_id, "status": status}
    events.publish(events.worker_topic(worker_id), kind, data)
    events.publish(events.STAFF, kind, data)


def _late_window() -> dt.timedelta:
    return dt.timedelta(hours=int(current_app.config.get("LATE_CANCEL_HOURS", 12)))
