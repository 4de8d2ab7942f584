"""Staff console: complaints — the list (open first), taking one down, and resolving it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from station_node import auth, catalog
from station_node.models import Complaint, Employer, Job, Staff, Worker
from station_node.services import complaints
from station_node.views import forms
from station_node.views.console_lists import page_of_list

MAX_LISTED = 100_000

bp = Blueprint("console_complaints", __name__, url_prefix="/console")

_PREFILL = ("by", "kind", "job_id", "worker_id", "employer_id")


def labels() -> dict[str, Any]:
    """The complaint catalogs' labels for the templates, in the page's language."""
    language = lang()
    return {
        "kind_label": lambda code: catalog.label(complaints.KINDS, code, language),
        "by_label": lambda code: catalog.label(complaints.FILED_BY, code, language),
        "status_label": lambda code: catalog.label(complaints.STATUSES, code, language),
        "kinds": catalog.choices(complaints.KINDS, language),
        "filers": catalog.choices(complaints.FILED_BY, language),
    }


@bp.get("/complaints")
@auth.console_login
def complaints_list() -> Any:
    """Complaints, open ones first; ?status=open|resolved narrows the list."""
    status = request.args.get("status", "")
    rows = complaints.list_complaints(
        status=status if status in complaints.STATUSES else None, limit=MAX_LISTED
    )
    page = page_of_list(rows)
    return render_template(
        "console/complaints.html",
        rows=page.rows,
        page=page,
        status=status,
        counts=complaints.complaint_counts(),
        suggests_blocking=complaints.suggests_blocking,
        **labels(),
    )


@bp.route("/complaints/new", methods=["GET", "POST"])
@auth.console_login
def new_complaint() -> Any:
    """Take down a complaint; bad fields come back marked with the values kept (422)."""
    if request.method == "POST":
        values: MultiDict[str, str] = request.form
    else:
        values = MultiDict({k: request.args[k] for k in _PREFILL if request.args.get(k)})
    data = {k: values.get(k, "").strip() for k in (*_PREFILL, "text")}
    row, errors, error = (
        forms.submit(lambda: complaints.file_complaint(data, g.staff))
        if request.method == "POST"
        else forms.blank()
    )
    if row is not None:
        flash(_("已登记投诉"), "ok")
        return redirect(url_for("console_complaints.complaint", complaint_id=row.id))
    page = render_template(
        "console/complaints_new.html",
        values=values,
        errors=errors,
        error=error,
        employers=Employer.select().order_by(Employer.name).limit(500),
        jobs=Job.select().order_by(Job.posted_at.desc()).limit(200),
        workers=Worker.select().order_by(Worker.created_at.desc()).limit(500),
        **labels(),
    )
    return page, (422 if error else 200)


@bp.get("/complaints/<complaint_id>")
@auth.console_login
def complaint(complaint_id: str) -> Any:
    """One complaint: who, about what, the resolve form, and the prompt to consider a block."""
    row = Complaint.get_or_none(Complaint.id == complaint_id) or abort(404)
    names = dict(
        Staff.select(Staff.username, Staff.display_name)
        .where(Staff.username.in_([row.taken_by, row.resolved_by]))
        .tuples()
    )
    return render_template(
        "console/complaints_show.html",
        c=row,
        block=complaints.suggests_blocking(row),
        staff_names=names,
        **labels(),
    )


@bp.post("/complaints/<complaint_id>/resolve")
@auth.console_login
def resolve(complaint_id: str) -> Any:
    """Resolve a complaint with what was done; a refusal is shown on the page, never a 500."""
    try:
        complaints.resolve_complaint(complaint_id, request.form.get("resolution", ""), g.staff)
        flash(_("投诉已办结"), "ok")
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
    return redirect(url_for("console_complaints.complaint", complaint_id=complaint_id))
