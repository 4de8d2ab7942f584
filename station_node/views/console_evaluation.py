"""Staff console: the hub's annual evaluation of this station — score, grade, each indicator
and what pulls the score down, and the rectification deadline when it failed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from station_node import auth
from station_node.sync import decisions

bp = Blueprint("console_evaluation", __name__, url_prefix="/console")


@bp.get("/evaluation")
@auth.console_login
def page() -> Any:
    """Every year the hub has evaluated this station, newest first."""
    return render_template("console/evaluation.html", evaluations=decisions.evaluations())
