"""Kiosk: sign in by placing the ID card on the reader, and check in for the day.

The sign-in page asks `GET /kiosk/idcard` every second; when its reader has a fresh card it
posts the read's number back to `/kiosk/idcard/signin`, which uses the read once. A card counts
against the same sign-in limits as a typed ID number. The page never receives the card's
details: a kiosk screen is public.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from kuaigong.states import WorkerStatus
from station_node import identity
from station_node.models import Worker
from station_node.services import idcard_reads, signin_limits
from station_node.services.registration import check_in_worker, find_worker_by_id_number
from station_node.views import kiosk

bp = Blueprint("kiosk_idcard", __name__, url_prefix="/kiosk")


@bp.get("/idcard")
def card() -> Any:
    """Whether this kiosk's reader has a card: none, card (with the read's number) or refused."""
    headers = {"Cache-Control": "no-store"}
    if kiosk._signed_in() is not None:
        return jsonify(state="signed_in"), 200, headers
    read = idcard_reads.latest(
        idcard_reads.kiosk_reader(), idcard_reads.kiosk_address(request.remote_addr)
    )
    if read is None:
        return jsonify(state="none"), 200, headers
    if read.card is None:
        message = read.refused_en if lang() == "en" else read.refused_zh
        return jsonify(state="refused", message=message, read=read.read_id), 200, headers
    return jsonify(state="card", read=read.read_id), 200, headers


def _active(id_number: str) -> Worker | None:
    found = find_worker_by_id_number(id_number)
    return found if found is not None and found.status == WorkerStatus.ACTIVE else None


@bp.post("/idcard/signin")
def signin() -> Any:
    """Sign in the resident whose card was just read on this kiosk's reader."""
    try:
        read_id = int(request.form.get("read", ""))
    except ValueError:
        read_id = 0
    where = idcard_reads.kiosk_address(request.remote_addr)
    read = idcard_reads.take(read_id, idcard_reads.kiosk_reader(), where)
    if read is None or read.card is None:
        return _refused(_("请把身份证放在读卡器上"), 409)
    id_number = read.card.id_number
    account = (identity.hash_id(id_number), identity.mask_id(id_number))
    out = signin_limits.guarded("kiosk", account, request.remote_addr, lambda: _active(id_number))
    if out.refused is not None:
        return _refused(out.refused.message(lang()), 429, out.refused.retry_after)
    if out.who is None:
        return _refused(_("没有找到您的登记，请到窗口办理"), 401)
    session["kiosk_worker"], session["kiosk_seen"] = out.who.id, kiosk._seconds()
    return redirect(url_for("kiosk.mine"))


def _refused(message: str, status: int, retry: int | None = None) -> Any:
    headers = {"Retry-After": str(retry)} if retry else {}
    return render_template("kiosk/signin.html", error=message), status, headers


@bp.post("/checkin")
def check_in() -> Any:
    """The signed-in resident checks in at the station for today (签到)."""
    worker = kiosk._signed_in()
    if worker is None:
        return redirect(url_for("kiosk.signin"))
    try:
        check_in_worker(worker.id, None)
        flash(_("签到成功"), "ok")
    except KuaigongError as exc:
        flash(kiosk.resident_message(exc), "error")
    return redirect(url_for("kiosk.mine"))
