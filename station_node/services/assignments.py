"""An assignment after confirmation: check-in, no-show, cancellation, completion, pay, ratings.

Allowed moves (anything else is a Conflict naming the current state):

    confirmed ──check_in──▶ checked_in ──complete──▶ completed ──settle──▶ settled
        │  └──────────────complete──────────────────▲                        │
        ├──cancel──▶ cancelled                                     confirm_pay (worker)
        └──no_show──▶ no_show                 ratings both ways once completed or settled

The station records pay; it never holds money. Each move updates the worker's reliability
counters where it should, and the job closes once all its assignments are finished.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from flask import current_app

from kuaigong import clock
from kuaigong.errors import Conflict, FieldErrors, Forbidden
from kuaigong.states import ACTIVE_JOBS, UNFINISHED_ASSIGNMENTS, AssignmentStatus, JobStatus
from station_node import catalog, changelog, db
from station_node.models import Assignment, Job, Staff, Worker
from station_node.services import dispatch, get_or_404
from station_node.validation import clean_choice, clean_int, clean_text

CANCELLED_BY = {
    "worker": ("劳动者", "Worker"),
    "employer": ("雇主", "Employer"),
    "staff": ("工作人员", "Staff"),
}
RATED_BY = {"worker": ("劳动者", "Worker"), "employer": ("雇主", "Employer")}
MAX_QUANTITY = 100_000
MAX_SETTLED_FEN = 100_000_000
# Who may no longer cancel once the work has started, and what to do instead.
_AFTER_START = {
    "employer": (
        "工作已经开始，用工方不能再取消派工：劳动者已到岗的，请登记完工并按实际工作量结算；未到岗的，请登记未到岗",
        "The work has started, so the employer can no longer cancel: record completion and pay "
        "for the work done, or mark a no-show",
    ),
    "worker": (
        "工作已经开始，不能再取消；未能到岗请联系驿站工作人员",
        "The work has started and can no longer be cancelled; contact the station staff",
    ),
}
_STATE_ZH = {
    AssignmentStatus.CONFIRMED: "已确认",
    AssignmentStatus.CHECKED_IN: "已到岗",
    AssignmentStatus.COMPLETED: "已完工",
    AssignmentStatus.SETTLED: "已结算",
    AssignmentStatus.NO_SHOW: "未到岗",
    AssignmentStatus.CANCELLED: "已取消",
}


def _load(assignment_id: str) -> Assignment:
    return get_or_404(Assignment, assignment_id, "该派工记录", "Assignment")


def _require_status(
    assignment: Assignment, allowed: tuple[str, ...], action_zh: str, action_en: str
) -> None:
    if assignment.status not in allowed:
        now_zh = _STATE_ZH.get(assignment.status, assignment.status)
        raise Conflict(
            "illegal_transition",
            f"当前状态为“{now_zh}”，不能{action_zh}",
            f"Cannot {action_en} an assignment that is {assignment.status}",
            status=assignment.status,
            allowed_from=list(allowed),
        )


def _save(assignment: Assignment, **changes: Any) -> None:
    now = clock.now()
    for key, value in changes.items():
        setattr(assignment, key, value)
    assignment.updated_at = now
    assignment.save()
    changelog.record("assignment", assignment.id, "update", changes | {"updated_at": now})


def _bump_worker(worker_id: str, **increments: int) -> Worker:
    worker = Worker.get_by_id(worker_id)
    changes: dict[str, Any] = {}
    for field, delta in increments.items():
        changes[field] = getattr(worker, field) + delta
        setattr(worker, field, changes[field])
    worker.updated_at = clock.now()
    worker.save()
    changelog.record("worker", worker.id, "update", changes | {"updated_at": worker.updated_at})
    return worker


def _close_job_if_done(job_id: str) -> None:
    """Close the job when none of its assignments has anything left to happen."""
    job = Job.get_by_id(job_id)
    if job.status not in ACTIVE_JOBS:
        return
    statuses = [a.status for a in Assignment.select(Assignment.status).where(Assignment.job == job)]
    unfinished = any(s in UNFINISHED_ASSIGNMENTS for s in statuses)
    if not statuses or unfinished or AssignmentStatus.SETTLED not in statuses:
        return
    now = clock.now()
    over = job.ends_at is not None and job.ends_at <= now
    if job.status != JobStatus.FILLED and not over:
        return  # places are still being filled
    job.status, job.updated_at = JobStatus.CLOSED, now
    job.save()
    changelog.record("job", job.id, "update", {"status": JobStatus.CLOSED, "updated_at": now})


def _free_place(job: Job) -> None:
    dispatch.reopen(job)


def check_in_assignment(assignment_id: str, actor: Staff | None) -> Assignment:
    """The worker arrived on site."""
    with db.atomic():
        assignment = _load(assignment_id)
        _require_status(assignment, (AssignmentStatus.CONFIRMED,), "登记到岗", "check in")
        _save(assignment, status=AssignmentStatus.CHECKED_IN, checked_in_at=clock.now())
    return assignment


def mark_no_show(assignment_id: str, actor: Staff | None) -> Assignment:
    """The worker did not come: counts against their reliability."""
    with db.atomic():
        assignment = _load(assignment_id)
        _require_status(assignment, (AssignmentStatus.CONFIRMED,), "登记未到岗", "mark as no-show")
        job = assignment.job
        if job.starts_at is not None and clock.now() < job.starts_at:
            raise Conflict(
                "not_started", "工作还没开始，不能登记未到岗", "The job has not started yet"
            )
        _save(assignment, status=AssignmentStatus.NO_SHOW)
        _bump_worker(assignment.worker_id, no_show_count=1)
        _free_place(job)
        _close_job_if_done(job.id)
    return assignment


def cancel_assignment(assignment_id: str, by: str, reason: str, actor: Staff | None) -> Assignment:
    """Cancel before the work starts; late (< LATE_CANCEL_HOURS ahead) worker cancels count.

    Once the start time has passed, neither side can cancel (Conflict `job_started`): a worker
    who did not come is a no-show, one who came is completed and paid for what was worked.
    Only staff may still cancel then, as the station's own recorded decision (site unsafe …).
    """
    errs = FieldErrors()
    who = clean_choice(by, errs, "by", "取消方", "Cancelled by", CANCELLED_BY)
    text = clean_text(reason, errs, "reason", "取消原因", "Reason", max_len=200)
    errs.raise_if_any()
    if who == "staff" and actor is None:
        raise Forbidden(
            "staff_only", "只有工作人员可以以驿站名义取消", "Only staff can cancel for the station"
        )
    with db.atomic():
        assignment = _load(assignment_id)
        _require_status(assignment, (AssignmentStatus.CONFIRMED,), "取消", "cancel")
        job = assignment.job
        now = clock.now()
        if who in _AFTER_START and job.starts_at is not None and job.starts_at <= now:
            zh, en = _AFTER_START[who]
            raise Conflict("job_started", zh, en, starts_at=job.starts_at.isoformat() + "Z")
        hours = int(current_app.config.get("LATE_CANCEL_HOURS", 12))
        late = job.starts_at is not None and job.starts_at - now < dt.timedelta(hours=hours)
        _save(
            assignment,
            status=AssignmentStatus.CANCELLED,
            cancelled_by=who,
            cancel_late=late,
            cancel_reason=text,
        )
        if who == "worker" and late:
            _bump_worker(assignment.worker_id, late_cancel_count=1)
        _free_place(job)
        _close_job_if_done(job.id)
    return assignment


def complete_assignment(assignment_id: str, quantity: Any, actor: Staff | None) -> Assignment:
    """The work is done: quantity in the job's unit (tenths of hours, days, pieces; 1 for a
    whole job).

    Staff enter what was actually worked; no more than the job's window (plus two hours of
    overtime for hourly pay) is accepted.
    """
    with db.atomic():
        assignment = _load(assignment_id)
        _require_status(
            assignment,
            (AssignmentStatus.CONFIRMED, AssignmentStatus.CHECKED_IN),
            "登记完工",
            "complete",
        )
        job = assignment.job
        errs = FieldErrors()
        if quantity in (None, "") and job.pay_unit == "job":
            quantity = 1  # the only quantity a whole-job price has
        amount = clean_int(
            quantity, errs, "quantity", "工作量", "Quantity", minimum=1, maximum=_max_quantity(job)
        )
        errs.raise_if_any()
        _save(
            assignment, status=AssignmentStatus.COMPLETED, quantity=amount, completed_at=clock.now()
        )
        _bump_worker(assignment.worker_id, completed_count=1)
    return assignment


def _window_hours(job: Job) -> float | None:
    if job.starts_at is None or job.ends_at is None:
        return None
    return (job.ends_at - job.starts_at).total_seconds() / 3600


def _max_quantity(job: Job) -> int:
    """The most work one worker can do on this job in its unit (hours in tenths)."""
    hours = _window_hours(job)
    if job.pay_unit == "job":
        return 1
    if job.pay_unit == "day":
        return math.ceil(hours / 24) + 1 if hours is not None else 366
    if job.pay_unit == "hour":
        return math.ceil(hours + 2) * 10 if hours is not None else 24 * 10 * 31
    return MAX_QUANTITY


def expected_pay_fen(assignment: Assignment) -> int | None:
    """What the job's rate gives for the recorded quantity (hours are stored in tenths)."""
    if assignment.quantity is None:
        return None
    job = assignment.job
    if job.pay_unit == "hour":
        return job.pay_fen * assignment.quantity // 10
    if job.pay_unit == "job":
        return job.pay_fen
    return job.pay_fen * assignment.quantity


def settle_assignment(
    assignment_id: str, pay_fen: Any, pay_method: Any, actor: Staff | None
) -> Assignment:
    """Record the pay the employer gave the worker (the station itself never holds money)."""
    errs = FieldErrors()
    amount = clean_int(
        pay_fen,
        errs,
        "pay_fen",
        "实付金额（分）",
        "Amount paid (fen)",
        minimum=1,
        maximum=MAX_SETTLED_FEN,
    )
    method = clean_choice(
        pay_method, errs, "pay_method", "支付方式", "Payment method", catalog.PAY_METHODS
    )
    errs.raise_if_any()
    with db.atomic():
        assignment = _load(assignment_id)
        _require_status(assignment, (AssignmentStatus.COMPLETED,), "登记结算", "settle")
        _save(
            assignment,
            status=AssignmentStatus.SETTLED,
            pay_fen=amount,
            pay_method=method,
            paid_at=clock.now(),
        )
        _close_job_if_done(assignment.job_id)
    return assignment


def confirm_pay(assignment_id: str, worker: Worker | str | None) -> Assignment:
    """The worker confirms they received the pay recorded for them."""
    worker_id = worker.id if isinstance(worker, Worker) else worker
    with db.atomic():
        assignment = _load(assignment_id)
        if worker_id is not None and worker_id != assignment.worker_id:
            raise Forbidden(
                "not_your_assignment", "这不是您的派工记录", "This assignment is not yours"
            )
        _require_status(assignment, (AssignmentStatus.SETTLED,), "确认收款", "confirm pay for")
        if assignment.worker_confirmed_pay_at is not None:
            raise Conflict(
                "already_confirmed", "已经确认过收款", "Pay receipt is already confirmed"
            )
        _save(assignment, worker_confirmed_pay_at=clock.now())
    return assignment


def rate_assignment(assignment_id: str, by: str, stars: Any, actor: Staff | None) -> Assignment:
    """A rating of 1..5: by the worker of the employer, or by the employer of the worker; once
    each."""
    errs = FieldErrors()
    who = clean_choice(by, errs, "by", "评价方", "Rated by", RATED_BY)
    value = clean_int(stars, errs, "stars", "评分", "Stars", minimum=1, maximum=5)
    errs.raise_if_any()
    with db.atomic():
        assignment = _load(assignment_id)
        _require_status(
            assignment, (AssignmentStatus.COMPLETED, AssignmentStatus.SETTLED), "评价", "rate"
        )
        field = "rating_of_employer" if who == "worker" else "rating_of_worker"
        if getattr(assignment, field) is not None:
            raise Conflict(
                "already_rated", "已经评价过了", "This side has already rated", field=field
            )
        _save(assignment, **{field: value})
        if field == "rating_of_worker" and value is not None:
            _bump_worker(assignment.worker_id, rating_sum=value, rating_count=1)
    return assignment
