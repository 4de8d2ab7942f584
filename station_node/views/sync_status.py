"""Console page of the link with the hub: reachable or not, last successful sync, entries
waiting, the hub's last refusal with its reason, and a "sync now" button."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _

from station_node import auth
from station_node import station_state as state
from station_node.hub_records import CityRule
from station_node.sync import client, decisions
from station_node.sync.jobs import beat

bp = Blueprint("sync_status", __name__)


def _when(text: Any) -> dt.datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return dt.datetime.fromisoformat(text).astimezone(dt.UTC).replace(tzinfo=None)
    except ValueError:
        return None


def _view() -> dict[str, Any]:
    """What the page shows, from the status file and the log."""
    status = state.status()
    enr = state.enrolment()
    return {
        "enrolment": enr,
        "reachable": status.get("reachable"),
        "last_ok_at": _when(status.get("last_ok_at")),
        "last_attempt_at": _when(status.get("last_attempt_at")),
        "pending": client.pending_count() if enr else None,
        "accepted_seq": status.get("accepted_seq"),
        "hub_seq": status.get("hub_seq"),
        "rejection": status.get("rejection"),
        "last_error": status.get("last_error"),
        "blocked": status.get("blocked"),
        "altered": status.get("altered"),
        "key_revoked": status.get("key_revoked"),
        "rules": list(CityRule.select().where(CityRule.active).order_by(CityRule.hub_seq.desc())),
        "decisions": [
            (row, decisions.decision_code(row), decisions.outcome_code(row.outcome))
            for row in decisions.recent()
        ],
    }


@bp.get("/console/sync")
@auth.console_login
def page() -> Any:
    """The sync status page."""
    return render_template("console/sync.html", s=_view())


@bp.get("/console/sync/panel")
@auth.console_login
def panel() -> Any:
    """Just the status panel (for a page that refreshes it in place)."""
    bare = current_app.jinja_env.from_string("{% block content %}{% endblock %}")
    return render_template("console/sync.html", s=_view(), layout=bare)


@bp.post("/console/sync/now")
@auth.console_login
def sync_now() -> Any:
    """Start a sync round in the background and come back to the page."""

    if state.enrolment() is None:
        flash(_("本站尚未在市级中心注册，无法同步"), "error")
    else:
        beat(current_app._get_current_object()).now()  # type: ignore[attr-defined]
        flash(_("已开始同步，稍后刷新查看结果"), "info")
    return redirect(url_for("sync_status.page"))
