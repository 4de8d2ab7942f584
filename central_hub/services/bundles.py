"""Bundle files (USB stick) for stations with no link at all, in both directions.

Import verifies every batch exactly as a push would (so importing a bundle twice only replays);
export packs the station's latest receipt and the hub log after a given seq.
"""

from __future__ import annotations

import logging
from typing import Any

import sync_protocol as sp
from central_hub import db, signing
from central_hub.models import HubLogEntry, Station
from central_hub.services import hublog, ingest, stations
from central_hub.services.rejections import refusal_error
from kuaigong import clock
from kuaigong.errors import KuaigongError
from sync_protocol.bundles import read_bundle, write_bundle

MAX_BUNDLE_BYTES = 256 * 1024 * 1024
HUB_LOG_PER_PART = 500

log = logging.getLogger(__name__)


def import_bundle(blob: bytes) -> dict[str, Any]:
    """Apply every batch of a station's bundle; returns the station and a count per verdict."""
    try:
        bundle = read_bundle(blob, MAX_BUNDLE_BYTES)
    except sp.BundleError as exc:
        log.warning(
            "bundle refused: %s (%d bytes): %s", exc.reason.value, len(blob), exc.detail[:200]
        )
        raise refusal_error(exc.reason, exc.detail) from None
    header = bundle.header
    if header.direction != "to_hub":
        log.warning(
            "bundle of station %s refused: wrong_direction (%s, %d bytes)",
            header.station,
            header.direction,
            len(blob),
        )
        raise KuaigongError(
            "wrong_direction",
            "该数据包是发给驿站的，不是发给中心的",
            "This bundle is meant for a station, not for the hub",
            status=422,
        )
    if header.hub != signing.hub_id():
        log.warning(
            "bundle of station %s refused: wrong_hub (for %s, %d bytes)",
            header.station,
            header.hub,
            len(blob),
        )
        raise KuaigongError(
            "wrong_hub",
            f"该数据包是发给 {header.hub} 的",
            f"This bundle is for hub {header.hub}",
            status=422,
        )
    stations.get_station(header.station)
    verdicts: dict[str, int] = {}
    errors: list[dict[str, Any]] = []
    for part in bundle.parts:
        if part.kind != "batch":
            continue
        try:
            answer = ingest.push(header.station, part.data, ingest.StationReport()).reply
        except ingest.PushRefused as refused:
            answer = refused.reply
        verdicts[answer["verdict"]] = verdicts.get(answer["verdict"], 0) + 1
        if "error" in answer:
            errors.append(answer["error"])
    with db.database.connection_context():
        station = Station.get_by_id(header.station)
    summary = ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())) or "no batches"
    return {
        "station": header.station,
        "verdicts": verdicts,
        "errors": errors,
        "accepted_seq": station.head_seq,
        "summary": f"{summary}; accepted up to {station.head_seq}",
    }


def export_bundle(station_id: str, after: int) -> tuple[bytes, int]:
    """A bundle for the station: its latest receipt and every hub-log entry after `after`."""
    station = stations.get_station(station_id)
    if after < 0:
        raise KuaigongError(
            "invalid_after", "after 须为非负整数", "after must be a whole number ≥ 0", status=422
        )
    now_ms = clock.now_ms()
    hub_seq, _ = hublog.head()
    parts: list[tuple[str, bytes]] = [("receipt", signing.receipt(station, hub_seq, now_ms))]
    rows = list(HubLogEntry.select().where(HubLogEntry.seq > after).order_by(HubLogEntry.seq))
    hlc = max(hublog.head_hlc(), (now_ms, 0))
    for start in range(0, len(rows), HUB_LOG_PER_PART):
        chunk = rows[start : start + HUB_LOG_PER_PART]
        parts.append(("hub_batch", signing.hub_batch([r.raw.encode("utf-8") for r in chunk], hlc)))
    first = rows[0].seq if rows else after
    last = rows[-1].seq if rows else after
    blob = write_bundle(
        station=station.id,
        hub=signing.hub_id(),
        direction="to_station",
        epoch=station.epoch,
        first=first,
        last=last,
        parts=parts,
    )
    return blob, len(rows)
