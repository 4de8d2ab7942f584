"""The station's display screen (信息发布大屏): open jobs, the rules, the hotline, how to complain.

Public: no names of workers, no contact numbers of employers. It hangs on a wall and nobody
touches it, so it never reloads itself (a reload while the station is down would leave the
browser's error page up for good): `static/display.js` follows the station's event stream,
redraws the jobs in place, turns their pages when they do not fit, and shows a small mark while
the station cannot be reached. Each job carries a QR code that opens it on a phone on the
station's Wi-Fi (`/m/jobs/<number>`).
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from flask import Blueprint, render_template, request

from devices.qr import QrError, qr_svg
from kuaigong import clock
from kuaigong.states import LIVE_JOBS
from station_node import events
from station_node.models import Job
from station_node.services import utc_offset_hours
from station_node.services.phone_address import phone_base_url
from station_node.views.phone import job_number

bp = Blueprint("board", __name__, url_prefix="/board")

MOST_JOBS = 200  # far more than a station has open; the screen pages through them


def public_url() -> str:
    """The address phones use for this station (see `services.phone_address`)."""
    return phone_base_url()


@functools.lru_cache(maxsize=512)
def _qr(url: str) -> str:
    """The job's code, made once: every change redraws the board, with all its codes."""
    try:
        return qr_svg(url, scale=4)
    except QrError:
        return ""  # a station address no phone could open: the job shows without its code


def _local_day(moment: dt.datetime | None, offset: dt.timedelta) -> dt.date | None:
    return None if moment is None else (moment + offset).date()


def _ordered(jobs: list[Job], today: dt.date, offset: dt.timedelta) -> list[Job]:
    """Today's jobs first (people at the station want work now), then the soonest; urgent ones
    lead within a day; jobs of no fixed time after those of today."""
    far = dt.datetime.max

    def key(job: Job) -> tuple[int, int, dt.datetime]:
        day = _local_day(job.starts_at, offset)
        group = 0 if day == today else (1 if day is not None else 2)
        return (group, 0 if job.urgency == "urgent" else 1, job.starts_at or far)

    return sorted(jobs, key=key)


@bp.get("/")
def display() -> Any:
    """Open jobs with pay, places left, place, time and skills; rules, hotline 12333, fraud
    warning and the complaint way."""
    jobs = list(
        Job.select()
        .where(Job.status.in_(LIVE_JOBS))
        .order_by(Job.posted_at.desc())
        .limit(MOST_JOBS)
    )
    now = clock.now()
    offset = dt.timedelta(hours=utc_offset_hours())
    today = (now + offset).date()
    base = public_url()
    context = {
        "jobs": _ordered(jobs, today, offset),
        "codes": {job.id: _qr(f"{base}/m/jobs/{job_number(job.id)}") for job in jobs},
        "number": job_number,
        "is_today": lambda job: _local_day(job.starts_at, offset) == today,
        "now_ms": clock.now_ms(),
        "offset_minutes": int(offset.total_seconds() // 60),
    }
    if request.args.get("fragment"):
        return render_template("board/_jobs.html", **context)
    return render_template("board/display.html", last_id=events.last_id(), **context)
