"""The sync beat's schedule over a pinned clock (the beat's own monotonic clock, advanced by the
test as the scheduler would call it every 2 s), against a real socket: a hub address that
refuses connections, then a real HTTP server on that port.

- however long the hub stays down, full rounds are never more than 90 s apart (jittered, so
  stations do not retry in step) — the back-off used to reach 30 minutes;
- between rounds the beat probes the hub's health endpoint every 10 s, and a probe that finds
  the hub answering runs a full round at once;
- a hub that answers and refuses is not probed: plain back-off.
"""

from __future__ import annotations

import contextlib
import http.server
import random
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

import sync_protocol as sp
from station_node import station_state as state
from station_node.sync import jobs

TICK = 2.0  # the scheduler calls the beat this often (jobs.add_sync_job)


class Monotonic:
    """The beat's clock, moved by the test only."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _enrol(app: Flask, port: int) -> None:
    """Enrolled with a hub at 127.0.0.1:port."""
    state.save_enrolment(
        state.Enrolment(f"http://127.0.0.1:{port}", "st-east", "东城", "hub", "00" * 32, "", "k")
    )
    state.save_signing_key(sp.SigningKey.from_seed(bytes(range(32))), app)


class _Hub(http.server.BaseHTTPRequestHandler):
    """Answers /healthz with 200 and refuses everything else (403, JSON error)."""

    calls: list[str] = []

    def _answer(self) -> None:
        type(self).calls.append(f"{self.command} {self.path.split('?')[0]}")
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        ok = self.path.endswith("/healthz")
        body = b'{"ok": true}' if ok else b'{"error": {"code": "frozen", "message": "frozen"}}'
        self.send_response(200 if ok else 403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _serving(port: int) -> Iterator[list[str]]:
    _Hub.calls = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Hub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield _Hub.calls
    finally:
        server.shutdown()
        server.server_close()


def _run(beat: jobs.SyncBeat, clock: Monotonic, seconds: float) -> list[float]:
    """Call the beat every TICK s for `seconds` on a thread of its own (as the scheduler does,
    with its own connections); the times full rounds ran."""
    rounds: list[float] = []

    def beating() -> None:
        end = clock.t + seconds
        while clock.t < end:
            before = beat.rounds
            beat.tick()
            if beat.rounds != before:
                rounds.append(clock.t)
            clock.t += TICK

    thread = threading.Thread(target=beating)
    thread.start()
    thread.join(120)
    assert not thread.is_alive()
    return rounds


def test_after_hours_of_outage_rounds_stay_at_most_90_s_apart_with_probes_between(
    app: Flask,
) -> None:
    port = _closed_port()
    _enrol(app, port)
    clock = Monotonic()
    beat = jobs.SyncBeat(app, rng=random.Random(7), monotonic=clock)
    assert (beat.interval, beat.max_backoff, beat.probe_every) == (30.0, 90.0, 10.0)
    rounds = _run(beat, clock, 2 * 3600)  # two hours without a hub
    gaps = [b - a for a, b in zip(rounds, rounds[1:], strict=False)]
    assert beat.failures == len(rounds) > 80 and beat.unreachable
    assert all(30 <= g <= 90 + TICK for g in gaps), max(gaps)
    assert max(gaps) > 60 and len({round(g) for g in gaps}) > 10  # grown and jittered
    assert all(30 <= beat.delay() <= 90 for _ in range(200))
    # between rounds: one health probe each 10 s
    assert abs(beat.probes - (2 * 3600 - len(rounds) * 10) / 10) < len(rounds) + 5

    # The hub answers again: the next probe (≤ 10 s + one tick later) runs a full round.
    back_at = clock.t
    with _serving(port) as calls:
        rounds = _run(beat, clock, 30)
    assert rounds and rounds[0] - back_at <= 10 + TICK
    assert calls[0] == "GET /api/v1/healthz" and any(
        c.startswith("POST") or "hub-log" in c for c in calls[1:]
    )


def test_a_hub_that_answers_and_refuses_is_not_probed(app: Flask) -> None:
    port = _closed_port()
    _enrol(app, port)
    clock = Monotonic()
    beat = jobs.SyncBeat(app, rng=random.Random(3), monotonic=clock)
    with _serving(port) as calls:
        rounds = _run(beat, clock, 600)
    assert len(rounds) >= 600 / 90 and beat.failures == len(rounds)
    assert not beat.unreachable and beat.probes == 0
    assert calls.count("GET /api/v1/healthz") == len(rounds)  # each round's own check, no probes


def test_a_beat_with_no_hub_before_its_first_round_syncs_at_once(app: Flask) -> None:
    port = _closed_port()
    _enrol(app, port)
    clock = Monotonic()
    beat = jobs.SyncBeat(app, monotonic=clock)
    _run(beat, clock, TICK)
    assert beat.rounds == 1 and beat.failures == 1
    _run(beat, clock, 8 - TICK)  # not due yet, and no probe within 10 s
    assert (beat.rounds, beat.probes) == (1, 0)
    _run(beat, clock, 2 * TICK)  # 1008 s: nothing; 1010 s: the first probe
    assert (beat.rounds, beat.probes) == (1, 1)


@pytest.mark.parametrize("failures", [1, 2, 5, 20, 200])
def test_the_delay_is_capped_whatever_the_failures(app: Flask, failures: int) -> None:
    beat = jobs.SyncBeat(app, rng=random.Random(failures))
    beat.failures = failures
    ceiling = 60 if failures == 1 else 90
    assert all(30 <= beat.delay() <= ceiling for _ in range(100))
