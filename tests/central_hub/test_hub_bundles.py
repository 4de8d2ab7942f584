"""Bundles through the real `kuaigong hub` commands: import twice changes nothing, a cut or edited
bundle is refused, export carries a receipt and the hub log."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hub_helpers import StationLog, enrol_station, make_app

from central_hub import db
from central_hub.models import AppliedEntry
from kuaigong import clock
from sync_protocol.bundles import read_bundle, write_bundle


def kuaigong(*args: str) -> subprocess.CompletedProcess:
    code = "from central_hub.cli import hub; hub()"
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
        timeout=60,
    )


def station_bundle(log: StationLog) -> bytes:
    batches = [("batch", log.batch(1, 2)), ("batch", log.batch(3, 3))]
    return write_bundle(
        station=log.station_id,
        hub="hub",
        direction="to_hub",
        epoch=1,
        first=1,
        last=3,
        parts=batches,
    )


@pytest.fixture
def hub_dir(tmp_path: Path):
    app, _ = make_app(tmp_path, "sqlite")
    clock.install(app, clock.ManualClock())
    log = enrol_station(app)
    with app.app_context():
        log.wall = clock.now_ms() - 60_000
    for i in range(3):
        log.add("worker", f"w{i}", "create", {"name": f"工{i}", "id_hash": f"{i:064x}"})
    yield app, log, tmp_path / "hub"
    if not db.database.is_closed():
        db.database.close()


def test_import_twice_applies_once(hub_dir, tmp_path: Path) -> None:
    app, log, data = hub_dir
    path = tmp_path / "east.kgb"
    path.write_bytes(station_bundle(log))
    first = kuaigong("import-bundle", "--data", str(data), str(path))
    assert first.returncode == 0, first.stderr
    assert "apply 2" in first.stdout and "accepted up to 3" in first.stdout
    second = kuaigong("import-bundle", "--data", str(data), str(path))
    assert second.returncode == 0 and "replay 2" in second.stdout
    with app.app_context(), db.database.connection_context():
        assert AppliedEntry.select().count() == 3


def test_cut_or_edited_bundles_are_refused(hub_dir, tmp_path: Path) -> None:
    _, log, data = hub_dir
    blob = station_bundle(log)
    cut, edited = tmp_path / "cut.kgb", tmp_path / "edited.kgb"
    cut.write_bytes(blob[: len(blob) // 2])
    edited.write_bytes(blob.replace("工1".encode(), "工9".encode()))
    for path, reason in ((cut, "数据包不完整"), (edited, "数据包已被改动")):
        result = kuaigong("import-bundle", "--data", str(data), str(path))
        assert result.returncode == 2 and reason in result.stderr


def test_export_carries_receipt_and_hub_log(hub_dir, tmp_path: Path) -> None:
    _, log, data = hub_dir
    out = tmp_path / "to-east.kgb"
    result = kuaigong("export-bundle", "--data", str(data), log.station_id, str(out))
    assert result.returncode == 0, result.stderr
    bundle = read_bundle(out.read_bytes())
    assert bundle.header.direction == "to_station"
    assert [p.kind for p in bundle.parts] == ["receipt", "hub_batch"]  # the enrolment entry
