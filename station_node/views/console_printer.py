"""Console: the receipt printer (status, failed slips, printing a slip again) and the ID card
reader's latest card for the registration form."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang
from station_node import auth
from station_node.models import PrintJob
from station_node.services import idcard_reads, printing
from station_node.views.language import safe_next

bp = Blueprint("console_printer", __name__, url_prefix="/console")


def _back(default: str) -> Any:
    back = request.form.get("back")
    return redirect(safe_next(back) if back else default)


@bp.app_context_processor
def _printer_trouble() -> dict[str, Any]:
    """`printer_trouble()` for the console's header: what is wrong with the printer, if anything
    (a station without a printer program running has nothing to warn about)."""
    return {"printer_trouble": _trouble}


def _trouble() -> str | None:
    status = printing.printer_status(lang())
    if status["state"] in ("offline", "error"):
        return _("打印机有问题：%(problem)s", problem=status["message"] or status["state"])
    if status["failed"]:
        return _("%(n)s 张派工单没有打印出来", n=status["failed"])
    return None


@bp.get("/printer")
@auth.console_login
def page() -> Any:
    """The printer's state as its device last reported it, failed slips and the latest slips."""
    recent = PrintJob.select().order_by(PrintJob.id.desc()).limit(20)
    return render_template(
        "console/printer.html",
        status=printing.printer_status(lang()),
        failed=printing.failed_slips(),
        recent=recent,
    )


@bp.post("/assignments/<assignment_id>/print-slip")
@auth.console_login
def print_slip(assignment_id: str) -> Any:
    """Queue the assignment's slip again (a lost slip, a second copy)."""
    try:
        printing.print_again(assignment_id, g.staff)
        flash(_("派工单已送去打印"), "ok")
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
    return _back(url_for("console_printer.page"))


@bp.post("/printer/slips/<int:slip_id>/retry")
@auth.console_login
def retry(slip_id: int) -> Any:
    """Send a failed slip to the printer again."""
    try:
        printing.retry(slip_id, g.staff)
        flash(_("已重新排队打印"), "ok")
    except KuaigongError as exc:
        flash(exc.message(lang()), "error")
    return redirect(url_for("console_printer.page"))


@bp.get("/idcard/latest")
@auth.console_login
def idcard_latest() -> Any:
    """The card on any reader in the last minute, for the registration form (never cached)."""
    read = idcard_reads.latest()
    headers = {"Cache-Control": "no-store"}
    if read is None:
        message = _("请把身份证放在读卡器上")
        return jsonify(card=None, message=message), 404, headers
    if read.card is None:
        message = read.refused_en if lang() == "en" else read.refused_zh
        return jsonify(card=None, message=message, refused=True), 409, headers
    return jsonify(card=read.public()), 200, headers
