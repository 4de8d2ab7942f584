"""Freezes, forks and refused pushes, pulls and bundles leave a warning in the hub's log that
names the station, the reason code and the numbers, not only rows in the database."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from flask import Flask
from hub_helpers import StationLog, enrol_station

import sync_protocol as sp
from central_hub import db
from central_hub.services import bundles
from kuaigong import clock
from sync_protocol.bundles import write_bundle

# A fixed hub time: nothing here depends on today's date.
HUB_NOW = dt.datetime(2026, 3, 2, 9, 0, 0)


def _fields(name: str) -> dict[str, object]:
    return {"name": name, "id_hash": "a" * 64, "id_masked": "110105********002X"}


@pytest.fixture
def station(sqlite_app: Flask) -> StationLog:
    clock.install(sqlite_app, clock.ManualClock(HUB_NOW))
    log = enrol_station(sqlite_app)
    log.wall = _hub_ms(sqlite_app) - 60_000
    return log


def _hub_ms(app: Flask) -> int:
    with app.app_context():
        return clock.now_ms()


def _push(app: Flask, log: StationLog, body: bytes, signed: bool = True) -> object:
    headers = log.call(body, app) if signed else {}
    return app.test_client().post(
        f"/api/v1/stations/{log.station_id}/push",
        data=body,
        headers=headers,
        content_type="application/x-kuaigong-batch",
    )


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.WARNING and r.name.startswith("central_hub.")
    ]


def test_a_fork_logs_the_freeze_with_its_position(
    sqlite_app: Flask, station: StationLog, caplog: pytest.LogCaptureFixture
) -> None:
    station.add("worker", "w1", "create", _fields("王芳"))
    assert _push(sqlite_app, station, station.batch(1, 1)).status_code == 200
    rewritten = StationLog(station.station_id, station.key, station.wall - 500)
    rewritten.add("worker", "w1", "create", _fields("王芳芳"))
    caplog.set_level(logging.WARNING)
    assert _push(sqlite_app, station, rewritten.batch(1, 1)).status_code == 409
    frozen = [m for m in _warnings(caplog) if m.startswith(f"station {station.station_id} frozen")]
    held, sent = sp.entry_hash(station.raws[0])[:16], sp.entry_hash(rewritten.raws[0])[:16]
    assert frozen == [
        f"station {station.station_id} frozen: fork at epoch 1 seq 1 (held {held}, sent {sent})"
    ]


def test_a_tampered_batch_logs_its_refusal_with_the_head_and_size(
    sqlite_app: Flask, station: StationLog, caplog: pytest.LogCaptureFixture
) -> None:
    station.add("worker", "w1", "create", _fields("王芳"))
    tampered = station.batch(1, 1).replace("王芳".encode(), "赵六".encode())
    caplog.set_level(logging.WARNING)
    assert _push(sqlite_app, station, tampered).status_code in (403, 422)
    (line,) = [m for m in _warnings(caplog) if m.startswith("batch from")]
    assert line.startswith(f"batch from station {station.station_id} refused: ")
    assert f"at head 1/0 ({len(tampered)} bytes)" in line


def test_a_push_without_its_call_logs_the_code_and_the_count(
    sqlite_app: Flask, station: StationLog, caplog: pytest.LogCaptureFixture
) -> None:
    station.add("worker", "w1", "create", _fields("王芳"))
    caplog.set_level(logging.WARNING)
    for _ in range(2):
        assert _push(sqlite_app, station, station.batch(1, 1), signed=False).status_code == 401
    lines = [m for m in _warnings(caplog) if m.startswith("push to")]
    assert len(lines) == 2
    assert lines[0].startswith(f"push to station {station.station_id} refused as not its own: ")
    assert "call_missing" in lines[0] and lines[0].endswith("; 1 refused so far")
    assert lines[1].endswith("; 2 refused so far")


def test_refused_pulls_log_the_code_and_the_seqs(
    sqlite_app: Flask, station: StationLog, caplog: pytest.LogCaptureFixture
) -> None:
    client = sqlite_app.test_client()
    caplog.set_level(logging.WARNING)
    url = f"/api/v1/stations/{station.station_id}/hub-log"
    assert client.get(f"{url}?after=0").status_code == 401
    auth = station.pull_auth(99, _hub_ms(sqlite_app))
    beyond = client.get(f"{url}?after=99", headers={"X-Kuaigong-Auth": auth})
    assert beyond.status_code == 409
    head = beyond.get_json()["error"]["message_en"].rsplit(" ", 1)[1]
    assert [m for m in _warnings(caplog) if m.startswith("pull by")] == [
        f"pull by station {station.station_id} refused: auth_required "
        f"(after 0, hub time {_hub_ms(sqlite_app)})",
        f"pull by station {station.station_id} refused: after_beyond_head (after 99, head {head})",
    ]


def test_refused_bundles_log_the_code_and_the_size(
    sqlite_app: Flask, station: StationLog, caplog: pytest.LogCaptureFixture
) -> None:
    station.add("worker", "w1", "create", _fields("王芳"))
    elsewhere = write_bundle(
        station=station.station_id,
        hub="another-hub",
        direction="to_hub",
        epoch=1,
        first=1,
        last=1,
        parts=[("batch", station.batch(1, 1))],
    )
    caplog.set_level(logging.WARNING)
    with sqlite_app.app_context(), db.database.connection_context():
        for blob in (b"not a bundle", elsewhere):
            with pytest.raises(Exception) as refused:
                bundles.import_bundle(blob)
            assert getattr(refused.value, "status", 0) in (409, 413, 422)
    lines = [m for m in _warnings(caplog) if "bundle" in m]
    assert len(lines) == 2
    assert lines[0].startswith("bundle refused: ") and "(12 bytes)" in lines[0]
    assert lines[1] == (
        f"bundle of station {station.station_id} refused: wrong_hub "
        f"(for another-hub, {len(elsewhere)} bytes)"
    )
