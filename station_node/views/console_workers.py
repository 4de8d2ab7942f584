"""Staff console: workers (search, register, their page, check-in) and employers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from peewee import fn
from werkzeug.datastructures import MultiDict

from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from station_node import auth, catalog
from station_node.models import Assignment, Complaint, Employer, IdAccess, Job, Presence, Worker
from station_node.services import complaints as complaint_kinds
from station_node.services import local_today
from station_node.services.registration import (
    block_employer,
    check_in_worker,
    check_out_worker,
    register_employer,
    register_worker,
    reveal_id_number,
    search_workers,
    unblock_employer,
)
from station_node.services.staff import issue_worker_token
from station_node.sync import decisions
from station_node.views import forms
from station_node.views.console_lists import page_of
from station_node.views.language import safe_next

bp = Blueprint("console_workers", __name__, url_prefix="/console")
MAX_FOUND = 500


def _search(q: str) -> Any:
    """Workers by name, mobile, whole ID number (its keyed hash) or worker number."""
    found = search_workers(q, limit=MAX_FOUND)
    number = q.strip().lower()
    if 4 <= len(number) <= 32 and number.isalnum() and number.isascii():
        by_number = Worker.select().where(Worker.id.startswith(number))
        ids = {w.id for w in found}
        return list(found) + [w for w in by_number.limit(MAX_FOUND) if w.id not in ids]
    return found


def _workers_query(q: str) -> Any:
    """The workers list's query: everyone, or those matching `q` (see `_search`)."""
    if not q:
        return Worker.select().order_by(Worker.created_at.desc())
    ids = [w.id for w in _search(q)]
    return Worker.select().where(Worker.id.in_(ids)).order_by(Worker.created_at.desc())


def _back(default: str) -> Any:
    back = request.form.get("back")
    return redirect(safe_next(back) if back else default)


def _do(action: Any, ok_text: str) -> None:
    """Run a button's service call; flash its outcome (a refusal is shown, never a 500)."""
    try:
        action()
        flash(ok_text, "ok")
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")


@bp.get("/workers")
@auth.console_login
def workers() -> Any:
    """Workers, newest first, a page at a time, with search by name, mobile, ID number or
    worker number."""
    q = request.args.get("q", "").strip()[:64]
    page = page_of(_workers_query(q))
    return render_template("console/workers.html", rows=page.rows, page=page, q=q)


@bp.route("/workers/new", methods=["GET", "POST"])
@auth.console_login
def new_worker() -> Any:
    """Register a worker; bad fields come back marked, values kept (422)."""

    values = request.form if request.method == "POST" else MultiDict()
    worker, errors, error = (
        forms.submit(lambda: register_worker(forms.worker_data(values), g.staff))
        if request.method == "POST"
        else forms.blank()
    )
    if worker is not None:
        flash(_("已登记工人：%(name)s", name=worker.name), "ok")
        return redirect(url_for("console_workers.worker", worker_id=worker.id))
    page = render_template(
        "console/worker_form.html",
        values=values,
        errors=errors,
        error=error,
        areas=[(a, a) for a in catalog.areas()],
    )
    return page, (422 if error else 200)


def _worker_page(worker_id: str, revealed: str | None = None, token: str | None = None) -> Any:
    row = Worker.get_or_none(Worker.id == worker_id) or abort(404)
    assignments = (
        Assignment.select()
        .where(Assignment.worker == row)
        .order_by(Assignment.confirmed_at.desc())
        .limit(50)
    )
    present = Presence.get_or_none((Presence.worker == row) & (Presence.day == local_today()))
    accesses = IdAccess.select().where(
        (IdAccess.entity == "worker") & (IdAccess.entity_id == row.id)
    )
    page = render_template(
        "console/worker.html",
        worker=row,
        assignments=assignments,
        present=present,
        accesses=accesses.order_by(IdAccess.at.desc()).limit(20),
        revealed=revealed,
        token=token,
        person_decisions=decisions.person_decisions(row),
    )
    return page, 200, {"Cache-Control": "no-store"}


def _show_once(worker_id: str, name: str, make: Callable[[], str]) -> Any:
    """The worker's page showing `make()` once as `name` (full ID number, token); a refusal is
    flashed."""
    try:
        value = make()
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
        return redirect(url_for("console_workers.worker", worker_id=worker_id))
    return _worker_page(worker_id, **{name: value})


@bp.get("/workers/<worker_id>")
@auth.console_login
def worker(worker_id: str) -> Any:
    """A worker's page: masked ID, reliability, assignments, today's check-in."""
    return _worker_page(worker_id)


@bp.post("/workers/<worker_id>/checkin")
@auth.console_login
def check_in(worker_id: str) -> Any:
    """Check the worker in to today's present pool."""

    _do(lambda: check_in_worker(worker_id, g.staff), _("已签到"))
    return _back(url_for("console_workers.worker", worker_id=worker_id))


@bp.post("/workers/<worker_id>/checkout")
@auth.console_login
def check_out(worker_id: str) -> Any:
    """Take the worker out of today's present pool (they left the station)."""

    _do(lambda: check_out_worker(worker_id, g.staff), _("已签退"))
    return _back(url_for("console_workers.worker", worker_id=worker_id))


@bp.post("/workers/<worker_id>/reveal")
@auth.console_admin
def reveal(worker_id: str) -> Any:
    """Admins see the full ID number for a stated purpose; the look is logged."""

    purpose = request.form.get("purpose", "").strip()
    return _show_once(
        worker_id, "revealed", lambda: reveal_id_number("worker", worker_id, g.staff, purpose)
    )


@bp.post("/workers/<worker_id>/token")
@auth.console_login
def token(worker_id: str) -> Any:
    """Issue the worker a personal token for the kiosk; shown once on the page."""

    return _show_once(worker_id, "token", lambda: issue_worker_token(worker_id, g.staff))


@bp.get("/presence")
@auth.console_login
def presence() -> Any:
    """Today's present pool, with search to check more workers in."""
    q = request.args.get("q", "").strip()[:64]
    today = local_today()
    rows = (
        Presence.select(Presence, Worker)
        .join(Worker)
        .where(Presence.day == today)
        .order_by(Presence.checked_in_at.desc())
    )
    page = page_of(rows)
    found = list(_search(q))[:20] if q else []
    return render_template("console/presence.html", rows=page.rows, page=page, found=found, q=q)


@bp.get("/employers")
@auth.console_login
def employers() -> Any:
    """Employers, newest first, a page at a time, with search by name, contact or mobile."""
    q = request.args.get("q", "").strip()[:64]
    query = Employer.select().order_by(Employer.created_at.desc())
    if q:
        query = query.where(
            Employer.name.contains(q)
            | Employer.contact_name.contains(q)
            | Employer.mobile.contains(q)
        )
    page = page_of(query)
    return render_template("console/employers.html", rows=page.rows, page=page, q=q)


@bp.route("/employers/new", methods=["GET", "POST"])
@auth.console_login
def new_employer() -> Any:
    """Register an employer (person or organisation); bad fields come back marked (422)."""

    values = request.form if request.method == "POST" else MultiDict({"kind": "person"})
    employer, errors, error = (
        forms.submit(lambda: register_employer(forms.employer_data(values), g.staff))
        if request.method == "POST"
        else forms.blank()
    )
    if employer is not None:
        flash(_("已登记用工方：%(name)s", name=employer.name), "ok")
        if employer.blocked:
            flash(
                _(
                    "该用工方在全市禁止名单上，已自动停用（%(why)s），其发布的岗位须经审核",
                    why=employer.block_reason,
                ),
                "error",
            )
        return redirect(url_for("console_workers.employers"))
    page = render_template("console/employer_form.html", values=values, errors=errors, error=error)
    return page, (422 if error else 200)


@bp.get("/employers/<employer_id>")
@auth.console_login
def employer(employer_id: str) -> Any:
    """An employer's page: who they are, whether they are blocked, their jobs (a page at a
    time, each repeatable), what their workers were paid, and complaints about them."""
    row = Employer.get_or_none(Employer.id == employer_id) or abort(404)
    jobs = page_of(Job.select().where(Job.employer == row).order_by(Job.posted_at.desc()), 20)
    history = (
        Assignment.select(
            fn.COUNT(Assignment.id).alias("placed"),
            fn.SUM(Assignment.pay_fen).alias("paid_fen"),
        )
        .join(Job)
        .where(Job.employer == row)
        .dicts()
        .first()
    )
    complaints = (
        Complaint.select()
        .where(Complaint.employer == row)
        .order_by(Complaint.created_at.desc())
        .limit(50)
    )
    language = lang()
    return render_template(
        "console/employer.html",
        employer=row,
        jobs=jobs.rows,
        page=jobs,
        posted=jobs.total,
        history=history or {},
        complaints=list(complaints),
        kind_label=lambda code: catalog.label(complaint_kinds.KINDS, code, language),
    )


@bp.post("/employers/<employer_id>/block")
@auth.console_admin
def block(employer_id: str) -> Any:
    """Block an employer (admin): their postings are held for review."""

    reason = request.form.get("reason", "").strip()
    _do(lambda: block_employer(employer_id, reason, g.staff), _("已停用该用工方"))
    return _back(url_for("console_workers.employers"))


@bp.post("/employers/<employer_id>/unblock")
@auth.console_admin
def unblock(employer_id: str) -> Any:
    """Lift an employer's block (admin)."""

    _do(lambda: unblock_employer(employer_id, g.staff), _("已恢复该用工方"))
    return _back(url_for("console_workers.employers"))
