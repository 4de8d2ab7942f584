"""Console page of the link with the hub: reachable or not, last successful sync, entries
waiting, the hub's last refusal with its reason, and a "sync now" button."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _

from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from station_node import auth
from station_node import station_state as state
from station_node.hub_records import CityRule
from station_node.services import local_today
from station_node.sync import bundles, client, decisions
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


@bp.post("/console/sync/export")
@auth.console_login
def usb_export() -> Any:
    """The records the hub has not confirmed, as a signed file to save on a USB stick and carry
    to the city centre when the line is down."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="kuaigong-usb-") as tmp:
        path = Path(tmp) / "bundle"
        try:
            out = bundles.export_bundle(app, path)
        except KuaigongError as exc:
            flash(exc.message(lang()), "error")
            return redirect(url_for("sync_status.page"))
        blob = path.read_bytes()
    day = local_today().isoformat()
    name = f"kuaigong-{out['station']}-{day}.bundle"
    return Response(
        blob,
        mimetype="application/octet-stream",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/console/sync/import")
@auth.console_login
def usb_import() -> Any:
    """A file the city centre wrote for this station (its receipt and the city's records),
    brought on a USB stick; importing the same file twice changes nothing."""
    upload = request.files.get("bundle")
    if upload is None or not upload.filename:
        flash(_("请选择从中心带回的数据文件"), "error")
        return redirect(url_for("sync_status.page"))
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with tempfile.TemporaryDirectory(prefix="kuaigong-usb-") as tmp:
        path = Path(tmp) / "bundle"
        upload.save(path)
        try:
            out = bundles.import_bundle(app, path)
        except KuaigongError as exc:
            flash(exc.message(lang()), "error")
            return redirect(url_for("sync_status.page"))
    flash(
        _(
            "已导入：中心已收到本站前 %(seq)s 条记录，带回 %(n)s 条市级记录",
            seq=out["accepted_seq"],
            n=out["hub_entries"],
        ),
        "ok",
    )
    return redirect(url_for("sync_status.page"))
