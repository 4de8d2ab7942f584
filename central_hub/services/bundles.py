"""Bundle files for stations with no link (filled in on top of sync_protocol)."""

from __future__ import annotations

from typing import Any

from central_hub.errors import HubError


def import_bundle(blob: bytes) -> dict[str, Any]:
    """Apply every batch in a station's bundle."""
    raise HubError("not_ready", "尚未实现", "Not implemented yet", status=503)


def export_bundle(station_id: str, after: int) -> tuple[bytes, int]:
    """The hub log after `after` as a bundle for the station."""
    raise HubError("not_ready", "尚未实现", "Not implemented yet", status=503)
