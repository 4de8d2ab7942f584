"""API: a device pairs with the code staff showed, then asks who it is with its token; a kiosk
or board asks for the one-time link its browser opens (`views/screens.py`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request, url_for

from station_node import auth
from station_node.models import Device
from station_node.services import devices
from station_node.views import serializers
from station_node.views.api import body

bp = Blueprint("api_devices", __name__, url_prefix="/api/v1/devices")


def device(row: Device) -> dict[str, Any]:
    """A paired device as the API shows it (never its token)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "paired_at": serializers.when(row.paired_at),
        "last_seen_at": serializers.when(row.last_seen_at),
        "revoked_at": serializers.when(row.revoked_at),
    }


def _station() -> dict[str, str]:
    station = devices.station_identity(current_app)
    return {"id": station.station_id, "name": station.name, "fingerprint": station.fingerprint}


@bp.get("/station")
def station() -> Any:
    """Which station this is and its key's fingerprint, for a device to check before pairing."""
    return jsonify(station=_station())


@bp.post("/pair")
def pair() -> Any:
    """Trade the six-digit code for a device token (201); the token is shown only this once."""
    data = body()
    row, token = devices.pair(
        data.get("code"), data.get("kind"), data.get("name"), request.remote_addr
    )
    return jsonify(device=device(row), token=token, station=_station()), 201


@bp.get("/me")
@auth.api_device()
def me() -> Any:
    """The device the token belongs to, and the station it is paired with."""
    return jsonify(device=device(g.device), station=_station())


@bp.post("/screen-link")
@auth.api_device(*devices.SCREEN_KINDS)
def screen_link() -> Any:
    """A kiosk or board's one-time link for its browser (201): works once, for two minutes."""
    shown = devices.screen_link(g.device)
    return (
        jsonify(
            link=url_for("screens.open_link", token=shown.token),
            expires_at=serializers.when(shown.expires_at),
            page=devices.SCREEN_PAGES[g.device.kind],
            device=device(g.device),
        ),
        201,
    )
