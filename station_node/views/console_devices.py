"""Staff console: pair a device with a code shown here, see the paired devices, revoke one."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _

from kuaigong.i18n import lang
from station_node import auth
from station_node.models import Device
from station_node.services import devices, get_or_404
from station_node.services.devices import ShownCode

bp = Blueprint("console_devices", __name__, url_prefix="/console")


def _page(shown: ShownCode | None = None) -> str:
    language = lang()
    return render_template(
        "console/devices.html",
        rows=devices.list_devices(),
        shown=shown,
        live=devices.live_code(),
        station=devices.station_identity(current_app),
        kind_label=lambda code: devices.kind_label(code, language),
    )


@bp.get("/devices")
@auth.console_login
def devices_page() -> Any:
    """The paired devices, the station's fingerprint, and the button for a pairing code."""
    return _page()


@bp.post("/devices/pairing")
@auth.console_login
def start_pairing() -> Any:
    """Show a new six-digit code, big, once (only its hash is kept); older codes stop working."""
    return _page(devices.start_pairing(g.staff))


@bp.get("/devices/<device_id>/revoke")
@auth.console_admin
def confirm_revoke(device_id: str) -> Any:
    """Ask before revoking: the device stops working at once and must be paired again."""
    row = get_or_404(Device, device_id, "该设备", "Device")
    return render_template(
        "console/devices_revoke.html",
        d=row,
        kind_label=lambda code: devices.kind_label(code, lang()),
    )


@bp.post("/devices/<device_id>/revoke")
@auth.console_admin
def revoke(device_id: str) -> Any:
    """Revoke the device (admins); its token is refused from now on."""
    row = devices.revoke(device_id, g.staff)
    flash(_("已停用设备：%(name)s", name=row.name), "ok")
    return redirect(url_for("console_devices.devices_page"))
