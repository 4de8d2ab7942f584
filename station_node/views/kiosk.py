"""The self-service kiosk (自助服务一体机): residents see open jobs, sign in, grab, answer offers.

Large type, few steps. A resident signs in with ID number + mobile (or their personal token);
the kiosk forgets them after a few idle minutes or when they press 退出.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from kuaigong import clock
from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from kuaigong.states import LIVE_JOBS, OfferStatus, WorkerStatus
from station_node import events, identity
from station_node.models import Assignment, Job, Offer, Worker
from station_node.services import dispatch, phone_signin, signin_limits
from station_node.services.assignments import confirm_pay as confirm
from station_node.services.staff import authenticate_resident
from station_node.views.language import safe_next

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

IDLE_SECONDS = 180


def _seconds() -> float:
    """The app's clock as seconds since the Unix epoch (sessions store plain numbers)."""
    return clock.now().replace(tzinfo=dt.UTC).timestamp()


def _signed_in(touch: bool = True) -> Worker | None:
    """The resident using the kiosk now, or None (idle sessions expire). A live redraw passes
    touch=False: only the resident's own taps keep them signed in."""
    worker_id, seen = session.get("kiosk_worker"), session.get("kiosk_seen", 0)
    if worker_id is None or _seconds() - seen > IDLE_SECONDS:
        session.pop("kiosk_worker", None)
        return None
    worker = Worker.get_or_none((Worker.id == worker_id) & (Worker.status == WorkerStatus.ACTIVE))
    if worker is not None and touch:
        session["kiosk_seen"] = _seconds()
    return worker


def _open_jobs() -> Any:
    return (
        Job.select()
        .where(Job.status.in_(LIVE_JOBS))
        .order_by(Job.urgency.desc(), Job.posted_at.desc())
        .limit(50)
    )


def _attempt(action: Any, ok_text: str) -> bool:
    try:
        action()
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
        return False
    flash(ok_text, "ok")
    return True


@bp.get("/")
def home() -> Any:
    """Open jobs in large type, and the sign-in button or the signed-in resident's name."""
    if request.args.get("fragment"):  # live.js redraws the list when the board changes
        return render_template("kiosk/_jobs.html", jobs=_open_jobs(), worker=_signed_in(False))
    return render_template(
        "kiosk/home.html", jobs=_open_jobs(), worker=_signed_in(), last_id=events.last_id()
    )


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    """Sign in with ID number and mobile, or with a personal token; failures are limited."""
    error, status, retry = None, 200, None
    if request.method == "POST":
        worker, error, status, retry = _try_signin()
        if worker is not None:
            session["kiosk_worker"], session["kiosk_seen"] = worker.id, _seconds()
            return redirect(
                safe_next(request.args.get("then"))
                if request.args.get("then")
                else url_for("kiosk.mine")
            )
    headers = {"Retry-After": str(retry)} if retry else {}
    return render_template("kiosk/signin.html", error=error), status, headers


def _try_signin() -> tuple[Worker | None, str | None, int, int | None]:
    """The resident these credentials name (counted against the ID number and this kiosk)."""

    token = request.form.get("token", "").strip()
    id_number = request.form.get("id_number", "").strip()[:64]
    mobile = request.form.get("mobile", "")
    wrong = _("身份证号或手机号不对，请再试一次，或请工作人员帮忙")
    if not token and not (id_number and mobile.strip()):
        return None, wrong, 401, None
    account = None if token else (identity.hash_id(id_number), identity.mask_id(id_number))
    out = signin_limits.guarded(
        "kiosk",
        account,
        request.remote_addr,
        lambda: authenticate_resident(token, id_number, mobile),
    )
    if out.refused is not None:
        return None, out.refused.message(lang()), 429, out.refused.retry_after
    if out.wait is not None:
        return (
            None,
            _("身份证号或手机号不对。") + out.wait.message(lang()),
            401,
            out.wait.retry_after,
        )
    if out.who is None:
        return None, wrong, 401, None
    return out.who, None, 200, None


@bp.post("/signout")
def signout() -> Any:
    """Forget the resident on this kiosk."""
    session.pop("kiosk_worker", None)
    return redirect(url_for("kiosk.home"))


@bp.post("/jobs/<job_id>/grab")
def grab(job_id: str) -> Any:
    """Grab a place on a job for the signed-in resident."""

    worker = _signed_in()
    if worker is None:
        return redirect(url_for("kiosk.signin"))
    ok = _attempt(lambda: dispatch.grab(job_id, worker.id, None), _("抢单成功！请按时到岗"))
    return redirect(url_for("kiosk.mine" if ok else "kiosk.home"))


@bp.get("/mine")
def mine() -> Any:
    """The resident's offers to answer and their jobs."""
    fragment = bool(request.args.get("fragment"))
    worker = _signed_in(touch=not fragment)
    if worker is None:
        return ("", 401) if fragment else redirect(url_for("kiosk.signin"))
    return _mine(worker, fragment)


def _mine(worker: Worker, fragment: bool = False, phone_code: Any = None) -> Any:
    offers = Offer.select().where((Offer.worker == worker) & (Offer.status == OfferStatus.PENDING))
    jobs = (
        Assignment.select()
        .where(Assignment.worker == worker)
        .order_by(Assignment.confirmed_at.desc())
    )
    return render_template(
        "kiosk/_mine.html" if fragment else "kiosk/mine.html",
        worker=worker,
        offers=offers,
        assignments=jobs.limit(20),
        last_id=events.last_id(),
        phone_code=phone_code,
        now=clock.now(),
    )


@bp.post("/phone-code")
def phone_code() -> Any:
    """Show the signed-in resident a one-time code to sign in on their own phone (/m/)."""
    worker = _signed_in()
    if worker is None:
        return redirect(url_for("kiosk.signin"))
    code, expires = phone_signin.kiosk_code(worker)
    return _mine(worker, phone_code={"code": code, "expires_at": expires})


@bp.post("/offers/<offer_id>/<answer>")
def answer_offer(offer_id: str, answer: str) -> Any:
    """Accept or decline an offer made to the signed-in resident."""

    worker = _signed_in()
    if worker is None:
        return redirect(url_for("kiosk.signin"))
    if answer == "accept":
        _attempt(lambda: dispatch.accept_offer(offer_id, worker.id, None), _("已接单！请按时到岗"))
    elif answer == "decline":
        _attempt(lambda: dispatch.decline_offer(offer_id, worker.id, None), _("已谢绝"))
    return redirect(url_for("kiosk.mine"))


@bp.post("/assignments/<assignment_id>/confirm-pay")
def confirm_pay(assignment_id: str) -> Any:
    """The resident confirms they received their pay."""

    worker = _signed_in()
    if worker is None:
        return redirect(url_for("kiosk.signin"))
    row = Assignment.get_or_none((Assignment.id == assignment_id) & (Assignment.worker == worker))
    if row is not None:
        _attempt(lambda: confirm(row.id, worker), _("已确认收到工资"))
    return redirect(url_for("kiosk.mine"))
