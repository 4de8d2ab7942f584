"""The station's display screen (信息发布大屏): open jobs, the rules, the hotline, how to complain.

Public: no names of workers, no contact numbers of employers. The page reloads itself.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from kuaigong.states import LIVE_JOBS
from station_node.models import Job

bp = Blueprint("board", __name__, url_prefix="/board")

REFRESH_SECONDS = 15


@bp.get("/")
def display() -> Any:
    """Open jobs with pay, places left, place and time; rules, hotline 12333, complaint way."""
    jobs = (
        Job.select()
        .where(Job.status.in_(LIVE_JOBS))
        .order_by(Job.urgency.desc(), Job.posted_at.desc())
        .limit(40)
    )
    return render_template("board/display.html", jobs=jobs, refresh=REFRESH_SECONDS)
