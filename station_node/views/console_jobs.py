"""Staff console: post a job, review held jobs, a job's page with its ranking, the dispatch
board."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from kuaigong import clock
from kuaigong.states import JobStatus
from station_node import auth, catalog
from station_node.models import Assignment, Employer, Job, Offer, Ranking, Worker
from station_node.services import assignments as svc
from station_node.services import dispatch, posting
from station_node.services.posting import post_job
from station_node.views import console_attention as attention
from station_node.views import console_posting as posting_form
from station_node.views import forms, serializers
from station_node.views.console_lists import page_of
from station_node.views.console_workers import _do
from station_node.views.language import safe_next

bp = Blueprint("console_jobs", __name__, url_prefix="/console")

JOB_DEFAULTS = {
    "headcount": "1",
    "pay_unit": "day",
    "term": "short",
    "urgency": "normal",
    "source": "walk_in",
    "dispatch_mode": "offer",
    "insurance_required": "1",
}


def _job_url(job_id: str) -> str:
    return url_for("console_jobs.job", job_id=job_id)


@bp.get("/jobs")
@auth.console_login
def jobs() -> Any:
    """Jobs, newest first, filtered by status."""
    status = request.args.get("status", "")
    query = Job.select(Job, Employer).join(Employer).order_by(Job.posted_at.desc())
    if status:
        query = query.where(Job.status == status)
    page = page_of(query)
    return render_template("console/jobs.html", rows=page.rows, page=page, status=status)


@bp.route("/jobs/new", methods=["GET", "POST"])
@auth.console_login
def new_job() -> Any:
    """Post a job; screening may hold it; bad fields come back marked, values kept (422)."""

    values = request.form if request.method == "POST" else _starting_values()
    data, own = forms.job_data(values)
    job, errors, error = (
        forms.submit(lambda: post_job(data, g.staff), own)
        if request.method == "POST"
        else forms.blank()
    )
    if job is not None:
        held = job.status == JobStatus.HELD
        flash(
            _("岗位已暂扣待审核") if held else _("岗位已发布，开始派工"), "warn" if held else "ok"
        )
        return redirect(_job_url(job.id))
    employers = Employer.select().where(Employer.blocked == False).order_by(Employer.name)  # noqa: E712
    page = render_template(
        "console/job_form.html",
        values=values,
        errors=errors,
        error=error,
        employer_choices=[(e.id, e.name) for e in employers],
        areas=[(a, a) for a in catalog.areas()],
        pay_units=posting_form.PAY_UNIT_BY_CATEGORY,
    )
    return page, (422 if error else 200)


def _starting_values() -> MultiDict[str, str]:
    """A blank form with today's community, or a past job to repeat (?repeat=), or an
    employer's usual job (?employer=)."""
    values = MultiDict({**JOB_DEFAULTS, "community": posting_form.todays_community()})
    past = request.args.get("repeat", "").strip()
    if past:
        job = Job.get_or_none(Job.id == past)
        if job is not None:
            return posting_form.repeat_values(job)
        flash(_("没有找到要重发的岗位，请重新选择"), "error")
    wanted = request.args.get("employer", "").strip()
    if wanted:
        employer = Employer.get_or_none(Employer.id == wanted)
        if employer is not None:
            return posting_form.employer_values(employer, values)
    return values


@bp.get("/employers/find")
@auth.console_login
def find_employers() -> Any:
    """Employers matching what staff have typed so far, for the job form's search box."""
    return jsonify(employers=posting_form.find_employers(request.args.get("q", "")))


@bp.get("/jobs/held")
@auth.console_login
def held() -> Any:
    """Jobs held by screening, with their reasons, for release or rejection."""
    rows = (
        Job.select(Job, Employer)
        .join(Employer)
        .where(Job.status == JobStatus.HELD)
        .order_by(Job.posted_at)
    )
    page = page_of(rows)
    return render_template("console/held.html", rows=page.rows, page=page)


@bp.get("/jobs/<job_id>")
@auth.console_login
def job(job_id: str) -> Any:
    """A job: ranking with reasons, offers, assignments with their lifecycle buttons."""

    row = Job.get_or_none(Job.id == job_id) or abort(404)
    workers = {w.id: w for w in Worker.select().where(Worker.id.in_(_people(row)))}
    return render_template(
        "console/job.html",
        job=row,
        ranking=dispatch.explain(row.id),
        workers=workers,
        offers=row.offers.order_by(Offer.sent_at.desc()),
        assignments=row.assignments.order_by(Assignment.confirmed_at),
        elapsed=_elapsed(row),
    )


def _people(job: Job) -> list[str]:
    ids = {r.worker_id for r in job.rankings.select(Ranking.worker)}
    ids |= {o.worker_id for o in job.offers.select(Offer.worker)}
    ids |= {a.worker_id for a in job.assignments.select(Assignment.worker)}
    return list(ids)


def _elapsed(job: Job) -> int | None:
    start = job.dispatch_started_at
    if start is None:
        return None
    end = job.filled_at or clock.now()
    return max(int((end - start) / dt.timedelta(seconds=1)), 0)


@bp.post("/jobs/<job_id>/<action>")
@auth.console_login
def job_action(job_id: str, action: str) -> Any:
    """Buttons on a job: release, reject, cancel, assign a worker by hand."""

    reason = request.form.get("reason", "").strip()
    worker_id = request.form.get("worker_id", "").strip()
    actions = {
        "release": (lambda: posting.release_job(job_id, g.staff), _("已放行，开始派工")),
        "reject": (lambda: posting.reject_job(job_id, g.staff, reason), _("已驳回")),
        "cancel": (lambda: posting.cancel_job(job_id, g.staff, reason), _("岗位已取消")),
        "assign": (lambda: dispatch.assign(job_id, worker_id, g.staff), _("已人工派工")),
    }
    if action not in actions:
        abort(404)
    _do(*actions[action])
    back = request.form.get("back")
    return redirect(safe_next(back) if back else _job_url(job_id))


@bp.post("/assignments/<assignment_id>/<action>")
@auth.console_login
def assignment_action(assignment_id: str, action: str) -> Any:
    """Lifecycle buttons: check in, no-show, complete, settle, confirm pay, rate, cancel."""

    row = Assignment.get_or_none(Assignment.id == assignment_id) or abort(404)
    f = request.form
    actions = {
        "checkin": (lambda: svc.check_in_assignment(row.id, g.staff), _("已到岗")),
        "no-show": (lambda: svc.mark_no_show(row.id, g.staff), _("已记为未到岗")),
        "complete": (
            lambda: svc.complete_assignment(row.id, f.get("quantity", ""), g.staff),
            _("已完工"),
        ),
        "settle": (
            lambda: svc.settle_assignment(
                row.id, forms.yuan_to_fen(f.get("pay_yuan", "")), f.get("pay_method", ""), g.staff
            ),
            _("已记录工资发放"),
        ),
        "confirm-pay": (lambda: svc.confirm_pay(row.id, row.worker), _("工人已确认收到工资")),
        "rate": (
            lambda: svc.rate_assignment(row.id, f.get("by", ""), f.get("stars", ""), g.staff),
            _("已评价"),
        ),
        "cancel": (
            lambda: svc.cancel_assignment(
                row.id, f.get("by", "staff"), f.get("reason", ""), g.staff
            ),
            _("已取消派工"),
        ),
    }
    if action not in actions:
        abort(404)
    _do(*actions[action])
    return redirect(_job_url(row.job_id))


@bp.get("/board")
@auth.console_login
def board() -> Any:
    """The live dispatch board; a small script refreshes it from /api/v1/board every second."""

    return render_template("console/board.html", rows=_board_rows(), now=clock.now())


@bp.get("/board.json")
@auth.console_login
def board_json() -> Any:
    """The board's rows for its refresh script, in the console's order, with what is overdue."""
    return jsonify(rows=serializers.plain(_board_rows()))


def _board_rows() -> list[dict[str, Any]]:
    target = int(current_app.config.get("DISPATCH_TARGET_SECONDS", 60))
    return attention.board_rows(dispatch.board(), target)
