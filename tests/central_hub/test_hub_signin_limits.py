"""Hub sign-in that cannot be guessed: wrong passwords are limited per username and per client
address on SQLite and PostgreSQL, over HTTP, on the hub's pinned clock; several hub processes
on one PostgreSQL share the counts."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import PASSWORD, add_admin, csrf_token, enrol_station, make_app
from pg_helpers import drop_schema

from central_hub import db
from central_hub.models import SigninEvent, SigninThrottle
from kuaigong import clock

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)


@pytest.fixture
def pinned(app: Flask) -> clock.ManualClock:
    """The hub's clock pinned at T0; tests move it instead of sleeping."""
    manual = clock.ManualClock(T0)
    clock.install(app, manual)
    return manual


class Door:
    """The hub's login form, seen from one client address."""

    def __init__(self, app: Flask, address: str = "127.0.0.1") -> None:
        self.client: FlaskClient = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = address
        self.token = csrf_token(self.client)

    def log_in(self, username: str, password: str) -> Any:
        response = self.client.post(
            "/login", data={"username": username, "password": password, "csrf_token": self.token}
        )
        if response.status_code == 302:  # a new session: a new CSRF token
            self.token = csrf_token(self.client, "/signin-locks")
        return response


def _rows(app: Flask) -> list[SigninThrottle]:
    with app.app_context(), db.database.connection_context():
        return list(SigninThrottle.select().order_by(SigninThrottle.id))


def _events(app: Flask) -> list[tuple[str, str, str, str | None]]:
    with app.app_context(), db.database.connection_context():
        return [
            (e.event, e.scope, e.key, e.by) for e in SigninEvent.select().order_by(SigninEvent.id)
        ]


def _lock(door: Door, pinned: clock.ManualClock, username: str) -> Any:
    """Eight wrong passwords, waiting out each delay as a patient guesser would."""
    last = None
    for n in range(8):
        if last is not None and "Retry-After" in last.headers:
            pinned.advance(int(last.headers["Retry-After"]))
        last = door.log_in(username, f"guess-{n}")
        assert last.status_code == 401, (n, last.status_code)
    return last


def test_wrong_passwords_wait_then_lock_and_the_lock_passes(app: Flask, pinned) -> None:
    add_admin(app)
    door = Door(app)
    codes = [door.log_in("chen", f"guess-{n}").status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    refused = door.log_in("chen", PASSWORD)
    assert refused.status_code == 429 and "登录失败次数太多" in refused.get_data(as_text=True)
    assert refused.headers["Retry-After"] == "30"
    pinned.advance(30)
    last = None
    for n in range(3):
        if last is not None:
            pinned.advance(int(last.headers["Retry-After"]))
        last = door.log_in("chen", f"again-{n}")
        assert last.status_code == 401
    assert last is not None and last.headers["Retry-After"] == "900"
    locked = door.log_in("chen", PASSWORD)
    text = locked.get_data(as_text=True)
    assert locked.status_code == 429 and "已暂时锁定" in text and "15 分钟" in text
    pinned.advance(899)
    assert door.log_in("chen", PASSWORD).status_code == 429
    pinned.advance(1)
    assert door.log_in("chen", PASSWORD).status_code == 302
    assert not [r for r in _rows(app) if r.scope == "account"], "a success clears the account"
    assert _events(app) == [("locked", "account", "chen", None)]


def test_the_lock_message_switches_to_english(app: Flask, pinned) -> None:
    add_admin(app)
    door = Door(app)
    for n in range(5):
        door.log_in("chen", f"guess-{n}")
    text = door.client.get("/login?lang=en").get_data(as_text=True)
    assert "csrf_token" in text
    text = door.log_in("chen", PASSWORD).get_data(as_text=True)
    assert "Too many failed sign-ins" in text and "登录失败" not in text


def test_unknown_usernames_count_and_a_success_clears_the_count(app: Flask, pinned) -> None:
    add_admin(app)
    door = Door(app, "10.1.1.1")
    assert [door.log_in("nobody", "x-password").status_code for _ in range(6)] == [401] * 5 + [429]
    for _ in range(2):
        assert [door.log_in("chen", "wrong-pass").status_code for _ in range(4)] == [401] * 4
        assert door.log_in("chen", PASSWORD).status_code == 302
    assert door.log_in("chen", "wrong-pass").headers.get("Retry-After") is None


def test_one_address_across_many_usernames(app: Flask, pinned) -> None:
    add_admin(app)
    door = Door(app, "203.0.113.5")
    codes = [door.log_in(f"user{n}", "password-x").status_code for n in range(21)]
    assert codes == [401] * 20 + [429]
    assert door.log_in("chen", PASSWORD).status_code == 429
    assert Door(app, "203.0.113.6").log_in("chen", PASSWORD).status_code == 302


def test_behind_the_balancer_clients_are_told_apart_by_the_proxy_s_word(app: Flask, pinned) -> None:
    add_admin(app)
    app.config["SIGNIN_PROXY_HOPS"] = 1
    door = Door(app, "10.0.0.1")  # the balancer

    def through(client_address: str, forged: str = "") -> Any:
        forwarded = f"{forged}, {client_address}" if forged else client_address
        return door.client.post(
            "/login",
            headers={"X-Forwarded-For": forwarded},
            data={
                "username": f"u-{client_address}-{forged}",
                "password": "x-password",
                "csrf_token": door.token,
            },
        )

    codes = [through("198.51.100.7", forged=f"10.9.9.{n}").status_code for n in range(21)]
    assert codes == [401] * 20 + [429], "a forged left entry does not give a fresh address"
    assert through("198.51.100.8").status_code == 401, "another client behind the same balancer"
    assert {r.key for r in _rows(app) if r.scope == "address"} == {"198.51.100.7", "198.51.100.8"}


def test_an_admin_unlocks_an_auditor_only_reads(app: Flask, pinned) -> None:
    add_admin(app)
    add_admin(app, "wu")
    add_admin(app, "li", role="auditor")
    _lock(Door(app, "10.2.2.2"), pinned, "wu")
    auditor = Door(app, "10.2.2.3")
    assert auditor.log_in("li", PASSWORD).status_code == 302
    page = auditor.client.get("/signin-locks").get_data(as_text=True)
    assert "wu" in page and "已锁定" in page and "连续失败 8 次" in page
    row = next(r for r in _rows(app) if r.key == "wu")
    refused = auditor.client.post(
        f"/signin-locks/{row.id}/unlock", data={"csrf_token": auditor.token}
    )
    assert refused.status_code == 403
    admin = Door(app, "10.2.2.4")
    assert admin.log_in("chen", PASSWORD).status_code == 302
    done = admin.client.post(f"/signin-locks/{row.id}/unlock", data={"csrf_token": admin.token})
    assert done.status_code == 302
    page = admin.client.get("/signin-locks").get_data(as_text=True)
    assert "由 chen 解锁" in page and "目前没有被暂停或锁定" in page
    assert Door(app, "10.2.2.2").log_in("wu", PASSWORD).status_code == 302
    assert _events(app) == [
        ("locked", "account", "wu", None),
        ("unlocked", "account", "wu", "chen"),
    ]
    again = admin.client.post(f"/signin-locks/{row.id}/unlock", data={"csrf_token": admin.token})
    assert again.status_code == 404


def test_counts_nobody_added_to_for_a_day_are_forgotten(app: Flask, pinned) -> None:
    add_admin(app)
    door = Door(app, "10.3.3.3")
    for n in range(10):
        door.log_in(f"typed{n}", "password-x")
    pinned.advance(25 * 3600)
    assert door.log_in("chen", "wrong-pass").status_code == 401
    assert sorted((r.scope, r.key, r.failures) for r in _rows(app)) == [
        ("account", "chen", 1),
        ("address", "10.3.3.3", 1),
    ]


# --- several hub processes on one PostgreSQL ---


class _Server:
    def __init__(self, config: dict[str, Any]) -> None:
        script = Path(__file__).with_name("hub_server.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script), json.dumps(config)],
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=Path(__file__).resolve().parents[2],
            env=dict(os.environ),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("port "), f"hub did not start: {line!r}"
        self.url = f"http://127.0.0.1:{line.split()[1]}"

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def two_hubs(tmp_path: Any) -> Iterator[tuple[Flask, list[_Server]]]:
    app, schema = make_app(tmp_path, "postgres")
    servers: list[_Server] = []
    try:
        add_admin(app)
        config = {
            k: app.config[k]
            for k in ("DATA_DIR", "DATABASE_URL", "DATABASE_SCHEMA", "PASSWORD_HASH_METHOD")
        }
        servers = [_Server(config), _Server(config)]
        yield app, servers
    finally:
        for server in servers:
            server.stop()
        if not db.database.is_closed():
            db.database.close()
        drop_schema(schema)


@pytest.mark.postgres
def test_parallel_guesses_through_two_processes_check_only_five(two_hubs) -> None:
    app, servers = two_hubs
    session = requests.Session()
    page = session.get(f"{servers[0].url}/login", timeout=10).text
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    token = match.group(1)

    def guess(n: int) -> int:
        url = servers[n % 2].url
        response = session.post(
            f"{url}/login",
            data={"username": "chen", "password": f"guess-{n}", "csrf_token": token},
            timeout=30,
        )
        return response.status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(guess, range(24)))
    assert codes.count(401) == 5 and codes.count(429) == 19, codes
    right = session.post(
        f"{servers[1].url}/login",
        data={"username": "chen", "password": PASSWORD, "csrf_token": token},
        timeout=30,
    )
    assert right.status_code == 429
    assert next(r for r in _rows(app) if r.key == "chen").failures == 5


def test_a_station_s_lock_and_unlock_entries_are_taken_in_its_log(app: Flask) -> None:
    clock.install(app, clock.ManualClock(T0))
    log = enrol_station(app)
    log.wall = int(T0.replace(tzinfo=dt.UTC).timestamp() * 1000) - 60_000
    common = {"kind": "kiosk", "scope": "account", "label": "110105********002X"}
    log.add(
        "signin_lock",
        "kiosk-account-1",
        "update",
        {
            **common,
            "event": "locked",
            "failures": 8,
            "until": "2025-05-06T01:18:30Z",
            "reason": "8 failed sign-ins",
        },
    )
    log.add(
        "signin_lock",
        "kiosk-account-1",
        "update",
        {
            **common,
            "event": "unlocked",
            "by": "wang",
            "failures": 8,
            "until": "2025-05-06T01:18:30Z",
        },
    )
    body = log.batch(1, 2)
    answer = app.test_client().post(
        f"/api/v1/stations/{log.station_id}/push",
        data=body,
        headers=log.call(body, app),
        content_type="application/x-kuaigong-batch",
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.get_json()["verdict"], answer.get_json()["accepted_seq"]) == ("apply", 2)
