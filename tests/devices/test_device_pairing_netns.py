"""A device on another host finds the real station, checks its fingerprint, pairs, and is revoked.

The station is `kuaigong station run` in one network namespace, the device `kuaigong device
board` in another, joined by a veth pair (the `lan` fixture of test_discovery.py): discovery
runs over real multicast, pairing and the token over real HTTP. The pairing code is made and
the device revoked through the station's services on its data folder, as the console does.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from test_discovery import Lan, lan  # noqa: F401  (the two-host network fixture)

from station_node import create_app, db
from station_node.identity import ensure_keys
from station_node.models import Device, Staff
from station_node.services import devices
from station_node.services.staff import create_staff

ROOT = Path(__file__).resolve().parents[2]
KUAIGONG = Path(sys.executable).with_name("kuaigong")
CHECK_TOKEN = """
import json, sys, requests
answer = requests.get(sys.argv[1] + "/api/v1/devices/me",
                      headers={"Authorization": "Bearer " + sys.argv[2]}, timeout=10)
print(json.dumps({"status": answer.status_code, "body": answer.json()}))
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": "utf-8"}


def _kuaigong(*args: str) -> list[str]:
    if KUAIGONG.exists():
        return [str(KUAIGONG), *args]
    return [sys.executable, "-c", "from kuaigong.cli import main; main()", *args]


def _in(net: Lan, ns: str, *command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [net.ip, "netns", "exec", ns, *command],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=_env(),
        stdin=subprocess.DEVNULL,
    )


class Station:
    """The station's data folder, opened in this process the way the console's services use it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.app: Flask = create_app({"DATA_DIR": str(folder), "STATION_NAME": "朝阳门零工驿站"})
        db.migrate()
        ensure_keys(self.app)
        with self.app.app_context(), db.database.connection_context():
            create_staff("wang", "王主任", "admin", "password-1")

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


@pytest.fixture
def station_data(tmp_path: Path) -> Iterator[Station]:
    station = Station(tmp_path / "station")
    yield station
    db.close_all()


def _start_station(net: Lan, folder: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    log = Path(tempfile.mkstemp(prefix="station-", suffix=".log")[1])
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                net.ip, "netns", "exec", net.station_ns,
                *_kuaigong("station", "run", "--data", str(folder), "--port", str(port)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            env={**_env(), "KUAIGONG_STATION_ADVERTISE": "true"},
        )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if "station serving on" in log.read_text(encoding="utf-8", errors="replace"):
            return proc, log
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"the station did not start:\n{log.read_text(errors='replace')[-3000:]}")


def _me(net: Lan, url: str, token: str) -> dict[str, Any]:
    done = _in(net, net.device_ns, sys.executable, "-c", CHECK_TOKEN, url, token)
    assert done.returncode == 0, done.stderr
    answer: dict[str, Any] = json.loads(done.stdout)
    return answer


@pytest.mark.netns
def test_a_device_on_another_host_discovers_pairs_and_is_revoked(
    lan: Lan,  # noqa: F811
    station_data: Station,
    tmp_path: Path,
) -> None:
    port = 20000 + secrets.randbelow(20000)
    station_url = f"http://{lan.subnet}.1:{port}"
    proc, log = _start_station(lan, station_data.folder, port)
    try:
        announced = log.read_text(encoding="utf-8")
        fingerprint = station_data.fingerprint()
        assert f"key fingerprint {fingerprint}" in announced

        # A station with another key is refused before any code is spent.
        other = tmp_path / "other-device"
        code = station_data.code()
        refused = _in(
            lan, lan.device_ns,
            *_kuaigong("device", "kiosk", "--data", str(other), "--code", code,
                       "--fingerprint", "0000-0000-0000-0000", "--timeout", "3"),
        )  # fmt: skip
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "密钥指纹" in refused.stderr and not other.exists()

        # Found across the veth pair with no address given; fingerprint checked; paired.
        board = tmp_path / "board-device"
        paired = _in(
            lan, lan.device_ns,
            *_kuaigong("device", "board", "--data", str(board), "--code", code,
                       "--fingerprint", fingerprint.lower(), "--name", "大厅显示屏"),
        )  # fmt: skip
        assert paired.returncode == 0, paired.stdout + paired.stderr
        assert f"{station_url}/board/" in paired.stdout
        kept_file = board / "device-board.json"
        assert stat.S_IMODE(kept_file.stat().st_mode) == 0o600
        kept = json.loads(kept_file.read_text(encoding="utf-8"))
        assert kept["station_url"] == station_url and kept["fingerprint"] == fingerprint
        [device] = station_data.devices()
        assert (device.kind, device.name, device.id) == ("board", "大厅显示屏", kept["device_id"])

        # The token works from the device's host; starting again needs no code.
        me = _me(lan, station_url, kept["token"])
        assert me["status"] == 200 and me["body"]["device"]["id"] == device.id
        again = _in(lan, lan.device_ns, *_kuaigong("device", "board", "--data", str(board)))
        assert again.returncode == 0, again.stdout + again.stderr

        # Revoked on the station: the token is refused, and the device says so.
        station_data.revoke(device.id)
        me = _me(lan, station_url, kept["token"])
        assert me["status"] == 401 and me["body"]["error"]["code"] == "device_revoked"
        stopped = _in(
            lan, lan.device_ns,
            *_kuaigong("device", "board", "--data", str(board), "--station", station_url),
        )  # fmt: skip
        assert stopped.returncode == 2 and "停用" in stopped.stderr

        # A service manager's SIGTERM ends the station cleanly (withdrawing its announcement).
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert "Traceback" not in log.read_text(encoding="utf-8", errors="replace")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.unlink(missing_ok=True)
