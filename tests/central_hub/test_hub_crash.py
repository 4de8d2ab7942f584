"""The hub process is SIGKILLed in the middle of applying a push (inside the transaction, after
the entries were written, before the commit): the batch is there entirely or not at all, and
the same push after a restart applies it exactly once."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hub_helpers import StationLog, server_ms

from central_hub import create_app, db
from central_hub.models import AppliedEntry, Station, Worker
from central_hub.services import stations
from kuaigong import clock

ENTRIES = 300


class Hub:
    """`hub_server.py` in a subprocess on a SQLite file, so it can be SIGKILLed."""

    def __init__(self, data: Path) -> None:
        self.config = {"DATA_DIR": str(data), "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self, **env: str) -> Hub:
        script = Path(__file__).with_name("hub_server.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), json.dumps(self.config)],
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **env},
            cwd=Path(__file__).resolve().parents[2],
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("port "), f"hub did not start: {line!r}"
        self.url = f"http://127.0.0.1:{line.split()[1]}"
        return self

    def wait_for_stderr(self, marker: str, timeout: float) -> None:
        """Block until the hub writes `marker` on stderr."""
        assert self.proc is not None and self.proc.stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stderr], [], [], 0.2)
            if ready and marker in self.proc.stderr.readline():
                return
        raise AssertionError(f"the hub never wrote {marker!r}")

    def kill(self) -> None:
        """SIGKILL: no cleanup, no commit — like pulling the plug."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr) if self.proc else ():
            if stream is not None:
                stream.close()

    def push(self, log: StationLog, body: bytes, timeout: float = 30) -> requests.Response:
        headers = {
            "Content-Type": "application/x-kuaigong-batch",
            **log.call(body, server_ms(self.url)),
        }
        return requests.post(
            f"{self.url}/api/v1/stations/{log.station_id}/push",
            data=body,
            headers=headers,
            timeout=timeout,
        )


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    proc = Hub(tmp_path / "hub")
    yield proc
    proc.kill()


def _counts(config: dict[str, Any], station_id: str) -> tuple[int, int, int]:
    app = create_app(config)
    with app.app_context(), db.database.connection_context():
        head = Station.get_by_id(station_id).head_seq
        return AppliedEntry.select().count(), Worker.select().count(), head


def test_sigkill_inside_apply_leaves_all_or_nothing_and_a_resend_applies_once(hub: Hub) -> None:
    hub.start(KUAIGONG_HUB_TEST_APPLY_DELAY="30")
    app = create_app(hub.config)
    with app.test_request_context(), db.database.connection_context():
        issued = stations.create_station(
            {"name": "东城驿站", "district": "东城区", "community": "和平里"}, None
        )
        wall = clock.now_ms() - 60_000
    log = StationLog(issued.station.id, wall_ms=wall)
    enrolled = requests.post(
        f"{hub.url}/api/v1/enroll",
        timeout=10,
        json={"code": issued.code, "public_key": log.key.public_key.hex()},
    )
    assert enrolled.status_code == 201, enrolled.text
    for i in range(ENTRIES):
        log.add(
            "worker",
            f"w{i}",
            "create",
            {"name": f"工{i}", "id_hash": f"{i:064x}", "id_masked": "110105********002X"},
        )
    body = log.batch(1, ENTRIES)

    outcome: list[Any] = []
    sender = threading.Thread(target=lambda: outcome.append(_try_push(hub, log, body)))
    sender.start()
    hub.wait_for_stderr("kuaigong-hub: applying", timeout=20)  # inside the transaction now
    hub.kill()
    sender.join(10)
    assert outcome and not isinstance(outcome[0], requests.Response)  # no answer ever came

    applied, workers, head = _counts(hub.config, log.station_id)
    assert (applied, workers, head) in ((0, 0, 0), (ENTRIES, ENTRIES, ENTRIES))  # all or none
    assert (applied, workers, head) == (0, 0, 0)  # killed before the commit: none

    hub.start()
    again = hub.push(log, body)
    assert again.status_code == 200, again.text
    assert (again.json()["verdict"], again.json()["accepted_seq"]) == ("apply", ENTRIES)
    assert again.json()["applied"] == ENTRIES
    replay = hub.push(log, body)
    assert (replay.status_code, replay.json()["verdict"]) == (200, "replay")
    assert _counts(hub.config, log.station_id) == (ENTRIES, ENTRIES, ENTRIES)


def _try_push(hub: Hub, log: StationLog, body: bytes) -> Any:
    try:
        return hub.push(log, body)
    except requests.RequestException as exc:
        return exc
