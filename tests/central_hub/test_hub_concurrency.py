"""Two real hub processes on one PostgreSQL take the same pushes at once: nothing lost, nothing
applied twice."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from hub_helpers import enrol_station, make_app, server_ms
from pg_helpers import PG_URL, drop_schema

from central_hub import db
from central_hub.models import AppliedEntry, Station, Worker
from kuaigong import clock

ROOT = Path(__file__).resolve().parents[2]
STATIONS, BATCHES, PER_BATCH = 3, 6, 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(data: Path, schema: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = dict(os.environ, KUAIGONG_HUB_DATABASE_URL=PG_URL, KUAIGONG_HUB_DATABASE_SCHEMA=schema)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from central_hub.cli import hub; hub()",
            "run",
            "--data",
            str(data),
            "--port",
            str(port),
            "--threads",
            "4",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/api/v1/healthz", timeout=1).status_code == 200:
                return proc, url
        except requests.ConnectionError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"hub did not start: {proc.stderr.read().decode() if proc.stderr else ''}")


@pytest.mark.postgres
def test_two_hub_processes_apply_every_entry_exactly_once(tmp_path: Path) -> None:
    app, schema = make_app(tmp_path, "postgres")
    procs: list[subprocess.Popen] = []
    try:
        logs = [enrol_station(app, f"驿站{i}") for i in range(STATIONS)]
        with app.app_context():
            start = clock.now_ms() - 600_000
        batches: list[list[bytes]] = []
        for n, log in enumerate(logs):
            log.wall = start
            for i in range(BATCHES * PER_BATCH):
                log.add(
                    "worker",
                    f"{log.station_id}-{i}",
                    "create",
                    {"name": f"工{i}", "id_hash": f"{n:02d}{i:062x}"},
                )
            batches.append(
                [log.batch(b * PER_BATCH + 1, (b + 1) * PER_BATCH) for b in range(BATCHES)]
            )
        db.database.close()
        urls = []
        for _ in range(2):
            proc, url = _serve(tmp_path / "hub", schema)
            procs.append(proc)
            urls.append(url)
        verdicts: list[str] = []
        failures: list[str] = []
        lock = threading.Lock()

        def send(log_index: int, url: str) -> None:
            session = requests.Session()
            for body in batches[log_index]:
                r = session.post(
                    f"{url}/api/v1/stations/{logs[log_index].station_id}/push",
                    data=body,
                    timeout=30,
                    headers=logs[log_index].call(body, server_ms(url)),
                )
                with lock:
                    if r.status_code in (200, 202):
                        verdicts.append(r.json()["verdict"])
                    else:
                        failures.append(f"{r.status_code} {r.text[:200]}")

        threads = [
            threading.Thread(target=send, args=(i, url)) for i in range(STATIONS) for url in urls
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert failures == []
        assert len(verdicts) == 2 * STATIONS * BATCHES
        assert set(verdicts) <= {"apply", "replay", "gap"}
        with app.app_context(), db.database.connection_context():
            total = STATIONS * BATCHES * PER_BATCH
            assert AppliedEntry.select().count() == total
            assert Worker.select().count() == total
            assert all(s.head_seq == BATCHES * PER_BATCH for s in Station.select())
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        if not db.database.is_closed():
            db.database.close()
        drop_schema(schema)


@pytest.mark.postgres
def test_the_same_people_pushed_through_two_hub_processes_at_once_get_one_merge_each(
    tmp_path: Path,
) -> None:
    from central_hub.models import Issue

    app, schema = make_app(tmp_path, "postgres")
    procs: list[subprocess.Popen] = []
    try:
        logs = [enrol_station(app, f"驿站{i}") for i in range(2)]
        with app.app_context():
            start = clock.now_ms() - 600_000
        batches: list[list[bytes]] = []
        for n, log in enumerate(logs):
            log.wall = start + n
            for i in range(BATCHES * PER_BATCH):  # both stations register the same people
                log.add(
                    "worker",
                    f"{log.station_id}-{i}",
                    "create",
                    {"name": f"工{i}", "id_hash": f"{i:064x}", "id_masked": "110105********002X"},
                )
            batches.append(
                [log.batch(b * PER_BATCH + 1, (b + 1) * PER_BATCH) for b in range(BATCHES)]
            )
        db.database.close()
        urls = []
        for _ in range(2):
            proc, url = _serve(tmp_path / "hub", schema)
            procs.append(proc)
            urls.append(url)
        failures: list[str] = []

        def send(index: int) -> None:
            session = requests.Session()
            for body in batches[index]:
                r = session.post(
                    f"{urls[index]}/api/v1/stations/{logs[index].station_id}/push",
                    data=body,
                    timeout=30,
                    headers=logs[index].call(body, server_ms(urls[index])),
                )
                if r.status_code != 200:
                    failures.append(f"{r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert failures == []
        with app.app_context(), db.database.connection_context():
            merges = list(Issue.select().where(Issue.kind == "merge"))
            assert sorted(m.subject for m in merges) == sorted(
                f"{i:064x}" for i in range(BATCHES * PER_BATCH)
            )  # none missed, none twice
            assert all(sorted(m.stations) == sorted(log.station_id for log in logs) for m in merges)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        if not db.database.is_closed():
            db.database.close()
        drop_schema(schema)
