"""City view (the annual evaluation has its own pages: views.evaluation)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from central_hub import charts
from central_hub.services import citystats
from central_hub.views.auth import login_required

bp = Blueprint("city", __name__, url_prefix="/city")


def _charts(view: dict[str, Any]) -> list[tuple[str, Any]]:
    """Month-by-month trends of the main figures, drawn on the server: (caption, svg)."""
    months = [m for m, _f in view["trend"]]
    series = [f for _m, f in view["trend"]]
    lines: list[tuple[str, list[float | None], str]] = [
        (_("每月发布岗位"), [f.tally.posted for f in series], ""),
        (_("每月满员率"), [f.fill_rate.percent for f in series], "%"),
        (_("每月 60 秒内满员占比"), [f.within_target_share.percent for f in series], "%"),
        (_("每月爽约率"), [f.no_show_rate.percent for f in series], "%"),
        (_("每月发放工资（元）"), [f.tally.wage_paid_fen / 100 for f in series], ""),
    ]
    return [
        (title, charts.line_chart(months, values, title=title, unit=unit, empty=_("暂无数据")))
        for title, values, unit in lines
    ]


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    view = citystats.city_view()
    return render_template("city.html", view=view, trend_charts=_charts(view))


@bp.get("/evaluation")
@login_required
def evaluation() -> ResponseReturnValue:
    """Old links to the evaluation land on its own pages (a year carried over only as digits:
    whatever else was typed stays out of the Location header)."""
    year = str(request.args.get("year") or "")
    return redirect(url_for("evaluation.index", year=year if year.isdigit() else None))
