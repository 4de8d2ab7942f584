"""Staff console: sign-in, the home page with the station's figures, statistics, staff accounts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from kuaigong import clock
from kuaigong.errors import InvalidInput, KuaigongError
from kuaigong.i18n import lang
from kuaigong.states import JobStatus
from station_node import auth
from station_node.models import Job, Presence, Staff
from station_node.services import local_today, signin_limits
from station_node.services.staff import authenticate_password, create_staff
from station_node.services.stats import station_stats
from station_node.views import console_attention, console_exports, console_lists, forms
from station_node.views.language import safe_next

bp = Blueprint("console", __name__)


@bp.get("/")
def index() -> Any:
    """The station's front page is the console; residents use /kiosk, the screen /board."""
    return redirect(url_for("console.home"))


@bp.get("/healthz")
def healthz() -> Any:
    """Plain liveness for the LAN monitor (the API has its own under /api/v1/)."""
    return {"status": "ok"}


@bp.route("/console/login", methods=["GET", "POST"])
def login() -> Any:
    """Staff sign in with username and password; failures are limited per account and address."""

    error, status, retry = None, 200, None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        out = signin_limits.guarded(
            "console",
            (username, username) if username else None,
            request.remote_addr,
            lambda: authenticate_password(username, request.form.get("password", "")),
        )
        if out.who is not None:
            auth.log_in(out.who)
            return redirect(
                safe_next(request.args.get("next"))
                if request.args.get("next")
                else url_for("console.home")
            )
        if out.refused is not None:
            error, status, retry = out.refused.message(lang()), 429, out.refused.retry_after
        elif out.wait is not None:
            error, status, retry = (
                _("用户名或密码不正确。") + out.wait.message(lang()),
                401,
                out.wait.retry_after,
            )
        else:
            error, status = _("用户名或密码不正确"), 401
    page = render_template(
        "console/login.html", error=error, username=request.form.get("username", "")
    )
    return page, status, ({"Retry-After": str(retry)} if retry else {})


@bp.post("/console/logout")
def logout() -> Any:
    """End the console session."""
    auth.log_out()
    return redirect(url_for("console.login"))


@bp.get("/console/")
@auth.console_login
def home() -> Any:
    """Today at the station: figures, held jobs, escalated jobs."""

    today = local_today()
    held = Job.select().where(Job.status == JobStatus.HELD).count()
    present = (
        Presence.select().where((Presence.day == today) & Presence.checked_out_at.is_null()).count()
    )
    now_list = console_attention.needs_you_now()
    return render_template(
        "console/home.html",
        stats=station_stats(),
        held=held,
        escalated=now_list["by_hand_total"],
        present=present,
        now_list=now_list,
    )


@bp.get("/console/export/<what>.<fmt>")
@auth.console_login
def export(what: str, fmt: str) -> Any:
    """Workers, jobs, assignments or the figures as CSV or XLSX, in the words pages use."""
    if what not in console_exports.TABLES or fmt not in ("csv", "xlsx"):
        abort(404)
    columns, rows = console_exports.TABLES[what]()
    day = local_today().isoformat()
    return console_lists.export(f"{console_exports.FILE_NAMES[what]}-{day}", fmt, columns, rows)


@bp.get("/console/stats")
@auth.console_login
def stats() -> Any:
    """Station figures in full."""

    return render_template("console/stats.html", stats=station_stats(), now=clock.now())


@bp.route("/console/staff", methods=["GET", "POST"])
@auth.console_admin
def staff() -> Any:
    """Admins list staff accounts and create new ones (the API token is shown once)."""

    values: MultiDict[str, str] = (
        request.form if request.method == "POST" else MultiDict({"role": "staff"})
    )
    errors: dict[str, str] = {}
    error, token, status = None, None, 200
    if request.method == "POST":
        try:
            created, token = create_staff(
                username=values.get("username", "").strip(),
                display_name=values.get("display_name", "").strip(),
                role=values.get("role", ""),
                password=values.get("password", ""),
            )
            flash(_("已创建工作人员账号：%(name)s", name=created.display_name), "ok")
            values = MultiDict({"role": "staff"})
        except InvalidInput as exc:
            (errors, error), status = forms.field_messages(exc), 422
        except KuaigongError as exc:
            error, status = exc.message(lang()), exc.status
    rows = Staff.select().order_by(Staff.created_at)
    return render_template(
        "console/staff.html", rows=rows, values=values, errors=errors, error=error, token=token
    ), status


@bp.get("/console/signin-locks")
@auth.console_admin
def signin_locks() -> Any:
    """Admins see the accounts and addresses that must wait or are locked, and the audit trail."""

    return render_template(
        "console/signin_locks.html",
        rows=signin_limits.blocked_rows(),
        trail=signin_limits.audit_trail(),
        now=clock.now(),
    )


@bp.post("/console/signin-locks/<int:row_id>/unlock")
@auth.console_admin
def unlock_signin(row_id: int) -> Any:
    """An admin lifts a sign-in block; the unlock is logged under their name."""

    try:
        row = signin_limits.unlock(row_id, auth.signed_in_staff())
        flash(_("已解锁：%(label)s", label=row.label), "ok")
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
    return redirect(url_for("console.signin_locks"))
