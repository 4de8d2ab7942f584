"""City view and the annual station evaluation (page, CSV, XLSX)."""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request
from flask.typing import ResponseReturnValue

from central_hub.services import citystats, reports
from central_hub.views.auth import login_required
from kuaigong import clock
from kuaigong.errors import FieldErrors
from kuaigong.i18n import lang as lang_code

bp = Blueprint("city", __name__, url_prefix="/city")


def _year() -> int:
    raw = request.args.get("year")
    if raw in (None, ""):
        return clock.now().year
    errs = FieldErrors()
    try:
        year = int(str(raw))
    except ValueError:
        year = 0
    if not 2000 <= year <= 2100:
        errs.add(
            "year",
            "invalid",
            "年份须为 2000–2100 之间的整数",
            "Year must be a whole number 2000–2100",
        )
    errs.raise_if_any()
    return year


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return render_template("city.html", view=citystats.city_view())


@bp.get("/evaluation")
@login_required
def evaluation() -> ResponseReturnValue:
    year = _year()
    return render_template(
        "evaluation.html",
        rows=citystats.evaluation(year),
        year=year,
        columns=citystats.EVALUATION_COLUMNS,
    )


@bp.get("/evaluation.csv")
@login_required
def evaluation_csv() -> ResponseReturnValue:
    year = _year()
    body = reports.evaluation_csv(citystats.evaluation(year), lang_code())
    return Response(
        body,
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="station-evaluation-{year}.csv"'},
    )


@bp.get("/evaluation.xlsx")
@login_required
def evaluation_xlsx() -> ResponseReturnValue:
    year = _year()
    body = reports.evaluation_xlsx(citystats.evaluation(year), year, lang_code())
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="station-evaluation-{year}.xlsx"'},
    )
