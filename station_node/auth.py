"""Who is asking: staff by console session or bearer token, workers by their own token.

Staff roles are `staff` and `admin`. A worker token lets a resident act only for themselves
(grab a job, answer an offer, confirm pay). The JSON API answers 401/403 as JSON errors; the
console sends people without a session to the login page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec

from flask import g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError

from kuaigong.errors import Forbidden, KuaigongError
from station_node.models import Staff, Worker
from station_node.services import devices as devices_service
from station_node.services import staff as staff_service

P = ParamSpec("P")

SESSION_STAFF = "staff_id"
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class Unauthorized(KuaigongError):
    """No valid credentials came with the request (401)."""

    def __init__(self) -> None:
        super().__init__(
            "unauthorized",
            "请先登录：控制台登录，或在请求头中提供 Authorization: Bearer <令牌>",
            "Sign in first: log in on the console or send Authorization: Bearer <token>",
            status=401,
        )


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def identify() -> None:
    """Resolve g.staff / g.worker once per request (bearer token first, then the session)."""
    if "auth_done" in g:
        return
    g.auth_done = True
    g.staff, g.worker, g.auth_via = None, None, None
    token = _bearer_token()
    if token is not None:
        staff = staff_service.authenticate_token(token)
        if staff is not None:
            g.staff, g.auth_via = staff, "token"
            return
        worker = staff_service.authenticate_worker_token(token)
        if worker is not None:
            g.worker, g.auth_via = worker, "token"
        return
    staff_id = session.get(SESSION_STAFF)
    if staff_id is not None:
        staff = Staff.get_or_none((Staff.id == staff_id) & (Staff.active == True))  # noqa: E712
        if staff is None:
            session.pop(SESSION_STAFF, None)
        else:
            g.staff, g.auth_via = staff, "session"


def current_staff() -> Staff | None:
    """The signed-in staff member, or None."""
    identify()
    return g.staff


def current_worker() -> Worker | None:
    """The worker whose own token came with this request, or None."""
    identify()
    return g.worker


def signed_in_staff() -> Staff:
    """The staff member a staff-only view was let in for (401 if there is none after all)."""
    staff = current_staff()
    if staff is None:
        raise Unauthorized()
    return staff


def acting_worker() -> Worker:
    """The worker whose own token came with this request (401 if there is none)."""
    worker = current_worker()
    if worker is None:
        raise Unauthorized()
    return worker


def _check_session_csrf() -> None:
    """API calls riding on a console session must carry the CSRF token (X-CSRFToken header)."""
    if g.auth_via == "session" and request.method in UNSAFE_METHODS:
        try:
            validate_csrf(request.headers.get("X-CSRFToken"))
        except ValidationError as exc:
            raise CSRFError(str(exc)) from exc


def _not_staff() -> Forbidden:
    return Forbidden(
        "staff_only", "只有驿站工作人员可以进行此操作", "Only station staff may do this"
    )


def api_staff(view: Callable[P, Any]) -> Callable[P, Any]:
    """API view for staff (token or session); 401 without credentials, 403 for a worker."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        identify()
        if g.staff is None:
            raise _not_staff() if g.worker is not None else Unauthorized()
        _check_session_csrf()
        return view(*args, **kwargs)

    return wrapper


def api_admin(view: Callable[P, Any]) -> Callable[P, Any]:
    """API view for station admins only."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        identify()
        if g.staff is None:
            raise _not_staff() if g.worker is not None else Unauthorized()
        if g.staff.role != "admin":
            raise Forbidden(
                "admin_only", "只有驿站管理员可以进行此操作", "Only a station admin may do this"
            )
        _check_session_csrf()
        return view(*args, **kwargs)

    return wrapper


def api_staff_or_worker(view: Callable[P, Any]) -> Callable[P, Any]:
    """API view open to staff and to a worker acting for themselves."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        identify()
        if g.staff is None and g.worker is None:
            raise Unauthorized()
        _check_session_csrf()
        return view(*args, **kwargs)

    return wrapper


def require_self(worker_id: str | None) -> None:
    """A worker token may act only for its own worker: 403 otherwise."""
    worker = current_worker()
    if worker is not None and current_staff() is None and worker_id not in (None, worker.id):
        raise Forbidden(
            "not_your_account",
            "工人令牌只能为本人操作",
            "A worker token can act only for that worker",
        )


def api_device(*kinds: str) -> Callable[[Callable[P, Any]], Callable[P, Any]]:
    """API view for a paired device of one of `kinds` (any kind when none are named).

    The device's bearer token sets `g.device`; no token, an unknown one or a revoked device
    gets 401, a device of another kind 403 (messages in Chinese, English beside them).
    """

    def decorate(view: Callable[P, Any]) -> Callable[P, Any]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
            g.device = devices_service.authenticate(_bearer_token(), kinds)
            return view(*args, **kwargs)

        return wrapper

    return decorate


def console_login(view: Callable[P, Any]) -> Callable[P, Any]:
    """Console page for signed-in staff; others go to the login page."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        if current_staff() is None or g.auth_via != "session":
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapper


def console_admin(view: Callable[P, Any]) -> Callable[P, Any]:
    """Console page for station admins only."""

    @functools.wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
        if current_staff() is None or g.auth_via != "session":
            return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
        if g.staff.role != "admin":
            raise Forbidden(
                "admin_only", "只有驿站管理员可以进行此操作", "Only a station admin may do this"
            )
        return view(*args, **kwargs)

    return wrapper


def log_in(staff: Staff) -> None:
    """Start a console session for this staff member."""
    lang = session.get("lang")
    session.clear()
    session[SESSION_STAFF] = staff.id
    if lang:
        session["lang"] = lang
    g.pop("auth_done", None)


def log_out() -> None:
    """End the console session (keeping the language choice)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
