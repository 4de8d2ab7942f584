"""Staff console: sign-in, the home page with the station's figures, statistics, staff accounts."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from station_node import auth, clock
from station_node.errors import InvalidInput, KuaigongError
from station_node.i18n import lang
from station_node.models import Job, Presence, Staff
from station_node.services import local_today
from station_node.views import forms
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
    """Staff sign in with username and password."""
    from station_node.services.staff import authenticate_password

    error = None
    if request.method == "POST":
        staff = authenticate_password(request.form.get("username", "").strip(), request.form.get("password", ""))
        if staff is not None:
            auth.log_in(staff)
            return redirect(safe_next(request.args.get("next")) if request.args.get("next") else url_for("console.home"))
        error = _("用户名或密码不正确")
    status = 401 if error else 200
    return render_template("console/login.html", error=error, username=request.form.get("username", "")), status


@bp.post("/console/logout")
def logout() -> Any:
    """End the console session."""
    auth.log_out()
    return redirect(url_for("console.login"))


@bp.get("/console/")
@auth.console_login
def home() -> Any:
    """Today at the station: figures, held jobs, escalated jobs."""
    from station_node.services.stats import station_stats

    today = local_today()
    held = Job.select().where(Job.status == "held").count()
    escalated = Job.select().where(Job.status == "escalated").count()
    present = Presence.select().where(Presence.day == today).count()
    return render_template(
        "console/home.html", stats=station_stats(), held=held, escalated=escalated, present=present
    )


@bp.get("/console/stats")
@auth.console_login
def stats() -> Any:
    """Station figures in full."""
    from station_node.services.stats import station_stats

    return render_template("console/stats.html", stats=station_stats(), now=clock.now())


@bp.route("/console/staff", methods=["GET", "POST"])
@auth.console_admin
def staff() -> Any:
    """Admins list staff accounts and create new ones (the API token is shown once)."""
    from station_node.services.staff import create_staff

    values: MultiDict[str, str] = request.form if request.method == "POST" else MultiDict({"role": "staff"})
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

