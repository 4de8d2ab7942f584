"""API for the printer's and the ID card reader's device processes (paired device tokens).

Printer: claim queued slips, report each one printed or failed, report the printer's status.
Reader: post each card read (text only: a reader never sends the photo).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from devices.kinds import DeviceKind
from kuaigong.errors import FieldError, InvalidInput
from station_node import auth
from station_node.models import PrintJob
from station_node.services import idcard_reads, printing
from station_node.views.api import body

bp = Blueprint("api_devices_io", __name__, url_prefix="/api/v1")


def _slip(row: PrintJob) -> dict[str, Any]:
    return {"id": row.id, "slip": row.slip, "attempts": row.attempts}


@bp.post("/printer/claim")
@auth.api_device(DeviceKind.PRINTER)
def claim() -> Any:
    """The oldest queued slips (up to `limit`, default 5), now marked printing."""
    limit = body().get("limit", 5)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 50:
        raise InvalidInput(
            [FieldError("limit", "invalid", "limit 应为 1 到 50 的整数", "limit must be 1..50")]
        )
    return jsonify(slips=[_slip(row) for row in printing.claim(limit)])


@bp.post("/printer/slips/<int:slip_id>/printed")
@auth.api_device(DeviceKind.PRINTER)
def printed(slip_id: int) -> Any:
    """The slip came out of the printer."""
    row = printing.report(slip_id, printed=True)
    return jsonify(id=row.id, status=row.status)


@bp.post("/printer/slips/<int:slip_id>/failed")
@auth.api_device(DeviceKind.PRINTER)
def failed(slip_id: int) -> Any:
    """The printer gave up on the slip; `error` says why, for the console."""
    error = body().get("error")
    row = printing.report(slip_id, printed=False, error=error if isinstance(error, str) else None)
    return jsonify(id=row.id, status=row.status)


@bp.post("/printer/status")
@auth.api_device(DeviceKind.PRINTER)
def status() -> Any:
    """The printer's status as `devices.printer.PrinterStatus.as_dict()` gives it."""
    printing.record_status(body())
    return jsonify(ok=True)


@bp.post("/idcard/reads")
@auth.api_device(DeviceKind.IDREADER)
def card_read() -> Any:
    """A card was read (201); an expired card is refused (409, the message says why)."""
    card = idcard_reads.card_from_json(body())
    read = idcard_reads.record(g.device.id, card, g.device.name, request.remote_addr)
    return jsonify(read=read.read_id, name=card.name), 201
