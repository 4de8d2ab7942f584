"""Live latency: a job posted reaches the board and the phone pages; a phone tap confirms a grab.

The station runs as its own process (waitress on 127.0.0.1:0 with the default thread count of
`kuaigong station run`, the dispatch scheduler ticking), on a database prepared through the
services: PHONES workers signed in on their phones with kiosk-issued codes (through the real
/m/signin form), an employer, and the staff member who posts. Connected meanwhile: one board
stream (`topics=board`, no sign-in, as the display screen) and each phone's stream
(`topics=board,worker` on its phone session, as the phone page). Each stream reconnects with
Last-Event-ID when the station ends it, as a browser's EventSource does.

POSTS grab-mode jobs are posted one after another over the API. For each: the time from sending
the post until its `job` event arrives on the board stream and on a phone stream, and until the
phone's page fragment (what live.js fetches on the event) lists the job. Then the phone whose
turn it is taps grab (`POST /m/jobs/<number>/grab`, as live.js sends the form): the time until
the answer is on screen and until the `booked` event arrives on that phone's stream.

Run: `.venv/bin/python -m bench.live_latency`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from http.client import HTTPConnection
from typing import Any

import requests

from bench.dispatch_rush import COMMUNITIES, id_number
from bench.report import write_section

POSTS = int(os.environ.get("KUAIGONG_LIVE_POSTS", 240))
PHONES = 6
PAUSE_SECONDS = 0.05  # between postings: staff typing is far slower; this only keeps order clear
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def _prepare(data_dir: str) -> dict[str, Any]:
    """Staff token, employer, and PHONES workers each with a kiosk-issued phone code."""
    from station_node import create_app, db
    from station_node.identity import ensure_keys
    from station_node.services import phone_signin, registration, staff

    app = create_app({"DATA_DIR": data_dir})
    db.migrate()
    ensure_keys(app)
    with app.app_context(), db.database.connection_context():
        admin, token = staff.create_staff("bench", "压测员", "admin", "bench-password-1")
        phones = []
        for n in range(PHONES):
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
            code, _ = phone_signin.kiosk_code(worker)
            phones.append({"worker_id": worker.id, "mobile": worker.mobile, "code": code})
        employer = registration.register_employer(
            {
                "kind": "person",
                "name": "王先生",
                "id_number": id_number(PHONES + 1),
                "contact_name": "王先生",
                "mobile": "13912345678",
                "address": "朝阳区团结湖路1号",
            },
            admin,
        )
    return {"token": token, "employer_id": employer.id, "phones": phones}


def serve(data_dir: str) -> None:
    """The station process, as `kuaigong station run` serves it: print the port, serve until
    stdin closes."""
    import logging

    import waitress

    from station_node import cli, create_app
    from station_node.scheduler import start_scheduler

    threads = next(
        p.default
        for p in cli.run_command.params
        if p.name == "threads"  # the same default as the real command
    )
    app = create_app({"DATA_DIR": data_dir})
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    scheduler = start_scheduler(app)
    print(server.effective_port, threads, flush=True)
    threading.Thread(target=server.run, daemon=True).start()
    sys.stdin.read()
    scheduler.shutdown(wait=False)
    server.close()


class Listener(threading.Thread):
    """One page's event stream: records when each event first arrives, reconnects like
    EventSource (with Last-Event-ID) when the station ends the stream."""

    def __init__(self, base: str, topics: str, session: requests.Session | None = None) -> None:
        super().__init__(daemon=True)
        self.base, self.topics = base, topics
        self.session = session or requests.Session()
        self.seen: dict[tuple[str, str], float] = {}  # (kind, job id) → perf_counter
        self.on_event: Any = None
        self.stopped = threading.Event()
        self.connected = threading.Event()
        self.reconnects = 0

    def run(self) -> None:
        last_id = ""
        while not self.stopped.is_set():
            try:
                last_id = self._follow(last_id)
            except requests.RequestException:
                if self.stopped.is_set():
                    return  # the station shut down under the stream at the end of the run
                time.sleep(0.5)  # EventSource's retry
            self.reconnects += 1

    def _follow(self, last_id: str) -> str:
        """One stream until the station ends it; returns the last id seen."""
        headers = {"Last-Event-ID": last_id} if last_id else {}
        with self.session.get(
            f"{self.base}/api/v1/events",
            params={"topics": self.topics},
            headers=headers,
            stream=True,
            timeout=60,
        ) as response:
            assert response.status_code == 200, response.text
            self.connected.set()
            fields: dict[str, str] = {}
            for raw in response.iter_lines(chunk_size=1, decode_unicode=True):
                if raw == "":
                    if "event" in fields:
                        last_id = fields.get("id", last_id)
                        self._record(fields["event"], json.loads(fields.get("data", "{}")))
                    fields = {}
                elif not raw.startswith(":"):
                    name, _, value = raw.partition(": ")
                    fields[name] = value
                if self.stopped.is_set():
                    break
        return last_id

    def _record(self, kind: str, data: dict[str, Any]) -> None:
        key = (kind, str(data.get("job_id", "")))
        if key not in self.seen:
            self.seen[key] = time.perf_counter()
            if self.on_event is not None:
                self.on_event(kind, data)


def _sign_in(base: str, phone: dict[str, Any]) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/m/signin").text
    token = CSRF.search(page)
    assert token is not None
    signed = session.post(
        f"{base}/m/signin",
        data={"csrf_token": token.group(1), "mobile": phone["mobile"], "code": phone["code"]},
        allow_redirects=False,
    )
    assert signed.status_code == 302, signed.text
    found = CSRF.search(session.get(f"{base}/m/").text)
    assert found is not None
    phone["csrf"] = found.group(1)
    return session


def _wait(seen: dict[tuple[str, str], float], key: tuple[str, str], limit: float = 10) -> float:
    deadline = time.perf_counter() + limit
    while key not in seen:
        if time.perf_counter() > deadline:
            raise AssertionError(f"{key} never arrived")
        time.sleep(0.0005)
    return seen[key]


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))] * 1000


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as data_dir:
        prepared = _prepare(data_dir)
        child = subprocess.Popen(
            [sys.executable, "-m", "bench.live_latency", "--serve", data_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert child.stdout is not None
            port_text, threads = child.stdout.readline().split()
            base = f"http://127.0.0.1:{port_text}"
            return {"threads": int(threads), **_measure(base, prepared)}
        finally:
            assert child.stdin is not None
            child.stdin.close()
            child.wait(timeout=30)


def _measure(base: str, prepared: dict[str, Any]) -> dict[str, Any]:
    from station_node.views.phone import job_number

    phones = prepared["phones"]
    board = Listener(base, "board")
    listeners = []
    shown: list[dict[str, float]] = [{} for _ in phones]
    for i, phone in enumerate(phones):
        session = _sign_in(base, phone)
        listener = Listener(base, "board,worker", session)

        def fetch(kind: str, data: dict[str, Any], i: int = i, session: Any = session) -> None:
            # What live.js does on an event: fetch the fragment; note when the job is listed.
            if kind != "job":
                return
            html = session.get(f"{base}/m/?fragment=1").text
            number = job_number(str(data["job_id"]))
            if f'data-job="{number}"' in html and number not in shown[i]:
                shown[i][number] = time.perf_counter()

        listener.on_event = fetch
        listeners.append(listener)
    for listener in [board, *listeners]:
        listener.start()
        assert listener.connected.wait(10)

    api = HTTPConnection("127.0.0.1", int(base.rsplit(":", 1)[1]), timeout=30)
    headers = {"Authorization": f"Bearer {prepared['token']}", "Content-Type": "application/json"}
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    post_answer: list[float] = []
    to_board: list[float] = []
    to_phone: list[float] = []
    to_phone_page: list[float] = []
    tap_answer: list[float] = []
    tap_event: list[float] = []
    errors = 0
    for n in range(POSTS):
        who = n % PHONES
        slot = n // PHONES  # each phone grabs one job per half-day: no overlapping bookings
        day = today + dt.timedelta(days=1 + slot // 2)
        start, end = ("08:00", "12:00") if slot % 2 == 0 else ("13:00", "17:00")
        body = {
            "employer_id": prepared["employer_id"],
            "title": f"搬家帮手{n}",
            "category": "logistics",
            "skills": ["moving"],
            "headcount": 1,
            "pay_fen": 2500,
            "pay_unit": "hour",
            "address": "朝阳区某小区",
            "community": COMMUNITIES[n % len(COMMUNITIES)],
            "starts_at": f"{day}T{start}",
            "ends_at": f"{day}T{end}",
            "source": "kiosk",
            "dispatch_mode": "grab",
        }
        sent = time.perf_counter()
        api.request("POST", "/api/v1/jobs", body=json.dumps(body).encode(), headers=headers)
        response = api.getresponse()
        payload = json.loads(response.read())
        answered = time.perf_counter()
        if response.status != 201:
            errors += 1
            continue
        job_id = payload["job"]["id"]
        number = job_number(job_id)
        post_answer.append(answered - sent)
        to_board.append(_wait(board.seen, ("job", job_id)) - sent)
        to_phone.append(_wait(listeners[who].seen, ("job", job_id)) - sent)
        deadline = time.perf_counter() + 10
        while number not in shown[who] and time.perf_counter() < deadline:
            time.sleep(0.0005)
        to_phone_page.append(shown[who][number] - sent)

        phone, session = phones[who], listeners[who].session
        tapped = time.perf_counter()
        grab = session.post(
            f"{base}/m/jobs/{number}/grab",
            data={"csrf_token": phone["csrf"]},
            headers={"Accept": "application/json"},
        )
        on_screen = time.perf_counter()
        if grab.status_code != 200 or not grab.json().get("ok"):
            errors += 1
            continue
        tap_answer.append(on_screen - tapped)
        tap_event.append(_wait(listeners[who].seen, ("booked", job_id)) - tapped)
        time.sleep(PAUSE_SECONDS)
    for listener in [board, *listeners]:
        listener.stopped.set()
    figures: dict[str, Any] = {"posts": len(post_answer), "errors": errors}
    for name, values in (
        ("post_answer", post_answer),
        ("to_board", to_board),
        ("to_phone", to_phone),
        ("to_phone_page", to_phone_page),
        ("tap_answer", tap_answer),
        ("tap_event", tap_event),
    ):
        figures[name] = (_pct(values, 0.5), _pct(values, 0.95), max(values) * 1000)
    figures["reconnects"] = sum(lst.reconnects for lst in [board, *listeners])
    return figures


def main() -> None:
    f = run()

    def row(label: str, key: str) -> str:
        p50, p95, top = f[key]
        return f"| {label} | {p50:.1f} | {p95:.1f} | {top:.1f} |"

    body = f"""
Job posted → seen on the board and on a connected phone page; phone tap → grab confirmed
(`bench/live_latency.py`). The station serves with waitress at `kuaigong station run`'s default
of {f["threads"]} threads, the dispatch scheduler running. Connected throughout: one board
stream and {PHONES} phones, each signed in through `/m/signin` with a kiosk-issued code and
following `board,worker`; streams end every 25 s and reconnect with Last-Event-ID
({f["reconnects"]} reconnects during the run). {f["posts"]} grab-mode jobs posted over the API one
after another; after each, the phone whose turn it is taps grab on `/m/jobs/<number>/grab`.
Times from sending the post (or the tap), in milliseconds. Errors: {f["errors"]}.

| path | p50 ms | p95 ms | max ms |
|---|---|---|---|
{row("post answered (API, dispatch started)", "post_answer")}
{row("post → `job` event on the board stream", "to_board")}
{row("post → `job` event on a phone stream", "to_phone")}
{row("post → phone page fragment lists the job", "to_phone_page")}
{row("phone tap → grab answer on screen", "tap_answer")}
{row("phone tap → `booked` event on the phone stream", "tap_event")}

Targets: job posted → on the board and a connected phone page p95 ≤ 1 s; phone tap → grab
confirmed on screen p95 ≤ 1 s.
"""
    write_section("Live pages: post and grab latency", body)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        serve(sys.argv[2])
    else:
        main()
