"""Ingest of station pushes and hub-log pulls (filled in on top of sync_protocol)."""

from __future__ import annotations

from typing import Any

from central_hub.errors import HubError


def push(station_id: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """Verify and apply a station's signed batch; answer a signed receipt."""
    raise HubError("not_ready", "尚未实现", "Not implemented yet", status=503)


def pull(station_id: str, after: Any, limit: Any, headers: dict[str, str], path: str) -> dict[str, Any]:
    """Hub-log entries after `after`, for a station."""
    raise HubError("not_ready", "尚未实现", "Not implemented yet", status=503)
