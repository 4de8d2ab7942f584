"""City-wide rules pages: blocked employers and intermediaries, announcements, service rules."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from central_hub.models import RULE_KINDS
from central_hub.services import rules as service
from central_hub.views.auth import admin_required, login_required

bp = Blueprint("rules", __name__, url_prefix="/rules")


@bp.get("/")
@login_required
def index():  # type: ignore[no-untyped-def]
    return render_template("rules.html", rules=service.active_rules(), kinds=RULE_KINDS)


@bp.post("/")
@admin_required
def create():  # type: ignore[no-untyped-def]
    data = request.form.to_dict()
    service.add_rule(data.pop("kind", ""), data, g.admin)
    return redirect(url_for("rules.index"))


@bp.post("/<int:rule_id>/withdraw")
@admin_required
def withdraw(rule_id: int):  # type: ignore[no-untyped-def]
    service.withdraw_rule(rule_id, g.admin)
    return redirect(url_for("rules.index"))
