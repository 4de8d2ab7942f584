"""Station pages: watch every station (searched, a page at a time, and by district and
community), create and enrol one, revoke and rotate its keys."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from central_hub.models import AppliedEntry, ClockAllowance, Evidence, Issue, Receipt, StationKey
from central_hub.services import browse, citystats, reconcile, restores
from central_hub.services import stations as service
from central_hub.states import HOLDING_KINDS, IssueStatus
from central_hub.views.auth import admin_required, login_required
from central_hub.views.templating import zone
from kuaigong import clock

bp = Blueprint("stations", __name__)


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    page = browse.stations(request.args.to_dict(), service.station_rows())
    return render_template(
        "stations.html",
        page=page,
        districts=browse.districts(),
        counts=reconcile.open_counts(),
        args=request.args,
    )


@bp.get("/city/districts")
@login_required
def districts() -> ResponseReturnValue:
    return render_template("districts.html", view=browse.drill_down(counts=citystats.live_counts()))


@bp.get("/city/districts/<district>")
@login_required
def district(district: str) -> ResponseReturnValue:
    view = browse.drill_down(district, counts=citystats.live_counts())
    return render_template("districts.html", view=view)


@bp.post("/stations")
@admin_required
def create() -> ResponseReturnValue:
    issued = service.create_station(request.form.to_dict(), g.admin)
    return render_template("code_issued.html", issued=issued), 201


@bp.get("/stations/<station_id>")
@login_required
def show(station_id: str) -> ResponseReturnValue:
    station = service.get_station(station_id)
    keys = StationKey.select().where(StationKey.station == station).order_by(StationKey.id.desc())
    evidence = (
        Evidence.select().where(Evidence.station == station).order_by(Evidence.id.desc()).limit(20)
    )
    receipt = Receipt.select().where(Receipt.station == station).order_by(Receipt.id.desc()).first()
    applied = AppliedEntry.select().where(AppliedEntry.station == station).count()
    issues = Issue.select().where(
        (Issue.subject == station.id)
        & (Issue.status == IssueStatus.OPEN)
        & Issue.kind.in_(HOLDING_KINDS)
    )
    return render_template(
        "station.html",
        station=station,
        keys=list(keys),
        evidence=list(evidence),
        receipt=receipt,
        applied=applied,
        key_status_code=service.key_status(station),
        issues=list(issues),
        allowance=ClockAllowance.get_or_none(ClockAllowance.station == station.id),
        refused=service.refused_pushes(station.id),
        activity=browse.station_activity(station.id, zone(), clock.now()),
    )


@bp.post("/stations/<station_id>/restart")
@admin_required
def restart(station_id: str) -> ResponseReturnValue:
    issue = restores.restart_station(station_id, request.form.get("reason", ""), g.admin)
    return redirect(url_for("reconcile.show", issue_id=issue.id))


@bp.post("/stations/<station_id>/revoke")
@admin_required
def revoke(station_id: str) -> ResponseReturnValue:
    service.revoke_key(
        station_id, request.form.get("reason", ""), request.form.get("after_seq"), g.admin
    )
    return redirect(url_for("stations.show", station_id=station_id))


@bp.post("/stations/<station_id>/rotate")
@admin_required
def rotate(station_id: str) -> ResponseReturnValue:
    issued = service.issue_rotation_code(station_id, g.admin)
    return render_template("code_issued.html", issued=issued), 201
