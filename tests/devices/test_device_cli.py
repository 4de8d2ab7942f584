"""`kuaigong device …` against a real station served over HTTP on this host (`--station URL`).

Discovery over the network is the netns test's part (test_device_pairing_netns.py); here the
same commands pair, keep their token, refuse a station with another key, stop when revoked and
hand the token to a runner.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
import sys
import threading
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from flask import Flask
from werkzeug.serving import make_server

from devices import cli
from devices.kinds import DeviceKind
from devices.simulated.idcard import SAMPLE_CARDS, SimulatedIdCardReader
from kuaigong import clock
from station_node import create_app, db
from station_node.identity import ensure_keys
from station_node.models import Device, Staff
from station_node.services import devices
from station_node.services.staff import create_staff

T0 = dt.datetime(2025, 5, 6, 1, 0)  # a fixed time: no test reads the real clock


class Station:
    """A station app on a tmp folder, served on 127.0.0.1, with an admin to make codes."""

    def __init__(self, folder: Path) -> None:
        self.app: Flask = create_app(
            {"DATA_DIR": str(folder), "STATION_NAME": "团结湖零工驿站", "TESTING": True}
        )
        clock.install(self.app, clock.RunningClock(T0))
        db.migrate()
        ensure_keys(self.app)
        with self.app.app_context(), db.database.connection_context():
            create_staff("wang", "王主任", "admin", "password-1")
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def code(self) -> str:
        with self.app.app_context(), db.database.connection_context():
            return devices.start_pairing(Staff.get(Staff.username == "wang")).code

    def fingerprint(self) -> str:
        with self.app.app_context():
            return devices.station_fingerprint(self.app)

    def devices(self) -> list[Device]:
        with self.app.app_context(), db.database.connection_context():
            return devices.list_devices()

    def revoke(self, device_id: str) -> None:
        with self.app.app_context(), db.database.connection_context():
            devices.revoke(device_id, Staff.get(Staff.username == "wang"))

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        db.close_all()


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    running = Station(tmp_path / "station")
    yield running
    running.close()


def _device(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli.device, list(args), input=stdin)


def test_a_device_pairs_once_and_keeps_its_token_private(station: Station, tmp_path: Path) -> None:
    data = str(tmp_path / "kiosk")
    first = _device(
        "kiosk", "--station", station.url, "--data", data,
        "--code", station.code(), "--fingerprint", station.fingerprint(), "--name", "一号一体机",
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    assert f"{station.url}/kiosk/" in first.output
    kept = Path(data) / "device-kiosk.json"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    pairing = json.loads(kept.read_text(encoding="utf-8"))
    [device] = station.devices()
    assert (device.kind, device.name, device.id) == ("kiosk", "一号一体机", pairing["device_id"])
    assert pairing["fingerprint"] == station.fingerprint()
    assert pairing["token"] not in device.token_hash

    # Later starts need no code and no address.
    again = _device("kiosk", "--data", data)
    assert again.exit_code == 0, again.output
    assert "已与驿站“团结湖零工驿站”配对" in again.output
    assert len(station.devices()) == 1

    station.revoke(device.id)
    revoked = _device("kiosk", "--data", data)
    assert revoked.exit_code == 2
    assert "已被驿站停用" in revoked.output and "--code" in revoked.output


def test_a_screen_prints_a_one_time_link_that_opens_its_page(
    station: Station, tmp_path: Path
) -> None:
    import re

    import requests

    data = str(tmp_path / "board")
    first = _device(
        "board", "--station", station.url, "--data", data,
        "--code", station.code(), "--fingerprint", station.fingerprint(),
    )  # fmt: skip
    assert first.exit_code == 0, first.output
    links = re.findall(rf"{re.escape(station.url)}/screens/link/\S+", first.output)
    assert len(links) == 1, first.output
    assert "只能用一次" in first.output and "2 分钟" in first.output
    assert requests.get(station.url + "/board/", timeout=10).status_code == 403  # not paired yet
    with requests.Session() as screen:
        shown = screen.get(links[0], timeout=10)
        assert shown.status_code == 200 and shown.url == f"{station.url}/board/"
        assert "board-jobs" in shown.text
        assert screen.get(links[0], timeout=10).status_code == 410  # once only

    # Each start asks for a new link: the browser of a restarted screen gets in again.
    again = _device("board", "--data", data)
    assert again.exit_code == 0, again.output
    [fresh] = re.findall(rf"{re.escape(station.url)}/screens/link/\S+", again.output)
    assert fresh != links[0]
    assert requests.get(fresh, timeout=10).status_code == 200


def test_without_a_fingerprint_the_person_compares_it(station: Station, tmp_path: Path) -> None:
    data = str(tmp_path / "board")
    declined = _device(
        "board", "--station", station.url, "--data", data, "--code", station.code(), stdin="n\n"
    )
    assert declined.exit_code == 2
    assert station.fingerprint() in declined.output and "指纹不一致" in declined.output
    assert station.devices() == [] and not Path(data).exists()

    accepted = _device("board", "--station", station.url, "--data", data, stdin="y\n123456\n")
    assert accepted.exit_code == 2  # the code was never shown on the console
    assert "配对失败" in accepted.output and "配对码" in accepted.output
    code = station.code()
    accepted = _device("board", "--station", station.url, "--data", data, stdin=f"y\n{code}\n")
    assert accepted.exit_code == 0, accepted.output
    assert [d.kind for d in station.devices()] == ["board"]


def test_a_station_with_another_key_gets_no_code(station: Station, tmp_path: Path) -> None:
    data = tmp_path / "printer"
    code = station.code()
    refused = _device(
        "board", "--station", station.url, "--data", str(data),
        "--code", code, "--fingerprint", "0000-1111-2222-3333",
    )  # fmt: skip
    assert refused.exit_code == 2
    assert "密钥指纹" in refused.output and "0000-1111-2222-3333" in refused.output
    assert station.devices() == [] and not data.exists()
    # The code was not spent on the wrong station.
    paired = _device(
        "board", "--station", station.url, "--data", str(data),
        "--code", code, "--fingerprint", station.fingerprint().lower().replace("-", ":"),
    )  # fmt: skip
    assert paired.exit_code == 0, paired.output


def test_a_runner_gets_the_station_and_token(
    station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []
    fake = types.ModuleType("fake_sms_runner")
    fake.run = lambda *args, **kw: calls.append((*args, kw))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "fake_sms_runner", fake)
    monkeypatch.setitem(cli.RUNNERS, DeviceKind.SMS, ("fake_sms_runner", "run"))
    data = tmp_path / "sms"
    done = _device(
        "sms", "--station", station.url, "--data", str(data),
        "--code", station.code(), "--fingerprint", station.fingerprint(),
        "--port", "/dev/ttyUSB3", "--interval", "2",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    token = json.loads((data / "device-sms.json").read_text(encoding="utf-8"))["token"]
    assert calls == [(station.url, token, "/dev/ttyUSB3", {"interval": 2.0})]


def test_a_missing_runner_is_a_clear_error_before_any_pairing(
    station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(cli.RUNNERS, DeviceKind.PRINTER, ("devices.runners.no_such", "run"))
    done = _device(
        "printer", "--station", station.url, "--data", str(tmp_path / "p"), "--printer", "dummy:"
    )
    assert done.exit_code == 2
    assert "还没有小票打印机的运行程序" in done.output and "not available yet" in done.output
    assert station.devices() == []


def test_nothing_at_the_address_says_so(tmp_path: Path) -> None:
    done = _device(
        "kiosk", "--station", "http://127.0.0.1:9", "--data", str(tmp_path / "k"), "--code", "1"
    )
    assert done.exit_code == 2 and "连不上驿站" in done.output


def _run_until_heard(station: Station, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Replace the wait-for-Ctrl-C with: start the runner, wait until the station has heard
    from the device (its last contact is noted), stop it."""
    runners: list[Any] = []

    def until_heard(runner: Any) -> None:
        runners.append(runner)
        runner.start()
        try:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                if any(d.last_seen_at is not None for d in station.devices()):
                    return
                time.sleep(0.1)
            pytest.fail("the station never heard from the runner")
        finally:
            runner.stop()

    monkeypatch.setattr(cli, "_until_stopped", until_heard)
    return runners


def test_the_printer_runner_talks_to_the_station_with_its_token(
    station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runners = _run_until_heard(station, monkeypatch)
    done = _device(
        "printer", "--station", station.url, "--data", str(tmp_path / "printer"),
        "--code", station.code(), "--fingerprint", station.fingerprint(), "--printer", "dummy:",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert [type(r).__name__ for r in runners] == ["PrinterRunner"]
    assert runners[0].api.base_url == station.url
    [device] = station.devices()
    assert device.kind == "printer" and device.last_seen_at is not None


def test_the_idreader_runner_sends_a_card_read_with_its_token(
    station: Station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runners = _run_until_heard(station, monkeypatch)
    with SimulatedIdCardReader() as sim:
        sim.place(SAMPLE_CARDS[0])
        done = _device(
            "idreader", "--station", station.url, "--data", str(tmp_path / "reader"),
            "--code", station.code(), "--fingerprint", station.fingerprint(), "--port", sim.port,
        )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert [type(r).__name__ for r in runners] == ["IdReaderRunner"]
    [device] = station.devices()
    assert device.kind == "idreader" and device.last_seen_at is not None
