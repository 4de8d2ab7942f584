"""Out-of-order batches the hub holds for a station are capped (count and bytes): past the cap a
push is refused with a typed, signed rejection, and nothing grows without end."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from hub_helpers import StationLog, enrol_station, make_app

import sync_protocol as sp
from central_hub import db, keys
from central_hub.models import AppliedEntry, HeldBatch
from kuaigong import clock
from sync_protocol.receipts import verify_receipt, verify_rejection


@pytest.fixture
def capped(tmp_path: Any) -> Iterator[Flask]:
    app, _ = make_app(tmp_path, "sqlite", MAX_HELD_BATCHES=3)
    yield app
    if not db.database.is_closed():
        db.database.close()


def _station(app: Flask, entries: int) -> StationLog:
    log = enrol_station(app)
    with app.app_context():
        log.wall = clock.now_ms() - 60_000
    for i in range(1, entries + 1):
        log.add("worker", f"w{i}", "create", {"name": f"工{i}", "id_hash": f"{i:064x}"})
    return log


def _push(app: Flask, log: StationLog, first: int, last: int) -> Any:
    body = log.batch(first, last)
    return app.test_client().post(
        f"/api/v1/stations/{log.station_id}/push", data=body, headers=log.call(body, app)
    )


def _held(app: Flask) -> tuple[int, int]:
    with app.app_context(), db.database.connection_context():
        return HeldBatch.select().count(), AppliedEntry.select().count()


def test_past_the_cap_a_held_batch_is_refused_with_a_typed_signed_rejection(capped: Flask) -> None:
    log = _station(capped, 7)
    for seq in (3, 4, 5):
        assert _push(capped, log, seq, seq).status_code == 202
    refused = _push(capped, log, 6, 6)
    assert refused.status_code == 429
    body = refused.get_json()
    assert body["verdict"] == "rejected"
    assert body["error"]["code"] == "held_batches_full"
    assert "乱序批次" in body["error"]["message"] and "3" in body["error"]["message_en"]
    details = body["error"]["details"]
    assert (details["held"], details["max_held"]) == (3, 3)
    assert (details["missing_from"], details["missing_to"]) == (1, 2)
    with capped.app_context():
        ring = sp.KeyRing([sp.KeyRecord.of(bytes.fromhex(keys.hub_public_key()), "hub")])
    rejection = verify_rejection(body["rejection"].encode(), ring, "hub", log.station_id)
    assert rejection.reason is sp.Reason.NOT_ALLOWED and "held_batches_full" in rejection.detail
    assert verify_receipt(body["receipt"].encode(), ring, "hub", log.station_id).seq == 0
    assert _held(capped) == (3, 0)

    # a batch already held may be sent again: still a gap, nothing new kept
    assert _push(capped, log, 4, 4).status_code == 202
    assert _held(capped) == (3, 0)

    # the missing range closes the gap: everything held follows, and the refused batch is welcome
    closed = _push(capped, log, 1, 2)
    assert closed.status_code == 200 and closed.get_json()["accepted_seq"] == 5
    assert _held(capped) == (0, 5)
    assert _push(capped, log, 6, 7).get_json()["accepted_seq"] == 7


def test_the_byte_cap_counts_too(tmp_path: Any) -> None:
    app, _ = make_app(tmp_path, "sqlite", MAX_HELD_BYTES=1500)
    try:
        log = _station(app, 6)
        assert _push(app, log, 3, 3).status_code == 202  # about 1 kB held
        refused = _push(app, log, 4, 6)
        assert refused.status_code == 429
        assert refused.get_json()["error"]["details"]["max_held_bytes"] == 1500
        assert _held(app) == (1, 0)
    finally:
        if not db.database.is_closed():
            db.database.close()
