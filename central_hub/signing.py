"""The hub's side of `sync_protocol`: its signing key, its log entries, receipts and key rings."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

import sync_protocol as sp
from central_hub import db, keys
from central_hub.models import Station, StationKey
from central_hub.states import KeyStatus
from sync_protocol.receipts import Receipt, sign_receipt
from sync_protocol.signed import check_signed, parse_signed

HUB_EPOCH = 1


def hub_id(app: Flask | None = None) -> str:
    """The hub's name in its own log and in receipts."""
    return str((app or current_app).config["HUB_ID"])


def hub_key(app: Flask | None = None) -> sp.SigningKey:
    """The hub's Ed25519 signing key (from DATA_DIR/keys)."""
    return sp.SigningKey.from_seed(keys._raw("hub_ed25519.key", app))


def encode_hub_entry(
    *,
    seq: int,
    prev_hash: str,
    hlc: tuple[int, int],
    entity: str,
    entity_id: str,
    op: str,
    fields: dict[str, Any],
) -> tuple[bytes, str]:
    """Canonical bytes and hash of one hub-log entry (a sync_protocol entry of the hub's log)."""
    entry = sp.make_entry(
        station=hub_id(),
        epoch=HUB_EPOCH,
        seq=seq,
        prev_hash=prev_hash or None,
        hlc=hlc,
        entity=entity,
        entity_id=entity_id,
        op=op,
        fields=fields,
        origin=hub_id(),
    )
    raw = sp.encode_entry(entry)
    return raw, sp.entry_hash(raw)


def hub_batch(raws: list[bytes], hlc: tuple[int, int]) -> bytes:
    """A hub-signed batch of contiguous hub-log entries."""
    return sp.sign_batch(raws, hub_key(), sp.Hlc(*hlc))


def receipt(station: Station, hub_seq: int, hub_time_ms: int) -> bytes:
    """The signed receipt for what the hub holds of `station`'s log."""
    return receipt_for(
        station.id,
        station.epoch,
        station.head_seq,
        station.head_hash or sp.GENESIS_HASH,
        hub_seq,
        hub_time_ms,
    )


def receipt_for(
    station_id: str, epoch: int, seq: int, head_hash: str, hub_seq: int, hub_time_ms: int
) -> bytes:
    """The signed receipt for a station's accepted head (epoch, seq, head hash)."""
    body = Receipt(station_id, epoch, seq, head_hash, hub_id(), hub_seq, hub_time_ms)
    return sign_receipt(body, hub_key())


def key_ring(station: Station) -> sp.KeyRing:
    """Every key the station ever registered, with the part of its log each may sign."""
    records = []
    sql = db.prepared("station_keys", lambda: StationKey.select().where(StationKey.station == ""))
    for row in StationKey.raw(sql, station.id):
        until = (
            (row.valid_until_epoch, row.valid_until_seq)
            if row.valid_until_seq is not None
            else sp.keys.FOREVER
        )
        revoked = (
            (row.revoked_after_epoch or station.epoch, row.revoked_after_seq)
            if row.status == KeyStatus.REVOKED
            else None
        )
        records.append(
            sp.KeyRecord(
                row.key_id,
                bytes.fromhex(row.public_key),
                station.id,
                (row.valid_from_epoch, row.valid_from_seq),
                until,
                revoked,
            )
        )
    return sp.KeyRing(records)


def check_station_request(kind: str, data: bytes, station: Station) -> dict[str, Any] | str:
    """The object of a station-signed request, or the refusal reason as a string."""
    try:
        signed = parse_signed(kind, data)
    except sp.ProtocolError as exc:
        return exc.reason.value
    if signed.obj.get("station") != station.id:
        return sp.Reason.WRONG_STATION.value
    refusal = check_signed(
        signed, key_ring(station), station.id, (station.epoch, station.head_seq + 1)
    )
    return refusal.value if refusal is not None else signed.obj
