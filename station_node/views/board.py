"""The station's display screen (信息发布大屏): open jobs, the rules, the hotline, how to complain.

Public: no names of workers, no contact numbers of employers. The list redraws itself from the
station's event stream (`static/live.js`); each job carries a QR code that opens it on a phone
on the station's Wi-Fi (`/m/jobs/<number>`).
"""

from __future__ import annotations

import functools
from typing import Any

from flask import Blueprint, current_app, render_template, request

from devices.qr import QrError, qr_svg
from kuaigong.states import LIVE_JOBS
from station_node import events
from station_node.models import Job
from station_node.views.phone import job_number

bp = Blueprint("board", __name__, url_prefix="/board")

REFRESH_SECONDS = 300  # a full reload now and then, should the stream ever stall unseen


def public_url() -> str:
    """The address phones use for this station: PUBLIC_URL, else the one the board was opened
    with."""
    return str(current_app.config.get("PUBLIC_URL") or request.host_url).rstrip("/")


@functools.lru_cache(maxsize=256)
def _qr(url: str) -> str:
    """The job's code, made once: every change redraws the board, with up to 40 codes on it."""
    try:
        return qr_svg(url, scale=3)
    except QrError:
        return ""  # a station address no phone could open: the job shows without its code


@bp.get("/")
def display() -> Any:
    """Open jobs with pay, places left, place and time; rules, hotline 12333, complaint way."""
    jobs = list(
        Job.select()
        .where(Job.status.in_(LIVE_JOBS))
        .order_by(Job.urgency.desc(), Job.posted_at.desc())
        .limit(40)
    )
    base = public_url()
    codes = {job.id: _qr(f"{base}/m/jobs/{job_number(job.id)}") for job in jobs}
    context = {"jobs": jobs, "codes": codes, "number": job_number}
    if request.args.get("fragment"):
        return render_template("board/_jobs.html", **context)
    return render_template(
        "board/display.html", refresh=REFRESH_SECONDS, last_id=events.last_id(), **context
    )
