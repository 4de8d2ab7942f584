"""Integrity alerts for the hub, signed by the station key.

What the station finds wrong with its own log — an entry changed in the database after it was
logged, a log that went on after a restore, entries carried into a new epoch — is noted in
DATA_DIR/sync/alerts.json (`state.note_alert`) and sent on each sync round until the hub takes
it. Each is one station-signed object ("alert" domain tag, the same scheme as the signed pull):
{"station", "time" (hub time, ms), "id", "kind", "details"}.
"""

from __future__ import annotations

from typing import Any

import sync_protocol as sp
from station_node import station_state as state
from station_node.sync.transport import HubClient, HubUnreachable, SyncError
from sync_protocol.signed import sign

KINDS = ("entry_altered", "log_restored", "reset_carried")


def signed_alert(
    station: str, ident: str, kind: str, details: dict[str, Any], time_ms: int, key: sp.SigningKey
) -> bytes:
    """The station-signed alert bytes."""
    return sign(
        "alert",
        {"station": station, "time": time_ms, "id": ident, "kind": kind, "details": details},
        key,
    )


def send_pending(station: str, key: sp.SigningKey, client: HubClient, time_ms: int) -> int:
    """POST every alert the hub has not taken yet; returns how many it took."""
    sent = 0
    for alert in state.alerts():
        if alert.get("sent"):
            continue
        body = signed_alert(station, alert["id"], alert["kind"], alert["details"], time_ms, key)
        response = client._call(
            "POST",
            f"/stations/{station}/alerts",
            data=body,
            headers={"Content-Type": "application/octet-stream"},
        )
        if response.status_code not in (200, 201):
            try:
                error = response.json().get("error") or {}
            except ValueError:
                error = {}
            raise SyncError(
                "alert_refused",
                f"市级中心拒收了本站的告警：{error.get('message_zh') or error.get('code')}",
                f"The hub refused our alert: {error.get('message_en') or error.get('code')}",
                details={"alert": alert["id"]},
                status=409,
            )
        state.alert_sent(alert["id"])
        sent += 1
    return sent


def try_send(station: str, key: sp.SigningKey, client: HubClient, time_ms: int) -> int:
    """`send_pending`, but a hub out of reach or refusing leaves them for the next round (and a
    refusal on the console): an alert never stops the sync itself."""
    try:
        sent = send_pending(station, key, client, time_ms)
    except HubUnreachable:
        return 0
    except SyncError as exc:
        state.update_status(
            alert_error={
                "code": exc.code,
                "zh": exc.message_zh,
                "en": exc.message_en,
                "alert": exc.details.get("alert"),
            }
        )
        return 0
    state.update_status(alert_error=None)
    return sent
