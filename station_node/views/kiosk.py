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
from station_node import catalog, events, identity
from station_node.models import Assignment, Job, Offer, Worker
from station_node.services import dispatch, phone_signin, signin_limits, utc_offset_hours
from station_node.services.assignments import confirm_pay as confirm
from station_node.services.staff import authenticate_resident
from station_node.views.language import safe_next

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk")

IDLE_SECONDS = 180
# The screen itself clears to the attract screen after this long untouched (static/kiosk.js);
# the session outlives it a little so a slow reader is not signed out mid-sentence server-side.
SCREEN_IDLE_SECONDS = 60

# The services word their refusals for staff ("该工人…"); a resident at the kiosk reads these.
RESIDENT_WORDS: dict[str, tuple[str, str]] = {
    "already_assigned": ("您已抢到这个岗位，不用再抢", "You already have this job"),
    "job_full": ("这个岗位的人已经招满了，看看别的岗位吧", "This job is full; try another one"),
    "job_not_open": ("这个岗位现在不招人了，看看别的岗位吧", "This job is closed; try another"),
    "not_eligible": (
        "这个岗位的要求和您登记的情况不一样，请问问驿站工作人员",
        "This job asks for something your registration does not show; ask the staff",
    ),
    "overlapping_booking": ("这个时间您已经有别的工作了", "You already have work at that time"),
    "offer_closed": (
        "这个派单已经结束了（过了时间、已回复或人已招满）",
        "This offer is over (time ran out, it was answered or the job is full)",
    ),
    "not_your_offer": ("这个派单不是给您的", "This offer is for someone else"),
    "not_found": ("找不到这个岗位，可能已经撤下了", "This job is no longer listed"),
}
_OTHER = ("没有办成，请问问驿站工作人员", "That did not work; please ask the staff")


def resident_message(exc: KuaigongError) -> str:
    """A service's refusal in words written to the resident, never the console's staff words."""
    zh, en = RESIDENT_WORDS.get(exc.code, _OTHER)
    return en if lang() == "en" else zh


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


DAYS = ("today", "tomorrow", "later")


def _filters() -> dict[str, str]:
    """The list's filters from the query: community, skill code and day (today/tomorrow/later)."""
    args = request.args
    day = args.get("day", "")
    return {
        "community": args.get("community", "")[:64],
        "skill": args.get("skill", "") if args.get("skill", "") in catalog.SKILLS else "",
        "day": day if day in DAYS else "",
    }


def _station_day(days: int) -> dt.datetime:
    """The start of the station's calendar day `days` from now, in stored UTC."""
    offset = dt.timedelta(hours=utc_offset_hours())
    local_midnight = dt.datetime.combine((clock.now() + offset).date(), dt.time())
    return local_midnight - offset + dt.timedelta(days=days)


def _open_jobs(chosen: dict[str, str] | None = None, mine: set[str] | None = None) -> list[Job]:
    """Jobs open to residents, and (marked 已抢到) the ones this resident grabbed that are not
    over yet, even when that grab filled the last place."""
    chosen = chosen or {}
    listed = Job.status.in_(LIVE_JOBS)
    if mine:
        not_over = Job.ends_at.is_null() | (Job.ends_at > clock.now())
        listed = listed | (Job.id.in_(sorted(mine)) & not_over)
    query = Job.select().where(listed)
    if chosen.get("community"):
        query = query.where(Job.community == chosen["community"])
    day = chosen.get("day")
    if day:
        start, end = {"today": (0, 1), "tomorrow": (1, 2), "later": (2, 3650)}[day]
        # a flexible job can be done any day, so it stays in every day's list
        query = query.where(
            Job.time_flexible
            | ((Job.starts_at >= _station_day(start)) & (Job.starts_at < _station_day(end)))
        )
    jobs = list(query.order_by(Job.urgency.desc(), Job.posted_at.desc()).limit(200))
    if chosen.get("skill"):
        jobs = [j for j in jobs if chosen["skill"] in (j.skills or [])]
    return jobs[:50]


def _communities() -> list[str]:
    rows = Job.select(Job.community).where(Job.status.in_(LIVE_JOBS)).distinct()
    return sorted({r.community for r in rows if r.community})


def _grabbed(worker: Worker | None) -> set[str]:
    """Ids of the jobs this resident already has a place on (shown as 已抢到)."""
    if worker is None:
        return set()
    rows = Assignment.select(Assignment.job).where(Assignment.worker == worker)
    return {r.job_id for r in rows}


def _attempt(action: Any, ok_text: str) -> bool:
    try:
        action()
    except KuaigongError as exc:
        flash(resident_message(exc), "error")
        return False
    flash(ok_text, "ok")
    return True


@bp.get("/")
def home() -> Any:
    """Open jobs in large type, and the sign-in button or the signed-in resident's name."""
    chosen = _filters()
    worker = _signed_in(not request.args.get("fragment"))
    grabbed = _grabbed(worker)
    shown = {"jobs": _open_jobs(chosen, grabbed), "worker": worker, "grabbed": grabbed}
    if request.args.get("fragment"):  # live.js redraws the list when the board changes
        return render_template("kiosk/_jobs.html", **shown)
    return render_template(
        "kiosk/home.html",
        last_id=events.last_id(),
        chosen=chosen,
        communities=_communities(),
        skills=catalog.choices(catalog.SKILLS, lang()),
        **shown,
    )


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    """Sign in with ID number and mobile, or with a personal token; failures are limited."""
    error, status, retry = None, 200, None
    typed = {"id_number": "", "mobile": ""}
    if request.method == "POST":
        # a failed attempt keeps what was typed: retyping 18 digits is the hard part
        typed = {k: request.form.get(k, "")[:20] for k in typed}
        worker, error, status, retry = _try_signin()
        if worker is not None:
            session["kiosk_worker"], session["kiosk_seen"] = worker.id, _seconds()
            return redirect(
                safe_next(request.args.get("then"))
                if request.args.get("then")
                else url_for("kiosk.mine")
            )
    headers = {"Retry-After": str(retry)} if retry else {}
    return render_template("kiosk/signin.html", error=error, typed=typed), status, headers


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
    return redirect(url_for("kiosk.home", attract=1))


@bp.post("/jobs/<job_id>/grab")
def grab(job_id: str) -> Any:
    """Grab a place on a job for the signed-in resident."""

    worker = _signed_in()
    if worker is None:
        back = url_for("kiosk.home", _anchor=f"job-{job_id}")
        return redirect(url_for("kiosk.signin", then=back))
    _attempt(lambda: dispatch.grab(job_id, worker.id, None), _("您已抢到这个岗位！请按时到岗"))
    return redirect(url_for("kiosk.home", _anchor=f"job-{job_id}"))


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
