"""The city's jobs: searched by title, station, sector, status and month, a page at a time."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask.typing import ResponseReturnValue

from central_hub.services import browse, stations
from central_hub.views.auth import login_required
from central_hub.views.templating import zone

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return render_template(
        "jobs.html",
        page=browse.jobs(request.args.to_dict(), zone()),
        names=stations.names(),
        sectors=browse.sectors(),
        args=request.args,
    )
