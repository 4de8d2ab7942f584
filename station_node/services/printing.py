"""Job slips (派工单) for the receipt printer: queued with the confirmation, printed by a device.

A slip is a `PrintJob` row written inside the transaction that confirms the worker (grab,
accepted offer, staff assignment), so a crash never loses one and a printer never slows or
blocks a grab: the printer's device process (`devices/runners/printer.py`) claims queued slips
over the API, prints them and reports back. The slip's text is final when queued (local times,
masked ID number), so what prints matches what the console showed at that moment.

These rows are local to the station: they are not synced and write no change-log entries.
The printer's own status lives in memory, as the device last reported it.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import Any

from flask import current_app

from devices.slips import LABOUR_HOTLINE, JobSlip, SlipError
from kuaigong import clock
from kuaigong.errors import Conflict, FieldError, InvalidInput, NotFound
from station_node import catalog, db
from station_node.models import Assignment, Employer, Job, PrintJob, Staff, Worker
from station_node.services import require_staff, utc_offset_hours
from station_node.services.phone_address import phone_base_url

QUEUED, PRINTING, PRINTED, FAILED = "queued", "printing", "printed", "failed"
PRINT_STATES = (QUEUED, PRINTING, PRINTED, FAILED)
# A slip claimed this long ago and never reported was lost with its printer process: hand it
# out again. The printer itself gives up on a slip after five minutes of trying.
RECLAIM_AFTER = dt.timedelta(minutes=10)
# A printer process silent for this long is shown as not running.
STATUS_STALE_AFTER = dt.timedelta(seconds=90)
NUMBER_LENGTH = 8
_STATUS_KEY = "kuaigong.printer_status"
_status_lock = threading.Lock()


def job_number(job_id: str) -> str:
    """The short number a slip and the console show for a job (the start of its id)."""
    return str(job_id)[:NUMBER_LENGTH].upper()


def job_url(job_id: str) -> str:
    """The phone page of a job, for the slip's QR code (see `phone_address`)."""
    return f"{phone_base_url()}/m/jobs/{job_number(job_id)}"


def _time_window(job: Job) -> str:
    if job.time_flexible or job.starts_at is None:
        return "时间灵活"
    offset = dt.timedelta(hours=utc_offset_hours())
    start = job.starts_at + offset
    text = f"{start.month}月{start.day}日 {start:%H:%M}"
    if job.ends_at is None:
        return text + " 起"
    end = job.ends_at + offset
    if end.date() == start.date():
        return f"{text}–{end:%H:%M}"
    return f"{text}–{end.month}月{end.day}日 {end:%H:%M}"


def _pay(job: Job) -> str:
    yuan, fen = divmod(int(job.pay_fen), 100)
    amount = f"{yuan}.{fen:02d}" if fen else str(yuan)
    return f"{amount} {catalog.label(catalog.PAY_UNITS, job.pay_unit, 'zh')}"


def slip_data(job: Job, worker: Worker, employer: Employer) -> dict[str, str]:
    """The slip's fields as they will print."""
    config = current_app.config
    return {
        "station_name": str(config.get("STATION_NAME") or "零工驿站"),
        "job_title": job.title,
        "time_window": _time_window(job),
        "address": job.address,
        "employer_name": employer.name,
        "employer_phone": f"{employer.contact_name} {employer.mobile}".strip(),
        "pay": _pay(job),
        "worker_name": worker.name,
        "worker_id_masked": worker.id_masked or "",
        "job_number": job_number(job.id),
        "qr_url": job_url(job.id),
        "station_hotline": str(config.get("STATION_HOTLINE") or "请见驿站公告栏"),
        "labour_hotline": LABOUR_HOTLINE,
    }


def queue_slip(assignment: Assignment, reason: str = "confirmed") -> PrintJob:
    """Queue the slip of a confirmed worker, inside the caller's transaction.

    Never raises for a slip it cannot build: the confirmation matters more than its paper, so
    such a slip is stored as failed, with the reason, for staff to see.
    """
    now = clock.now()
    job = Job.select(Job, Employer).join(Employer).where(Job.id == assignment.job_id).get()
    data = slip_data(job, Worker.get_by_id(assignment.worker_id), job.employer)
    status, error = QUEUED, None
    try:
        JobSlip(**data)
    except SlipError as exc:
        status, error = FAILED, exc.message_zh[:200]
    return PrintJob.create(
        assignment=assignment.id,
        slip=data,
        reason=reason,
        status=status,
        error=error,
        created_at=now,
        finished_at=now if status == FAILED else None,
    )


def print_again(assignment_id: str, actor: Staff | None) -> PrintJob:
    """Staff ask for a slip at the console (a lost slip, a second copy)."""
    require_staff(actor)
    with db.writing():
        assignment = Assignment.get_or_none(Assignment.id == str(assignment_id))
        if assignment is None:
            raise NotFound("派工记录", "assignment")
        return queue_slip(assignment, "on_demand")


def retry(print_job_id: int, actor: Staff | None) -> PrintJob:
    """Put a failed slip back in the queue."""
    require_staff(actor)
    with db.writing():
        row = _print_job(print_job_id)
        if row.status != FAILED:
            raise Conflict("not_failed", "只有打印失败的派工单可以重打", "only failed slips retry")
        row.status, row.error, row.finished_at, row.claimed_at = QUEUED, None, None, None
        row.save()
        return row


def claim(limit: int = 5) -> list[PrintJob]:
    """Hand the printer process the oldest queued slips (and any it lost), marked printing."""
    now = clock.now()
    with db.writing():
        rows = list(
            PrintJob.select()
            .where(
                (PrintJob.status == QUEUED)
                | ((PrintJob.status == PRINTING) & (PrintJob.claimed_at < now - RECLAIM_AFTER))
            )
            .order_by(PrintJob.id)
            .limit(max(1, min(int(limit), 50)))
        )
        for row in rows:
            row.status, row.claimed_at, row.attempts = PRINTING, now, row.attempts + 1
            row.save()
    return rows


def report(print_job_id: int, printed: bool, error: str | None = None) -> PrintJob:
    """The printer process says how a claimed slip ended."""
    with db.writing():
        row = _print_job(print_job_id)
        if row.status != PRINTING:
            raise Conflict(
                "not_printing",
                "这张派工单不在打印中，不能报告结果",
                "this slip is not being printed",
                status=row.status,
            )
        row.status = PRINTED if printed else FAILED
        row.error = None if printed else (error or "打印失败")[:200]
        row.finished_at = clock.now()
        row.save()
        return row


def _print_job(print_job_id: int) -> PrintJob:
    row = PrintJob.get_or_none(PrintJob.id == print_job_id)
    if row is None:
        raise NotFound("派工单", "slip")
    return row


def failed_slips(limit: int = 20) -> list[PrintJob]:
    """Slips that did not print, newest first, for the console."""
    return list(
        PrintJob.select().where(PrintJob.status == FAILED).order_by(PrintJob.id.desc()).limit(limit)
    )


def waiting_count() -> int:
    """Slips queued or on the printer."""
    return PrintJob.select().where(PrintJob.status.in_((QUEUED, PRINTING))).count()


# ---------------------------------------------------------------- the printer's status


@dataclass(frozen=True)
class PrinterReport:
    """The printer as its device process last described it."""

    state: str  # unknown | ready | offline | error (devices.printer.PrinterStatus)
    message: tuple[str, str]  # (Chinese, English): the problem now
    paper_low: bool
    last_error: tuple[str, str]  # the most recent problem, even once cleared
    reported_at: dt.datetime


STATES = ("unknown", "ready", "offline", "error")


def record_status(values: dict[str, Any]) -> PrinterReport:
    """Keep the printer's status as the device reported it (`PrinterStatus.as_dict()`)."""
    state = values.get("state")
    if state not in STATES:
        raise InvalidInput(
            [FieldError("state", "invalid", "打印机状态不认识", f"unknown printer state {state!r}")]
        )
    report = PrinterReport(
        state=str(state),
        message=(_text(values, "message"), _text(values, "message_en")),
        paper_low=bool(values.get("paper_low")),
        last_error=(_text(values, "last_error"), _text(values, "last_error_en")),
        reported_at=clock.now(),
    )
    with _status_lock:
        current_app.extensions[_STATUS_KEY] = report
    return report


def _text(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    return value[:200] if isinstance(value, str) else ""


def printer_status(lang: str = "zh") -> dict[str, Any]:
    """What the console shows: the last report (or that no printer process reports) and counts."""
    with _status_lock:
        report: PrinterReport | None = current_app.extensions.get(_STATUS_KEY)
    running = report is not None and clock.now() - report.reported_at <= STATUS_STALE_AFTER
    side = 1 if lang == "en" else 0
    return {
        "running": running,
        "state": report.state if running and report else "absent",
        "message": report.message[side] or report.message[0] if running and report else "",
        "paper_low": bool(report and running and report.paper_low),
        "last_error": (report.last_error[side] or report.last_error[0]) if report else "",
        "reported_at": report.reported_at if report else None,
        "waiting": waiting_count(),
        "failed": PrintJob.select().where(PrintJob.status == FAILED).count(),
    }
