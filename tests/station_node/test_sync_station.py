"""The station's side of sync without a hub: the change log on sync_protocol (hashes, chain,
HLC floor), the restore-from-backup guard, integrity check, back-off, bundle errors and the
console's sync page."""

from __future__ import annotations

import random
import re

import pytest
from flask import Flask
from web_helpers import console_client

import sync_protocol as sp
from station_node import changelog
from station_node import station_state as state
from station_node.models import ChangeEntry
from station_node.sync import bundles, client, outbox
from station_node.sync.jobs import SyncBeat
from station_node.sync.transport import SyncError


def _log(entity: str = "worker", n: int = 3) -> list[ChangeEntry]:
    return [
        changelog.record(entity, f"w{i}", "create", {"name": f"张{i}", "pay_fen": 2500})
        for i in range(n)
    ]


def test_each_entry_is_a_hashed_chained_protocol_entry(app: Flask) -> None:
    rows = _log()
    prev = sp.GENESIS_HASH
    for i, row in enumerate(rows, start=1):
        raw = changelog.encode_row(row, "station-local", {"1": 0})
        entry = sp.decode_entry(raw)
        assert (entry.seq, entry.prev, entry.station) == (i, prev, "station-local")
        assert sp.entry_hash(raw) == row.entry_hash
        prev = row.entry_hash
    stamps = [(r.hlc_wall, r.hlc_counter) for r in rows]
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


def test_hlc_never_falls_below_the_hubs_time(app: Flask) -> None:
    future = 4_000_000_000_000  # the hub's time from the last receipt, far past our wall clock
    state.save_acked(None, (future, 5))
    row = _log(n=1)[0]
    assert (row.hlc_wall, row.hlc_counter) == (future, 6)


def test_a_log_behind_the_hubs_receipt_keeps_writing_and_notes_where(app: Flask) -> None:
    rows = _log(n=2)
    state.save_enrolment(
        state.Enrolment("http://hub", "station-local", "", "hub", "00" * 32, "", "k")
    )
    state.save_acked(sp.Receipt("station-local", 1, 5, "ab" * 32, "hub", 9, 1), (0, 0))
    _log(n=3)  # a restored station keeps serving: its entries wait for the hub's epoch reset
    assert ChangeEntry.select().count() == len(rows) + 3
    mark = state.restore_mark()
    assert mark is not None and (mark["epoch"], mark["seq"], mark["reason"]) == (
        1,
        2,
        "behind_receipt",
    )
    assert mark["hash"] == rows[-1].entry_hash
    assert client.pending_count() == 3


def test_an_entry_altered_after_logging_is_found(app: Flask) -> None:
    _log(n=4)
    ChangeEntry.update(entity_id="w99").where(ChangeEntry.seq == 3).execute()
    with pytest.raises(SyncError) as caught:
        outbox.verify_all("station-local")
    assert caught.value.code == "entry_altered" and caught.value.details == {"seq": 3}


def test_backoff_grows_with_jitter_and_is_capped(app: Flask) -> None:
    beat = SyncBeat(app, interval=30, max_backoff=600, rng=random.Random(1))
    assert beat.delay() == 30
    seen = []
    for failures in range(1, 12):
        beat.failures = failures
        seen.append(beat.delay())
    assert all(30 <= d <= 600 for d in seen)
    assert len(set(seen)) == len(seen)  # jittered: stations do not retry in step


def test_damaged_bundles_get_typed_errors(app: Flask) -> None:
    blob = sp.write_bundle(
        station="st-a",
        hub="hub",
        direction="to_station",
        epoch=1,
        first=1,
        last=1,
        parts=[("receipt", b"kg1/receipt {}\n")],
    )
    for damaged, code in (
        (blob[:-7], "bundle_truncated"),
        (blob.replace(b"st-a", b"st-b", 1), "bundle_altered"),
        (b"hello", "bundle_truncated"),
    ):
        with pytest.raises(SyncError) as caught:
            bundles.read(damaged)
        assert caught.value.code == code


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_console_sync_page(web_app: Flask, admin_token: str) -> None:
    client = console_client(web_app)
    page = client.get("/console/sync").get_data(as_text=True)
    assert "尚未在市级中心注册" in page

    with web_app.app_context():
        state.save_enrolment(
            state.Enrolment("http://10.0.0.9:8090", "st-east", "东城", "hub", "00" * 32, "", "k")
        )
        state.update_status(
            reachable=False,
            last_ok_at="2026-05-01T02:00:00+00:00",
            rejection={
                "reason": "clock_drift",
                "zh": "驿站时钟与中心相差太大，请校准时间",
                "detail": "checkpoint HLC is 31536000000 ms ahead",
            },
            last_error={"code": "hub_unreachable", "zh": "连不上市级中心：ConnectionError"},
        )
    page = client.get("/console/sync").get_data(as_text=True)
    assert 'id="hub-unreachable"' in page and "st-east" in page
    assert "5月1日 周五 10:00" in page and 'id="pending"' in page
    assert "驿站时钟与中心相差太大" in page and "clock_drift" in page
    assert "立即同步" in page
    panel = client.get("/console/sync/panel").get_data(as_text=True)
    assert 'id="sync-status"' in panel and "<html" not in panel

    assert client.post("/console/sync/now").status_code == 400  # no CSRF token: refused
    token = CSRF.search(page).group(1)  # type: ignore[union-attr]
    response = client.post("/console/sync/now", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/sync")


def test_console_sync_page_needs_sign_in(web_app: Flask) -> None:
    response = web_app.test_client().get("/console/sync")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]
