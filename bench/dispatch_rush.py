"""Morning rush through the real HTTP API: 300 workers checked in, 60 jobs posted over 10
minutes of simulated time, simulated workers answering offers after 2–30 s with some declines
and silences. Reports the share of fillable jobs fully confirmed within 60 s (goal ≥ 95 %).

The station runs in this process behind waitress on 127.0.0.1:0 with a ManualClock; the
simulation moves the clock one second at a time and runs the dispatch tick each second (what
the station's scheduler does every real second). Every posting, check-in and answer goes
through the JSON API with staff or worker bearer tokens.

Run: `.venv/bin/python -m bench.dispatch_rush`.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import waitress
from stdnum.cn import ric

from bench.report import write_section
from kuaigong import clock
from station_node import create_app, db
from station_node.identity import ensure_keys
from station_node.scheduler import run_tick

SKILLS = [
    "cleaning",
    "moving",
    "loading",
    "sorting",
    "kitchen_help",
    "waiting",
    "security",
    "gardening",
]
CATEGORY_OF = {
    "cleaning": "property",
    "moving": "logistics",
    "loading": "logistics",
    "sorting": "logistics",
    "kitchen_help": "catering",
    "waiting": "catering",
    "security": "property",
    "gardening": "property",
}
COMMUNITIES = [
    "团结湖社区",
    "麦子店社区",
    "六里屯社区",
    "八里庄社区",
    "三里屯社区",
    "呼家楼社区",
    "双井社区",
    "劲松社区",
]
# Tomorrow's shifts, station time.
SHIFTS = [("08:00", "12:00"), ("13:00", "17:00"), ("08:00", "17:00"), ("18:00", "21:00")]
# 2025-05-06 08:00 at the station (UTC+8).
START = dt.datetime(2025, 5, 6, 0, 0, 0)


def id_number(n: int) -> str:
    """A valid, distinct resident ID number for simulated person `n`."""
    birth = dt.date(1965, 1, 1) + dt.timedelta(days=37 * n)
    body = f"110105{birth:%Y%m%d}{(n % 900) + 100:03d}"
    return body + ric.calc_check_digit(body + "0")


class Station:
    """A station app on a temporary folder, served by waitress on 127.0.0.1:0 in this process."""

    def __init__(self, data_dir: str, manual: clock.ManualClock | None = None, threads: int = 8):
        self.app = create_app({"DATA_DIR": data_dir})
        db.migrate()
        ensure_keys(self.app)
        if manual is not None:
            clock.install(self.app, manual)
        from station_node.services.staff import create_staff

        with self.app.app_context(), db.database.connection_context():
            _, self.staff_token = create_staff("bench", "压测员", "admin", "bench-password-1")
        self.server = waitress.create_server(self.app, host="127.0.0.1", port=0, threads=threads)
        self.base = f"http://127.0.0.1:{self.server.effective_port}/api/v1"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        self.http = requests.Session()

    def call(
        self, method: str, path: str, token: str | None = None, **kw: Any
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.staff_token}"}
        return self.http.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def ok(self, method: str, path: str, token: str | None = None, **kw: Any) -> dict[str, Any]:
        response = self.call(method, path, token, **kw)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def register_worker(self, n: int, skills: list[str], areas: list[str]) -> tuple[str, str]:
        """Register, check in and give a token to a worker; (worker id, token)."""
        body = {
            "name": f"工人{n:03d}",
            "id_number": id_number(n),
            "mobile": f"139{n:08d}",
            "skills": skills,
            "areas": areas,
        }
        worker_id = self.ok("POST", "/workers", json=body)["worker"]["id"]
        self.ok("POST", f"/workers/{worker_id}/checkin")
        token = self.ok("POST", f"/workers/{worker_id}/token")["token"]
        return worker_id, token

    def register_employer(self, n: int) -> str:
        from stdnum.cn import uscc

        body = f"91110105MA{n:07d}X"[:17]
        data = {
            "kind": "organisation",
            "name": f"朝阳服务公司{n}",
            "credit_code": body + uscc.calc_check_digit(body),
            "contact_name": "李经理",
            "mobile": "13912345678",
            "address": "朝阳区团结湖路1号",
        }
        return self.ok("POST", "/employers", json=data)["employer"]["id"]

    def close(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)


@dataclass
class Answer:
    at: int
    offer_id: str
    worker_id: str
    accept: bool


@dataclass
class Tally:
    offers_seen: int = 0
    accepted: int = 0
    declined: int = 0
    silent: int = 0
    too_late: int = 0  # answered after the offer closed (409 offer_closed)
    refused: dict[str, int] = field(default_factory=dict)


def _code(response: requests.Response) -> str:
    """The machine-readable code of an API error answer."""
    try:
        return str(response.json().get("error", {}).get("code") or response.status_code)
    except ValueError:
        return str(response.status_code)


def _job_body(rng: random.Random, employer_id: str, n: int) -> dict[str, Any]:
    skill = rng.choice(SKILLS)
    start, end = rng.choice(SHIFTS)
    day = (START + dt.timedelta(hours=8) + dt.timedelta(days=1)).date()
    return {
        "employer_id": employer_id,
        "title": f"急招{n}号",
        "category": CATEGORY_OF[skill],
        "skills": [skill],
        "headcount": rng.choice([1, 1, 2, 2, 3, 4]),
        "pay_fen": 2500,
        "pay_unit": "hour",
        "address": "朝阳区某小区",
        "community": rng.choice(COMMUNITIES),
        "starts_at": f"{day}T{start}",
        "ends_at": f"{day}T{end}",
        "source": "walk_in",
        "dispatch_mode": "offer",
    }


def run(
    seed: int = 20250506, workers: int = 300, jobs: int = 60, minutes: int = 10
) -> dict[str, Any]:
    """Run the rush; return its figures."""
    rng = random.Random(seed)
    manual = clock.ManualClock(START)
    with tempfile.TemporaryDirectory() as data_dir:
        station = Station(data_dir, manual)
        try:
            return _simulate(station, manual, rng, workers, jobs, minutes)
        finally:
            station.close()


def _simulate(
    station: Station,
    manual: clock.ManualClock,
    rng: random.Random,
    n_workers: int,
    n_jobs: int,
    minutes: int,
) -> dict[str, Any]:
    wall = time.perf_counter()
    tokens: dict[str, str] = {}
    for n in range(n_workers):
        skills = rng.sample(SKILLS, rng.choice([2, 3, 3, 4]))
        areas = rng.sample(COMMUNITIES, rng.choice([3, 4, 5, 8]))
        worker_id, token = station.register_worker(n, skills, areas)
        tokens[worker_id] = token
    employers = [station.register_employer(n) for n in range(1, 11)]
    setup_seconds = time.perf_counter() - wall

    span = minutes * 60
    post_at = sorted(rng.randrange(0, span) for _ in range(n_jobs))
    posted: list[str] = []
    answers: dict[int, list[Answer]] = {}
    seen: set[str] = set()
    tally = Tally()
    wall = time.perf_counter()
    for second in range(span + 120):
        manual.set(START + dt.timedelta(seconds=second))
        while post_at and post_at[0] <= second:
            post_at.pop(0)
            body = _job_body(rng, rng.choice(employers), len(posted) + 1)
            posted.append(station.ok("POST", "/jobs", json=body)["job"]["id"])
        for answer in answers.pop(second, []):
            verb = "accept" if answer.accept else "decline"
            response = station.call(
                "POST", f"/offers/{answer.offer_id}/{verb}", tokens[answer.worker_id]
            )
            if response.status_code < 300:
                tally.accepted += answer.accept
                tally.declined += not answer.accept
            elif _code(response) == "offer_closed":
                tally.too_late += 1
            else:
                code = _code(response)
                tally.refused[code] = tally.refused.get(code, 0) + 1
        run_tick(station.app)
        for row in station.ok("GET", "/board")["rows"]:
            for offer in row["offered"]:
                if offer["offer_id"] in seen:
                    continue
                seen.add(offer["offer_id"])
                tally.offers_seen += 1
                roll = rng.random()
                if roll < 0.15:
                    tally.silent += 1
                    continue
                delay = rng.randint(2, 30)
                answers.setdefault(second + delay, []).append(
                    Answer(
                        second + delay, offer["offer_id"], offer["worker_id"], accept=roll >= 0.30
                    )
                )
    sim_seconds = time.perf_counter() - wall
    return _figures(station, posted, tally, setup_seconds, sim_seconds)


def _figures(
    station: Station, posted: list[str], tally: Tally, setup: float, sim: float
) -> dict[str, Any]:
    from station_node.models import Assignment, Job, Ranking

    with station.app.app_context(), db.database.connection_context():
        jobs = list(Job.select().where(Job.id.in_(posted)))
        fill_times: list[float] = []
        fillable = within = places = 0
        for job in jobs:
            eligible = Ranking.select().where((Ranking.job == job.id) & Ranking.eligible).count()
            places += job.headcount
            if eligible < job.headcount:
                continue
            fillable += 1
            if job.filled_at is not None:
                seconds = (job.filled_at - job.dispatch_started_at).total_seconds()
                fill_times.append(seconds)
                within += seconds <= 60
        over = sum(
            1
            for j in jobs
            if Assignment.select().where(Assignment.job == j.id).count() > j.headcount
        )
        escalated = sum(1 for j in jobs if j.escalated_at is not None)
    fill_times.sort()
    return {
        "jobs": len(jobs),
        "places": places,
        "fillable": fillable,
        "filled_within_60s": within,
        "share_within_60s": within / fillable if fillable else 0.0,
        "median_seconds": statistics.median(fill_times) if fill_times else None,
        "p90_seconds": fill_times[int(0.9 * (len(fill_times) - 1))] if fill_times else None,
        "max_seconds": fill_times[-1] if fill_times else None,
        "unfilled_fillable": fillable - len(fill_times),
        "escalated": escalated,
        "over_assigned_jobs": over,
        "tally": tally,
        "setup_seconds": setup,
        "sim_seconds": sim,
    }


SEEDS = (20250506, 1, 2)


def main() -> None:
    runs = [run(seed=seed) for seed in SEEDS]
    figures = runs[0]
    t: Tally = figures["tally"]
    others = "\n".join(
        f"| {seed} | {f['jobs']} / {f['places']} | {f['filled_within_60s']} / {f['fillable']} = "
        f"{f['share_within_60s']:.1%} | {f['median_seconds']} | {f['p90_seconds']} "
        f"| {f['over_assigned_jobs']} |"
        for seed, f in zip(SEEDS, runs, strict=True)
    )
    goal = "met" if figures["share_within_60s"] >= 0.95 else "MISSED"
    body = f"""
Through the real HTTP API (waitress on 127.0.0.1:0, staff and worker bearer tokens); the
station's clock is a ManualClock moved one second at a time, with the dispatch tick run each
simulated second. 300 workers registered and checked in (2–4 of 8 skills, 3–8 of 8
communities), 60 offer-mode jobs (headcount 1–4, one skill, four shifts tomorrow) posted at
random moments over 10 minutes (first table: seed {SEEDS[0]}). Each offer: 15 % silence,
15 % decline, 70 % accept, answered after 2–30 s (answers after the 20 s deadline find the offer
closed).

| figure | value |
| --- | --- |
| jobs posted / places | {figures["jobs"]} / {figures["places"]} |
| fillable jobs (enough eligible workers) | {figures["fillable"]} |
| **fully confirmed within 60 s** | **{figures["filled_within_60s"]} / {figures["fillable"]} = \
{figures["share_within_60s"]:.1%}** (goal ≥ 95 %: {goal}) |
| median seconds to full confirmation | {figures["median_seconds"]} |
| 90th percentile seconds | {figures["p90_seconds"]} |
| slowest fill (s) / fillable jobs never filled | {figures["max_seconds"]} / \
{figures["unfilled_fillable"]} |
| jobs escalated to staff (45 s) | {figures["escalated"]} |
| offers sent / accepted / declined / silent / answered too late | {t.offers_seen} / \
{t.accepted} / {t.declined} / {t.silent} / {t.too_late} |
| other refusals | {t.refused or "none"} |
| jobs with more assignments than headcount | {figures["over_assigned_jobs"]} |
| wall time: setup / simulation | {figures["setup_seconds"]:.1f} s / \
{figures["sim_seconds"]:.1f} s |

The same rush with other random seeds (other jobs, answers and delays):

| seed | jobs / places | within 60 s | median s | p90 s | over-assigned jobs |
| --- | --- | --- | --- | --- | --- |
{others}

The cascade offers one worker per open place, and one more per place every 10 s without an
answer (up to 3): that is what keeps slow and silent workers from holding a job past 60 s, and
why many answers arrive after the place was taken ("answered too late" above; those workers
are told the job is filled).
"""
    write_section("Dispatch: morning rush", body)


if __name__ == "__main__":
    main()
