"""The kiosk's 我要投诉 page: a signed-in resident files a complaint and sees how theirs went.

Large type, one page: pick what happened, optionally which of their jobs, say it in a few
words. The hotline 12333 is on the page for what the station cannot settle.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from kuaigong.errors import InvalidInput, KuaigongError
from kuaigong.i18n import lang
from station_node import catalog
from station_node.models import Assignment, Worker
from station_node.services import complaints
from station_node.views import forms
from station_node.views.kiosk import _signed_in as signed_in
from station_node.views.kiosk import resident_message

bp = Blueprint("kiosk_complaints", __name__, url_prefix="/kiosk")


def _page(
    worker: Worker, values: MultiDict[str, str], errors: dict[str, str], error: str | None
) -> Any:
    language = lang()
    jobs = (
        Assignment.select()
        .where(Assignment.worker == worker)
        .order_by(Assignment.confirmed_at.desc())
    )
    return render_template(
        "kiosk/complain.html",
        worker=worker,
        values=values,
        errors=errors,
        error=error,
        kinds=catalog.choices(complaints.KINDS, language),
        assignments=jobs.limit(10),
        mine=complaints.list_complaints(worker_id=worker.id, limit=10),
        kind_label=lambda code: catalog.label(complaints.KINDS, code, language),
        status_label=lambda code: catalog.label(complaints.STATUSES, code, language),
    )


@bp.route("/complain", methods=["GET", "POST"])
def complain() -> Any:
    """The complaint form for the signed-in resident (others sign in first)."""
    worker = signed_in()
    if worker is None:
        return redirect(url_for("kiosk.signin", then=url_for("kiosk_complaints.complain")))
    values: MultiDict[str, str] = request.form if request.method == "POST" else MultiDict()
    if request.method == "GET":
        return _page(worker, values, {}, None)
    job_id = values.get("job_id", "")
    own_jobs = {
        a.job_id for a in Assignment.select(Assignment.job).where(Assignment.worker == worker)
    }
    data = {
        "by": "worker",
        "worker_id": worker.id,
        "kind": values.get("kind", ""),
        "text": values.get("text", ""),
        "job_id": job_id if job_id in own_jobs else "",  # only a job of their own can be named here
    }
    try:
        complaints.file_complaint(data, None)
    except InvalidInput as exc:
        errors, error = forms.field_messages(exc)
        return _page(worker, values, errors, error), 422
    except KuaigongError as exc:
        return _page(worker, values, {}, resident_message(exc)), exc.status
    flash(_("您的投诉已提交，驿站工作人员会尽快处理"), "ok")
    return redirect(url_for("kiosk_complaints.complain"))
