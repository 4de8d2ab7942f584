"""The phone page (/m/): a worker's own smartphone on the station's Wi-Fi, no app, no internet.

A QR code on the board or on a printed slip opens a job here. The worker signs in once with
their mobile and a one-time code (by SMS, or shown on the kiosk) and then sees offers with a
countdown, answers them in one tap and grabs open jobs in one tap; `static/live.js` keeps the
lists current from the station's event stream. Taps are plain forms (CSRF like every other
form), sent by live.js with fetch so the answer shows without leaving the page.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import (
    Blueprint,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from kuaigong import clock
from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from kuaigong.states import LIVE_JOBS, OfferStatus, WorkerStatus
from station_node import events
from station_node.models import Assignment, Job, Offer, Worker
from station_node.services import dispatch, phone_signin
from station_node.views.language import safe_next

bp = Blueprint("phone", __name__, url_prefix="/m")

SESSION_HOURS = 12  # a phone is its owner's: one sign-in lasts the working day
NUMBER_LENGTH = 8  # a job's number as slips and the console show it: the start of its id
_KEY, _SINCE = "phone_worker", "phone_since"


def job_number(job_id: str) -> str:
    """The short number people see for a job (the first characters of its id, upper-case)."""
    return str(job_id)[:NUMBER_LENGTH].upper()


def _seconds() -> float:
    return clock.now().replace(tzinfo=dt.UTC).timestamp()


def session_worker_id() -> str | None:
    """The worker signed in on this phone, if the sign-in has not run out (no database read)."""
    worker_id = session.get(_KEY)
    if worker_id is None or _seconds() - float(session.get(_SINCE, 0)) > SESSION_HOURS * 3600:
        return None
    return str(worker_id)


def _worker() -> Worker | None:
    worker_id = session_worker_id()
    if worker_id is None:
        return None
    return Worker.get_or_none((Worker.id == worker_id) & (Worker.status == WorkerStatus.ACTIVE))


def _open_jobs() -> Any:
    return (
        Job.select()
        .where(Job.status.in_(LIVE_JOBS))
        .order_by(Job.urgency.desc(), Job.posted_at.desc())
        .limit(50)
    )


def _offers(worker: Worker | None) -> list[dict[str, Any]]:
    if worker is None:
        return []
    now = clock.now()
    rows = (
        Offer.select(Offer, Job)
        .join(Job)
        .where(
            (Offer.worker == worker.id)
            & (Offer.status == OfferStatus.PENDING)
            & (Offer.expires_at > now)
        )
        .order_by(Offer.expires_at)
    )
    return [
        {"offer": o, "job": o.job, "seconds_left": int((o.expires_at - now).total_seconds())}
        for o in rows
    ]


def _booked(worker: Worker | None) -> list[Assignment]:
    if worker is None:
        return []
    return list(
        Assignment.select(Assignment, Job)
        .join(Job)
        .where((Assignment.worker == worker.id) & (Assignment.status == "confirmed"))
        .order_by(Assignment.confirmed_at.desc())
        .limit(10)
    )


def _lists(worker: Worker | None) -> dict[str, Any]:
    booked = _booked(worker)
    return {
        "worker": worker,
        "offers": _offers(worker),
        "jobs": _open_jobs(),
        "booked": booked,
        "booked_jobs": {a.job_id for a in booked},
        "number": job_number,
    }


@bp.get("/")
def home() -> Any:
    """My offers (with a countdown), open jobs to grab, my confirmed jobs."""
    worker = _worker()
    context = _lists(worker)
    if request.args.get("fragment"):
        return render_template("phone/_lists.html", **context)
    topics = "board,worker" if worker is not None else "board"
    return render_template("phone/home.html", topics=topics, last_id=events.last_id(), **context)


def _job_by_number(number: str) -> Job:
    text = (number or "").strip().lower()
    if not text or len(text) > 32 or not text.isalnum():
        abort(404)
    if len(text) == 32:
        job = Job.get_or_none(Job.id == text)
    else:
        found = list(Job.select().where(Job.id.startswith(text)).limit(2))
        job = found[0] if len(found) == 1 else None
    if job is None:
        abort(404)
    return job


@bp.get("/jobs/<number>")
def job(number: str) -> Any:
    """One job, opened from a QR code: its facts and the grab button."""
    found = _job_by_number(number)
    worker = _worker()
    context = {
        "job": found,
        "worker": worker,
        "number": job_number,
        "offer": next((o for o in _offers(worker) if o["job"].id == found.id), None),
        "booked": worker is not None
        and Assignment.select()
        .where((Assignment.job == found.id) & (Assignment.worker == worker.id))
        .exists(),
    }
    if request.args.get("fragment"):
        return render_template("phone/_job.html", **context)
    topics = "board,worker" if worker is not None else "board"
    return render_template("phone/job.html", topics=topics, last_id=events.last_id(), **context)


def _answer(ok: bool, text: str, status: int = 200) -> Any:
    """JSON for live.js taps, a redirect with a message for a plain form post."""
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"ok": ok, "message": text}), status
    flash(text, "ok" if ok else "error")
    return redirect(safe_next(request.form.get("back")) if request.form.get("back") else "/m/")


def _tap(action: Any, ok_text: str) -> Any:
    try:
        action()
    except KuaigongError as exc:
        return _answer(False, exc.message(lang()), exc.status)
    return _answer(True, ok_text)


def _need_worker() -> Worker | Any:
    worker = _worker()
    if worker is None:
        if request.accept_mimetypes.best == "application/json":
            return jsonify({"ok": False, "message": _("请先登录")}), 401
        return redirect(url_for("phone.signin", then=request.form.get("back") or "/m/"))
    return worker


@bp.post("/jobs/<number>/grab")
def grab(number: str) -> Any:
    """One tap: a place on this grab-mode job for the signed-in worker."""
    worker = _need_worker()
    if not isinstance(worker, Worker):
        return worker
    found = _job_by_number(number)
    return _tap(lambda: dispatch.grab(found.id, worker.id, None), _("抢单成功！请按时到岗"))


@bp.post("/offers/<offer_id>/<answer>")
def answer_offer(offer_id: str, answer: str) -> Any:
    """One tap: accept or decline an offer made to the signed-in worker."""
    worker = _need_worker()
    if not isinstance(worker, Worker):
        return worker
    if answer == "accept":
        return _tap(
            lambda: dispatch.accept_offer(offer_id, worker.id, None), _("已接单！请按时到岗")
        )
    if answer == "decline":
        return _tap(lambda: dispatch.decline_offer(offer_id, worker.id, None), _("已谢绝"))
    abort(404)


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    """Mobile + one-time code; the code comes by SMS (button) or from the kiosk."""
    error, status, headers = None, 200, {}
    then = safe_next(request.args.get("then") or "/m/")
    mobile = request.form.get("mobile", "")[:32] or session.pop("phone_typed", "")
    if request.method == "POST":
        out = phone_signin.sign_in(mobile, request.form.get("code", ""), request.remote_addr)
        if out.who is not None:
            session[_KEY], session[_SINCE] = out.who.id, _seconds()
            session.permanent = True
            return redirect(then)
        refusal = out.refused or out.wait
        status = 429 if out.refused is not None else 401
        error = _("手机号或验证码不对，或验证码已过期")
        if refusal is not None:
            error = refusal.message(lang()) if out.refused else error + refusal.message(lang())
            headers = {"Retry-After": str(refusal.retry_after)}
    return (
        render_template("phone/signin.html", error=error, mobile=mobile, then=then),
        status,
        headers,
    )


@bp.post("/signin/code")
def send_code() -> Any:
    """Text a code to the mobile typed (the page says the same whether it is registered)."""
    mobile = request.form.get("mobile", "")[:32]
    then = safe_next(request.args.get("then") or "/m/")
    session["phone_typed"] = mobile  # the sign-in form shows it again beside the code box
    try:
        phone_signin.send_code(mobile)
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
    else:
        flash(_("如果这个手机号已在驿站登记，验证码短信马上就到"), "ok")
    return redirect(url_for("phone.signin", then=then))


@bp.post("/signout")
def signout() -> Any:
    """Forget the worker on this phone."""
    session.pop(_KEY, None)
    session.pop(_SINCE, None)
    return redirect(url_for("phone.home"))
