"""Signing in and out, and the guards every admin page uses (admin may change, auditor reads)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFProtect
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired

from central_hub.models import Admin
from central_hub.services import admins, signin_limits
from central_hub.states import Role
from kuaigong.errors import Forbidden
from kuaigong.i18n import lang as lang_code

# The parameters of a guarded view, kept so its callers stay type-checked.
P = ParamSpec("P")

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    username = StringField("username", validators=[DataRequired()])
    password = PasswordField("password", validators=[DataRequired()])


@bp.before_app_request
def _load_admin() -> None:
    admin_id = session.get("admin_id")
    g.admin = Admin.get_or_none((Admin.id == admin_id) & Admin.active) if admin_id else None


def login_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Send visitors who are not signed in to the login page."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if g.get("admin") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Only the admin role may change things; auditors get a 403 naming why."""

    @functools.wraps(view)
    @login_required
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if g.admin.role != Role.ADMIN:
            raise Forbidden("read_only", "审计员只能查看，不能修改", "Auditors may only read")
        return view(*args, **kwargs)

    return wrapped


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    form = LoginForm()
    error, status, headers = None, 200, {}
    if form.validate_on_submit():
        try:
            address = signin_limits.client_address(
                request.remote_addr, request.headers.get("X-Forwarded-For")
            )
            admin = admins.sign_in(form.username.data or "", form.password.data or "", address)
        except (signin_limits.TooManyAttempts, signin_limits.WrongCredentials) as exc:
            error, status = exc.message(lang_code()), exc.status
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else {}
        else:
            session.clear()
            session["admin_id"] = admin.id
            target = request.args.get("next") or ""
            same_site = (
                target.startswith("/")
                and not target.startswith("//")
                and "\\" not in target
                and target.isprintable()
            )  # "/\\host" is another host; a line break splits headers
            return redirect(target if same_site else url_for("stations.index"))
    elif request.method == "POST":
        error, status = "missing", 401
    return render_template("login.html", form=form, error=error), status, headers


@bp.get("/signin-locks")
@login_required
def signin_locks() -> ResponseReturnValue:
    """Usernames and addresses waiting or locked now, and the audit of locks and unlocks."""
    return render_template(
        "signin_locks.html", rows=signin_limits.blocked_rows(), trail=signin_limits.audit_trail()
    )


@bp.post("/signin-locks/<int:row_id>/unlock")
@admin_required
def unlock_signin(row_id: int) -> ResponseReturnValue:
    """An admin lifts a block; the unlock is audited under their name."""
    signin_limits.unlock(row_id, g.admin)
    return redirect(url_for("auth.signin_locks"))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    return redirect(url_for("auth.login"))
