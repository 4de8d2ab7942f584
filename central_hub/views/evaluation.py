"""The annual station evaluation: the scheme editor, the results table, a station's printable
evaluation page, rectification cases, and the CSV and XLSX exports."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from central_hub.services import evaluation as service
from central_hub.services import reports
from central_hub.views import params
from central_hub.views.auth import admin_required, login_required
from kuaigong import clock
from kuaigong.i18n import lang as lang_code

bp = Blueprint("evaluation", __name__, url_prefix="/evaluation")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SORTS = ("score", "score_asc", "name")


def _names() -> dict[str, Any]:
    """What every evaluation page labels with."""
    return {
        "headings": service.HEADINGS,
        "indicators": service.INDICATORS,
        "grade_names": service.GRADE_NAMES,
        "band_names": service.BAND_NAMES,
        "case_names": service.CASE_NAMES,
        "local_time": service.local_time,
    }


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    year = params.year()
    sort = request.args.get("sort") or "score"
    if sort not in SORTS:
        sort = "score"
    rows = service.table(year)
    if sort == "score_asc":
        rows.sort(key=lambda r: (float(r["result"].total), r["station_id"]))
    elif sort == "name":
        rows.sort(key=lambda r: (r["name"], r["station_id"]))
    return render_template(
        "evaluation.html", rows=rows, year=year, sort=sort, scheme=service.scheme(year), **_names()
    )


@bp.post("/compute")
@admin_required
def compute() -> ResponseReturnValue:
    year = params.year()
    service.compute(year)
    return redirect(url_for("evaluation.index", year=year))


@bp.post("/publish")
@admin_required
def publish() -> ResponseReturnValue:
    year = params.year()
    service.publish(year, g.admin)
    return redirect(url_for("evaluation.index", year=year))


@bp.get("/scheme")
@login_required
def scheme() -> ResponseReturnValue:
    year = params.year()
    return render_template(
        "evaluation_scheme.html", year=year, scheme=service.scheme(year), **_names()
    )


@bp.post("/scheme")
@admin_required
def save_scheme() -> ResponseReturnValue:
    year = params.year()
    service.save_scheme(year, request.form.to_dict(), g.admin)
    return redirect(url_for("evaluation.scheme", year=year))


@bp.get("/station/<station_id>")
@login_required
def page(station_id: str) -> ResponseReturnValue:
    year = params.year()
    return render_template(
        "evaluation_station.html", view=service.station_view(year, station_id), **_names()
    )


@bp.get("/cases")
@login_required
def cases() -> ResponseReturnValue:
    raw = request.args.get("year")
    year = params.year(raw) if raw else None
    return render_template(
        "evaluation_cases.html", cases=service.cases(year), year=year, now=clock.now(), **_names()
    )


@bp.post("/cases/<int:case_id>/reevaluate")
@admin_required
def reevaluate(case_id: int) -> ResponseReturnValue:
    service.reevaluate(case_id, g.admin, str(request.form.get("note") or ""))
    return redirect(url_for("evaluation.cases"))


@bp.get("/export.csv")
@login_required
def export_csv() -> ResponseReturnValue:
    year = params.year()
    body = reports.evaluation_csv(service.table(year), lang_code())
    return Response(
        body,
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="station-evaluation-{year}.csv"'},
    )


@bp.get("/export.xlsx")
@login_required
def export_xlsx() -> ResponseReturnValue:
    year = params.year()
    body = reports.evaluation_xlsx(service.table(year), year, lang_code())
    return Response(
        body,
        mimetype=XLSX,
        headers={"Content-Disposition": f'attachment; filename="station-evaluation-{year}.xlsx"'},
    )
