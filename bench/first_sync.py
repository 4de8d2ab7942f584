"""First sync of a large station: 10,000 workers and 5,000 jobs pushed to a hub on loopback.

The hub runs as its own process (`kuaigong hub run`, SQLite); the station enrols with a real
code, its data is made quickly (rows in bulk, each change through `changelog.record`), then one
`sync_once` pushes everything in gzip'd signed batches and pulls the hub log. Reported: seconds
end to end, entries per second, and the peak resident memory (VmHWM) of both processes during
the sync.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.report import write_section

WORKERS = int(os.environ.get("BENCH_SYNC_WORKERS", "10000"))
JOBS = int(os.environ.get("BENCH_SYNC_JOBS", "5000"))
EMPLOYERS = 200
GOAL_SECONDS = 10.0
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peak_kib(pid: int | str = "self") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _reset_peak(pid: int | str = "self") -> None:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # Linux: VmHWM := current RSS
    except OSError:
        pass


def _wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    import requests

    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError("the hub exited while starting")
        try:
            if requests.get(url + "/api/v1/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            time.sleep(0.05)
    raise RuntimeError("the hub did not start")


def _id_number(n: int) -> str:
    from stdnum.cn import ric

    birth = dt.date(1960, 1, 1) + dt.timedelta(days=n % 15000)
    body = f"110105{birth:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _fill(app: Any) -> int:
    """Workers, employers and jobs in bulk, each change logged through the change log."""
    from stdnum.cn import uscc

    from station_node import changelog, db, identity
    from station_node.models import ChangeEntry, Employer, Job, Worker, new_id

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    start = now + dt.timedelta(days=2)
    with app.app_context(), db.database.connection_context():
        with db.atomic():
            employers = []
            for n in range(EMPLOYERS):
                body = f"91110105MA0{n:06d}"
                employers.append(
                    {
                        "id": new_id(),
                        "kind": "organisation",
                        "name": f"物业服务公司{n}",
                        "credit_code": body + uscc.calc_check_digit(body),
                        "contact_name": "李经理",
                        "mobile": "13912345678",
                        "address": "团结湖路1号",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            Employer.insert_many(employers).execute()
            for e in employers:
                changelog.record(
                    "employer", str(e["id"]), "create", {k: v for k, v in e.items() if k != "id"}
                )
        seen: set[str] = set()
        for chunk in range(0, WORKERS, 1000):
            rows = []
            for n in range(chunk, min(WORKERS, chunk + 1000)):
                number = _id_number(n)
                while number in seen:
                    n += 7919
                    number = _id_number(n)
                seen.add(number)
                rows.append(
                    {
                        "id": new_id(),
                        "name": f"工人{n}",
                        "id_cipher": identity.encrypt_id(number),
                        "id_hash": identity.hash_id(number),
                        "id_masked": identity.mask_id(number),
                        "birth_date": dt.date(1980, 1, 1),
                        "sex": "M",
                        "mobile": f"138{n:08d}",
                        "skills": ["cleaning", "moving"],
                        "areas": ["团结湖社区"],
                        "availability": {"days": [0, 1, 2, 3, 4], "from": "08:00", "to": "18:00"},
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            with db.atomic():
                Worker.insert_many(rows).execute()
                for r in rows:
                    changelog.record(
                        "worker",
                        str(r["id"]),
                        "create",
                        {
                            k: r[k]
                            for k in (
                                "name",
                                "id_hash",
                                "id_masked",
                                "mobile",
                                "skills",
                                "areas",
                                "availability",
                                "created_at",
                            )
                        },
                    )
        for chunk in range(0, JOBS, 1000):
            rows = []
            for n in range(chunk, min(JOBS, chunk + 1000)):
                begins = start + dt.timedelta(hours=n % 48)
                rows.append(
                    {
                        "id": new_id(),
                        "employer": employers[n % EMPLOYERS]["id"],
                        "title": f"小区保洁{n}",
                        "category": "property",
                        "description": "楼道清扫",
                        "skills": ["cleaning"],
                        "headcount": 2,
                        "pay_fen": 2500,
                        "pay_unit": "hour",
                        "address": "团结湖北里3号楼",
                        "community": "团结湖社区",
                        "starts_at": begins,
                        "ends_at": begins + dt.timedelta(hours=4),
                        "source": "walk_in",
                        "dispatch_mode": "grab",
                        "status": "open",
                        "posted_at": now,
                        "updated_at": now,
                    }
                )
            with db.atomic():
                Job.insert_many(rows).execute()
                for r in rows:
                    changelog.record(
                        "job",
                        str(r["id"]),
                        "create",
                        {
                            **{k: v for k, v in r.items() if k not in ("id", "employer")},
                            "employer_id": r["employer"],
                        },
                    )
        return ChangeEntry.select().count()


def main() -> None:
    """Measure and report the first sync."""
    from central_hub import create_app as hub_app
    from central_hub import db as hub_db
    from central_hub.services import stations
    from station_node import create_app, db
    from station_node.identity import ensure_keys
    from station_node.sync.client import sync_once
    from station_node.sync.enrolment import enroll

    with tempfile.TemporaryDirectory(prefix="kuaigong-bench-") as tmp:
        hub_data = Path(tmp) / "hub"
        port = _free_port()
        kuaigong = str(Path(sys.executable).with_name("kuaigong"))
        subprocess.run(
            [kuaigong, "hub", "init", "--data", str(hub_data)],
            check=True,
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        admin = hub_app({"DATA_DIR": str(hub_data)})
        with admin.test_request_context(), hub_db.database.connection_context():
            code = stations.create_station(
                {"name": "大型驿站", "district": "朝阳区", "community": "团结湖"}, None
            ).code
        hub = subprocess.Popen(
            [
                kuaigong,
                "hub",
                "run",
                "--data",
                str(hub_data),
                "--port",
                str(port),
                "--threads",
                "4",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_for(url, hub)
            app = create_app({"DATA_DIR": str(Path(tmp) / "station")})
            db.migrate()
            ensure_keys(app)
            enroll(app, url, code)
            t0 = time.perf_counter()
            entries = _fill(app)
            fill_s = time.perf_counter() - t0

            _reset_peak()
            _reset_peak(hub.pid)
            t0 = time.perf_counter()
            outcome = sync_once(app)
            seconds = time.perf_counter() - t0
            station_peak, hub_peak = _peak_kib(), _peak_kib(hub.pid)
        finally:
            hub.terminate()
            hub.wait(10)
    assert outcome.accepted_seq == entries, (outcome.accepted_seq, entries)
    verdict = "meets" if seconds <= GOAL_SECONDS else "misses"
    body = (
        f"A station holding {WORKERS:,} workers, {JOBS:,} jobs and {EMPLOYERS} employers "
        f"({entries:,} change-log entries) syncs for the first time with a hub "
        "(`kuaigong hub run`, "
        "SQLite, its own process) on loopback: gzip'd signed batches of up to 500 entries / 1 MiB, "
        "each answered with a signed receipt, then the hub-log pull.\n\n"
        "| figure | value |\n| --- | --- |\n"
        f"| first sync, end to end | {seconds:.2f} s "
        f"({verdict} the goal of ≤ {GOAL_SECONDS:.0f} s) |\n"
        f"| entries per second | {entries / seconds:,.0f} |\n"
        f"| batches pushed | {outcome.batches} |\n"
        f"| peak RSS during the sync, station process | {station_peak / 1024:.0f} MiB |\n"
        f"| peak RSS during the sync, hub process | {hub_peak / 1024:.0f} MiB |\n"
        f"| making the data (not part of the sync) | {fill_s:.1f} s |\n"
    )
    write_section("first_sync", body)


if __name__ == "__main__":
    main()
