"""Grab latency: 100 concurrent clients grabbing over HTTP on a board of 200 open jobs.

The station runs as its own process (waitress on 127.0.0.1:0, 8 threads, the dispatch
scheduler ticking every second), on a database prepared beforehand through the services:
300 registered workers with their own tokens, 200 open grab-mode jobs of 3 places each on
50 different shifts (4 jobs per shift, so a worker can hold one job per shift). 100 client
threads, each a worker with a keep-alive connection, load the board, tap their first grab at
the same instant, then grab random jobs with a human pause between taps. Reports p50/p99 over
the whole run and over the opening burst, and proves no job got more workers than its
headcount and no worker two overlapping jobs.

Run: `.venv/bin/python -m bench.grab_latency`.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.client import HTTPConnection
from typing import Any

from bench.dispatch_rush import COMMUNITIES, id_number
from bench.report import write_section

CLIENTS = 100
JOBS = 200
HEADCOUNT = 3
WORKERS = 300
GRABS_PER_CLIENT = 20
STAGGER_SECONDS = 2.0  # the realistic start: people look up and tap within a couple of seconds
PAUSE_SECONDS = (0.5, 1.5)  # between one client's tries: a person reading the answer, tapping again


def _prepare(
    data_dir: str, workers: int = WORKERS, jobs_wanted: int = JOBS
) -> tuple[list[str], dict[str, str]]:
    """Create the station's data: workers with tokens and open grab jobs; (job ids, tokens)."""
    from station_node import create_app, db
    from station_node.identity import ensure_keys
    from station_node.services import registration, staff
    from station_node.services.posting import post_job

    app = create_app({"DATA_DIR": data_dir})
    db.migrate()
    ensure_keys(app)
    with app.app_context(), db.database.connection_context():
        admin, _ = staff.create_staff("bench", "压测员", "admin", "bench-password-1")
        tokens: dict[str, str] = {}
        for n in range(workers):
            worker = registration.register_worker(
                {
                    "name": f"工人{n:03d}",
                    "id_number": id_number(n),
                    "mobile": f"139{n:08d}",
                    "skills": ["cleaning", "moving"],
                    "areas": COMMUNITIES,
                },
                admin,
            )
            tokens[worker.id] = staff.issue_worker_token(worker.id, admin)
        employer = registration.register_employer(
            {
                "kind": "person",
                "name": "王先生",
                "id_number": id_number(workers + 1),
                "contact_name": "王先生",
                "mobile": "13912345678",
                "address": "朝阳区团结湖路1号",
            },
            admin,
        )
        jobs: list[str] = []
        today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
        for i in range(jobs_wanted):
            day = today + dt.timedelta(days=1 + i // 8)
            start, end = ("08:00", "12:00") if (i // 4) % 2 == 0 else ("13:00", "17:00")
            job = post_job(
                {
                    "employer_id": employer.id,
                    "title": f"搬家帮手{i}",
                    "category": "logistics",
                    "skills": ["moving"],
                    "headcount": HEADCOUNT,
                    "pay_fen": 2500,
                    "pay_unit": "hour",
                    "address": "朝阳区某小区",
                    "community": COMMUNITIES[i % len(COMMUNITIES)],
                    "starts_at": f"{day}T{start}",
                    "ends_at": f"{day}T{end}",
                    "source": "kiosk",
                    "dispatch_mode": "grab",
                },
                admin,
            )
            jobs.append(job.id)
    return jobs, tokens


def serve(data_dir: str) -> None:
    """The station process: print the port, then serve until stdin closes."""
    import logging

    import waitress

    from station_node import create_app
    from station_node.scheduler import start_scheduler

    app = create_app({"DATA_DIR": data_dir})
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=8, connection_limit=200)
    scheduler = start_scheduler(app)
    print(server.effective_port, flush=True)
    threading.Thread(target=server.run, daemon=True).start()
    sys.stdin.read()
    scheduler.shutdown(wait=False)
    server.close()


def _client(
    port: int,
    token: str,
    jobs: list[str],
    seed: int,
    barrier: threading.Barrier,
    out: list[tuple[float, int, str, float, int]],
    stagger: float,
) -> None:
    """One worker's phone: a keep-alive connection, GRABS_PER_CLIENT taps on random jobs.

    Plain http.client keeps the load generator light: it shares the machine's two cores with
    the station, and time spent in a heavier client would be counted as the station's.
    """
    rng = random.Random(seed)
    http = HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    http.request("GET", "/api/v1/jobs?status=open", headers=headers)  # the board, on screen first
    board = http.getresponse()
    assert board.status == 200 and json.loads(board.read())["jobs"], "the worker sees no open jobs"
    barrier.wait()
    start = time.perf_counter()
    time.sleep(rng.uniform(0, stagger))  # when this person looks up and taps
    for tap in range(GRABS_PER_CLIENT):
        job_id = rng.choice(jobs)
        began = time.perf_counter()
        http.request("POST", f"/api/v1/jobs/{job_id}/grab", body=b"{}", headers=headers)
        response = http.getresponse()
        payload = response.read()
        took = time.perf_counter() - began
        code = (
            "ok"
            if response.status == 201
            else json.loads(payload).get("error", {}).get("code", "?")
        )
        out.append((took, response.status, code, began - start, tap))
        time.sleep(rng.uniform(*PAUSE_SECONDS))
    http.close()


def _check(data_dir: str) -> dict[str, int]:
    """Count what the database holds after the run: the proof of no over-assignment."""
    from station_node import create_app, db
    from station_node.models import Assignment, Job

    app = create_app({"DATA_DIR": data_dir})
    with app.app_context(), db.database.connection_context():
        jobs = list(Job.select())
        over = sum(
            1
            for j in jobs
            if Assignment.select().where(Assignment.job == j.id).count() > j.headcount
        )
        mismatched = sum(
            1
            for j in jobs
            if Assignment.select().where(Assignment.job == j.id).count() != j.confirmed_count
        )
        live = list(Assignment.select().where(Assignment.status.in_(("confirmed", "checked_in"))))
        by_worker: dict[str, list[Assignment]] = {}
        for a in live:
            by_worker.setdefault(a.worker_id, []).append(a)
        overlapping = sum(
            1
            for held in by_worker.values()
            for i, a in enumerate(held)
            for b in held[i + 1 :]
            if a.starts_at < b.ends_at and b.starts_at < a.ends_at
        )
        return {
            "assignments": len(live),
            "jobs_over_headcount": over,
            "count_mismatches": mismatched,
            "overlapping_pairs": overlapping,
            "full_jobs": sum(1 for j in jobs if j.status == "filled"),
        }


def _service_costs() -> dict[str, float]:
    """Where a successful grab's time goes inside the station process (no HTTP): ms per grab."""
    from station_node import changelog, create_app, db
    from station_node.services import dispatch

    with tempfile.TemporaryDirectory() as data_dir:
        jobs, tokens = _prepare(data_dir, workers=30, jobs_wanted=40)
        app = create_app({"DATA_DIR": data_dir})
        logged = [0.0]
        record = changelog.record

        def timed_record(*args: Any, **kw: Any) -> Any:
            began = time.perf_counter()
            try:
                return record(*args, **kw)
            finally:
                logged[0] += time.perf_counter() - began

        changelog.record = timed_record  # type: ignore[assignment]
        try:
            with app.app_context(), db.database.connection_context():
                workers = list(tokens)
                began = time.perf_counter()
                for i, job_id in enumerate(jobs):
                    for k in range(HEADCOUNT):
                        dispatch.grab(job_id, workers[(i * HEADCOUNT + k) % len(workers)], None)
                total = time.perf_counter() - began
        finally:
            changelog.record = record  # type: ignore[assignment]
        n = len(jobs) * HEADCOUNT
        return {"grab_ms": total / n * 1000, "changelog_ms": logged[0] / n * 1000}


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))] * 1000


def run(stagger: float = 0.0) -> dict[str, Any]:
    """Prepare, serve in a child process, grab from 100 threads, check; return the figures.

    `stagger`: the first taps are spread at random over this many seconds (0: all at once).
    """
    with tempfile.TemporaryDirectory() as data_dir:
        jobs, tokens = _prepare(data_dir)
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.grab_latency", "--serve", data_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            results: list[tuple[float, int, str, float, int]] = []
            barrier = threading.Barrier(CLIENTS)
            workers = list(tokens)[:CLIENTS]
            threads = [
                threading.Thread(
                    target=_client, args=(port, tokens[w], jobs, i, barrier, results, stagger)
                )
                for i, w in enumerate(workers)
            ]
            began = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - began
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=30)
        proof = _check(data_dir)
    latencies = [r[0] for r in results]
    won = [r[0] for r in results if r[1] == 201]
    # The rush: until 90 % of the places are taken; then mostly "full" answers.
    wins = sorted(r[3] for r in results if r[1] == 201)
    last_win = wins[int(0.9 * (len(wins) - 1))] if wins else 0.0
    opening = [r[0] for r in results if r[4] == 0]  # every client's first tap, all at one instant
    rush = [r[0] for r in results if r[3] <= last_win]
    after = [r[0] for r in results if r[3] > last_win]
    return {
        "requests": len(results),
        "wall_seconds": wall,
        "codes": Counter(r[2] for r in results),
        "p50_ms": _pct(latencies, 0.50),
        "p99_ms": _pct(latencies, 0.99),
        "max_ms": max(latencies) * 1000,
        "won_p50_ms": _pct(won, 0.50) if won else None,
        "won_p99_ms": _pct(won, 0.99) if won else None,
        "opening_requests": len(opening),
        "opening_p50_ms": _pct(opening, 0.50),
        "opening_p99_ms": _pct(opening, 0.99),
        "opening_max_ms": max(opening) * 1000,
        "rush_seconds": last_win,
        "rush_requests": len(rush),
        "rush_p50_ms": _pct(rush, 0.50) if rush else None,
        "rush_p99_ms": _pct(rush, 0.99) if rush else None,
        "after_p50_ms": _pct(after, 0.50) if after else None,
        "after_p99_ms": _pct(after, 0.99) if after else None,
        "samples": results,
        "created": sum(1 for r in results if r[1] == 201),
        "errors_5xx": sum(1 for r in results if r[1] >= 500),
        **proof,
    }


def main() -> None:
    spread = run(stagger=STAGGER_SECONDS)
    f = run()
    costs = _service_costs()
    spread_goal = "met" if spread["p99_ms"] <= 100 else "MISSED"
    codes = ", ".join(f"{code} {n}" for code, n in f["codes"].most_common())
    whole_goal = "met" if f["p99_ms"] <= 100 else "MISSED"
    opening_goal = "met" if f["opening_p99_ms"] <= 100 else "MISSED"
    body = f"""
{CLIENTS} concurrent clients over HTTP to a station process (waitress, 8 threads, scheduler
ticking) holding {WORKERS} workers and a board of {JOBS} open grab-mode jobs × {HEADCOUNT} places
on 50 shifts. Each client is one worker's phone: its own keep-alive connection and bearer
token; it first loads the board (`GET /api/v1/jobs?status=open`, not timed), taps its first
grab (when: see the two runs below), then taps {GRABS_PER_CLIENT - 1} more random jobs,
pausing {PAUSE_SECONDS[0]}–{PAUSE_SECONDS[1]} s between taps (reading the answer, tapping
again) — about {CLIENTS} taps a second in all. The clients use plain `http.client` in one
process on the same two cores as the station; latency is measured from sending the request
to reading the whole answer.

Two runs, each on fresh data. **Spread start**: each client's first tap falls at a random
moment in the first {STAGGER_SECONDS:.0f} s, as when a job board lights up and people look up and
tap. **Simultaneous start**: all {CLIENTS} first taps in the same millisecond (a barrier; the
worst case).

| spread start ({STAGGER_SECONDS:.0f} s) | value |
| --- | --- |
| grab requests | {spread["requests"]} in {spread["wall_seconds"]:.1f} s |
| **latency p50 / p99** (all answers) | **{spread["p50_ms"]:.1f} ms / {spread["p99_ms"]:.1f} \
ms** (goal p99 ≤ 100 ms: {spread_goal}) |
| first taps p50 / p99 | {spread["opening_p50_ms"]:.1f} ms / {spread["opening_p99_ms"]:.1f} ms |
| over-assigned jobs / overlapping pairs / 5xx | {spread["jobs_over_headcount"]} / \
{spread["overlapping_pairs"]} / {spread["errors_5xx"]} |

| simultaneous start | value |
| --- | --- |
| grab requests | {f["requests"]} in {f["wall_seconds"]:.1f} s \
({f["requests"] / f["wall_seconds"]:.0f}/s) |
| **latency p50 / p99, whole run** (all answers) | **{f["p50_ms"]:.1f} ms / {f["p99_ms"]:.1f} \
ms** (goal p99 ≤ 100 ms: {whole_goal}) |
| **opening burst** ({f["opening_requests"]} first taps at one instant): p50 / p99 / slowest | \
**{f["opening_p50_ms"]:.1f} ms / {f["opening_p99_ms"]:.1f} ms** / {f["opening_max_ms"]:.1f} ms \
(≤ 100 ms: {opening_goal}) |
| latency p50 / p99 of successful grabs | {f["won_p50_ms"]:.1f} ms / {f["won_p99_ms"]:.1f} ms |
| during the rush (until 90 % of places were taken, {f["rush_seconds"]:.1f} s, \
{f["rush_requests"]} requests): p50 / p99 | {f["rush_p50_ms"]:.1f} ms / {f["rush_p99_ms"]:.1f} ms |
| after that: p50 / p99 | {f["after_p50_ms"]:.1f} ms / {f["after_p99_ms"]:.1f} ms |
| slowest answer | {f["max_ms"]:.1f} ms |
| answers by code | {codes} |
| server errors (5xx) | {f["errors_5xx"]} |

Proof of no over-assignment, read from the database afterwards:

| check | value |
| --- | --- |
| successful grabs (201) / live assignments in the database | {f["created"]} / {f["assignments"]} |
| jobs with more assignments than headcount | {f["jobs_over_headcount"]} |
| jobs whose confirmed count differs from their assignments | {f["count_mismatches"]} |
| pairs of overlapping assignments held by one worker | {f["overlapping_pairs"]} |
| jobs filled | {f["full_jobs"]} of {JOBS} |

Where the time goes: one successful grab costs {costs["grab_ms"]:.1f} ms inside the station
process without HTTP (measured separately, one thread), of which {costs["changelog_ms"]:.1f} ms
is writing its three change-log entries (assignment, worker, job: the chain head is read by one
index step inside the grab's transaction, the enrolment and receipt files are parsed once per
file version). Requests take pooled database connections, and the token, job and worker
reads are fixed SQL. Writes are serialised (one SQLite writer, queued on an in-process lock)
and the process is one Python interpreter on a shared two-core machine, so the opening burst
— {CLIENTS} grabs arriving in the same millisecond — is answered one after another: the last
of them waits for all those before it, which is what the whole-run p99 (5 % of the run's
requests are that burst) mostly shows. Once the taps are spread by people's own pace, answers
come in a few milliseconds. Answers for jobs already full are read-only and do not wait for
the write lock.
"""
    write_section("Dispatch: grab latency", body)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        main()
