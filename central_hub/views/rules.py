"""City-wide rules pages: blocked employers and intermediaries, announcements, service rules,
screening phrases."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from central_hub.models import RULE_KINDS
from central_hub.models.rules import PHRASE_KINDS
from central_hub.services import rules as service
from central_hub.views.auth import admin_required, login_required

bp = Blueprint("rules", __name__, url_prefix="/rules")


@bp.get("/")
@login_required
def index() -> ResponseReturnValue:
    return render_template(
        "rules.html",
        rules=service.active_rules(),
        kinds=RULE_KINDS,
        phrase_kinds=phrase_kind_labels(),
    )


def phrase_kind_labels() -> dict[str, Any]:
    """What each kind of screening phrase flags, in the page's language."""
    labels = {
        "asks_for_money": _("向劳动者收钱（押金、各类费用）"),
        "withholds_id_card": _("扣押身份证或证件"),
        "training_trap": _("招转培、培训贷"),
        "bait_wording": _("诱骗性用语（高薪无门槛、刷单等）"),
    }
    return {k: labels.get(k, k) for k in PHRASE_KINDS}


@bp.post("/")
@admin_required
def create() -> ResponseReturnValue:
    data = request.form.to_dict()
    service.add_rule(data.pop("kind", ""), data, g.admin)
    return redirect(url_for("rules.index"))


@bp.post("/<int:rule_id>/withdraw")
@admin_required
def withdraw(rule_id: int) -> ResponseReturnValue:
    service.withdraw_rule(rule_id, g.admin)
    return redirect(url_for("rules.index"))
