"""A city-sized hub: 100 stations, 200,000 workers, 50,000 jobs (with their assignments and
complaints) loaded into PostgreSQL with COPY, then p50/p95 of the city view, the annual
evaluation and the reconciliation queue pages over a real HTTP server, signed in as an admin.

The data goes into a schema of its own in database `test`, dropped afterwards.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import random
import re
import secrets
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PG_URL = os.environ.get("KUAIGONG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
STATIONS = 100
WORKERS = int(os.environ.get("BENCH_CITY_WORKERS", "200000"))
JOBS = int(os.environ.get("BENCH_CITY_JOBS", "50000"))
SHARED = WORKERS // 50  # people registered at a second station: merge proposals
COMPLAINTS = JOBS // 10
REQUESTS = int(os.environ.get("BENCH_CITY_REQUESTS", "40"))
YEAR = 2026
PAGES = {
    "city view": "/city/",
    "evaluation": f"/city/evaluation?year={YEAR}",
    "reconciliation queue": "/reconcile/",
}
T0 = dt.datetime(YEAR, 1, 1)


def _copy(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """COPY rows into `table` (CSV through an in-memory buffer)."""
    from central_hub import db

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow(
            ["\\N" if v is None else ("t" if v is True else "f" if v is False else v) for v in row]
        )
    buffer.seek(0)
    names = ", ".join(f'"{c}"' for c in columns)
    db.database.cursor().copy_expert(
        f"COPY \"{table}\" ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", buffer
    )


def _stamps(station: str, wall: int) -> str:
    return json.dumps({"*": [wall, 0, station]}, separators=(",", ":"))


def _twin(i: int) -> int:
    """The earlier worker that worker `i` (one of the last SHARED) is the same person as."""
    j = (i - (WORKERS - SHARED)) * 7
    return j + 1 if j % STATIONS == i % STATIONS else j


def _build(rng: random.Random) -> dict[str, int]:
    """Stations, people, workers, jobs, assignments, complaints and queue items."""
    from central_hub.models import Station

    now = dt.datetime(YEAR, 11, 1)
    stations = [f"st{n:03d}" for n in range(STATIONS)]
    Station.insert_many(
        [
            {
                "id": s,
                "name": f"第{n + 1}驿站",
                "district": f"{n % 12 + 1}区",
                "community": f"社区{n}",
                "status": "active",
                "created_at": T0,
                "enrolled_at": T0,
                "head_seq": 1000,
                "last_sync_at": now,
            }
            for n, s in enumerate(stations)
        ]
    ).execute()

    base = ("id", "station", "data", "stamps", "deleted", "created_at", "received_at")
    people: list[tuple[Any, ...]] = []
    workers: list[tuple[Any, ...]] = []
    worker_hash: list[str] = []
    for i in range(WORKERS):
        station = stations[i % STATIONS]
        if i >= WORKERS - SHARED:  # the same person as an earlier worker, at another station
            id_hash = worker_hash[_twin(i)]
        else:
            id_hash = f"{i:064x}"
            people.append((id_hash, f"110105********{i % 10000:04d}", None, now))
        worker_hash.append(id_hash)
        created = T0 + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        data = {
            "name": f"工{i}",
            "id_hash": id_hash,
            "id_masked": f"110105********{i % 10000:04d}",
            "mobile": f"138{i:08d}",
            "skills": ["cleaning", "moving"],
            "created_at": created.isoformat() + "Z",
            "status": "active",
        }
        workers.append(
            (
                f"w{i}",
                station,
                json.dumps(data, ensure_ascii=False),
                _stamps(station, 0),
                False,
                created,
                now,
                id_hash,
                f"工{i}",
                "active",
            )
        )
    _copy("person", ["id_hash", "id_masked", "id_sealed", "created_at"], people)
    _copy("worker", [*base, "id_hash", "name", "status"], workers)

    jobs, assignments = [], []
    statuses = ["filled"] * 14 + ["open"] * 4 + ["held", "cancelled"]
    for j in range(JOBS):
        station = stations[j % STATIONS]
        posted = T0 + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        status = rng.choice(statuses)
        filled = (
            posted + dt.timedelta(seconds=int(rng.lognormvariate(3.6, 0.8)))
            if status == "filled"
            else None
        )
        starts = posted + dt.timedelta(days=1)
        job = {
            "title": "保洁",
            "category": "cleaning",
            "status": status,
            "headcount": 1,
            "posted_at": posted.isoformat() + "Z",
        }
        jobs.append(
            (
                f"j{j}",
                station,
                json.dumps(job, ensure_ascii=False),
                _stamps(station, 0),
                False,
                posted,
                now,
                "保洁",
                "cleaning",
                status,
                1,
                posted,
                posted,
                filled,
                starts,
                starts + dt.timedelta(hours=4),
                int((filled - posted).total_seconds()) if filled else None,
            )
        )
        if filled is not None:
            w = rng.randrange(WORKERS)
            a_status = "no_show" if rng.random() < 0.03 else "completed"
            assignments.append(
                (
                    f"a{j}",
                    station,
                    json.dumps({"job_id": f"j{j}", "worker_id": f"w{w}"}),
                    _stamps(station, 0),
                    False,
                    filled,
                    now,
                    f"j{j}",
                    f"w{w}",
                    worker_hash[w],
                    a_status,
                    starts,
                    starts + dt.timedelta(hours=4),
                    filled,
                )
            )
    _copy(
        "job",
        [
            *base,
            "title",
            "category",
            "status",
            "headcount",
            "posted_at",
            "dispatch_started_at",
            "filled_at",
            "starts_at",
            "ends_at",
            "fill_seconds",
        ],
        jobs,
    )
    _copy(
        "assignment",
        [*base, "job_id", "worker_id", "id_hash", "status", "starts_at", "ends_at", "confirmed_at"],
        assignments,
    )

    complaints = []
    for c in range(COMPLAINTS):
        station = stations[c % STATIONS]
        created = T0 + dt.timedelta(minutes=rng.randrange(300 * 24 * 60))
        resolved = rng.random() < 0.7
        complaints.append(
            (
                f"c{c}",
                station,
                "{}",
                "{}",
                False,
                created,
                now,
                "unpaid_wages",
                "resolved" if resolved else "open",
                created + dt.timedelta(days=3) if resolved else None,
            )
        )
    _copy("complaint", [*base, "kind", "status", "resolved_at"], complaints)

    issues = []
    for k in range(SHARED):
        i = WORKERS - SHARED + k
        j = _twin(i)
        pair = sorted({stations[i % STATIONS], stations[j % STATIONS]})
        details = {
            "workers": [
                {
                    "id": f"w{x}",
                    "station": stations[x % STATIONS],
                    "name": f"工{x}",
                    "id_masked": "110105********0000",
                }
                for x in (j, i)
            ]
        }
        issues.append(
            (
                "merge",
                "open",
                f"merge:{worker_hash[i]}:{','.join(pair)}",
                worker_hash[i],
                json.dumps(pair),
                json.dumps(details, ensure_ascii=False),
                now,
            )
        )
    _copy(
        "issue",
        ["kind", "status", "dedupe", "subject", "stations", "details", "created_at"],
        issues,
    )
    return {
        "stations": STATIONS,
        "workers": len(workers),
        "people": len(people),
        "jobs": len(jobs),
        "assignments": len(assignments),
        "complaints": len(complaints),
        "issues": len(issues),
    }


def _vacuum(schema: str) -> None:
    import psycopg2

    conn = psycopg2.connect(PG_URL, options=f"-c search_path={schema}")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


def _serve(app: Any) -> tuple[Any, str]:
    from waitress.server import create_server

    server: Any = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def _login(url: str) -> Any:
    import requests

    session = requests.Session()
    page = session.get(f"{url}/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page
    )
    assert token, "no CSRF token on the login page"
    answer = session.post(
        f"{url}/login",
        data={"username": "bench", "password": "bench-pass-1", "csrf_token": token.group(1)},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, answer.text[:300]
    return session


def _timings(session: Any, url: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for name, path in PAGES.items():
        first = session.get(url + path, timeout=60)
        assert first.status_code == 200, (path, first.status_code, first.text[:300])
        samples = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = session.get(url + path, timeout=60)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
        out[name] = samples
    return out


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    """Build the city, time the pages, write the section of docs/benchmarks.md."""
    from bench.report import write_section
    from central_hub import create_app, db
    from central_hub.services import admins

    schema = f"hubcity_{secrets.token_hex(4)}"
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "DATA_DIR": str(Path(tmp) / "hub"),
                "DATABASE_URL": PG_URL,
                "DATABASE_SCHEMA": schema,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            }
        )
        try:
            db.migrate(schema)
            started = time.perf_counter()
            with app.app_context(), db.database.connection_context():
                with db.atomic():
                    sizes = _build(random.Random(2027))
                admins.create_admin("bench", "基准管理员", "admin", "bench-pass-1")
            _vacuum(schema)  # a settled database, as autovacuum keeps it: index-only scans work
            build_s = time.perf_counter() - started
            server, url = _serve(app)
            try:
                timings = _timings(_login(url), url)
            finally:
                server.close()
        finally:
            if not db.database.is_closed():
                db.database.close()
            with db.database.connection_context():
                db.database.execute_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    lines = [
        f"PostgreSQL schema of its own: {sizes['stations']} stations, {sizes['workers']:,} workers "
        f"({sizes['people']:,} people; {SHARED:,} registered at a second station), "
        f"{sizes['jobs']:,} jobs, {sizes['assignments']:,} assignments, {sizes['complaints']:,} "
        f"complaints, {sizes['issues']:,} open merge proposals; loaded with COPY and "
        f"`VACUUM ANALYZE` in {build_s:.1f} s. Pages fetched over HTTP "
        "(waitress on 127.0.0.1, signed-in admin), "
        f"{REQUESTS} requests each after one warm-up.",
        "",
        "| page | p50 ms | p95 ms | max ms |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, samples in timings.items():
        lines.append(
            f"| {name} (`{PAGES[name]}`) | {statistics.median(samples):.0f} | "
            f"{_pct(samples, 0.95):.0f} | {max(samples):.0f} |"
        )
    lines += ["", "Goal: p95 ≤ 300 ms."]
    write_section("hub_city", "\n".join(lines))


if __name__ == "__main__":
    main()
