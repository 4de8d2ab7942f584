"""Sign-in that cannot be guessed: the kiosk (ID number + mobile) and the console password are
limited per account and per client address, over HTTP, on the app's pinned clock."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    Api,
    create_staff,
    csrf_token,
    make_web_app,
    worker_body,
)

from kuaigong import clock
from station_node import db
from station_node.models import ChangeEntry, SigninThrottle

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # a Tuesday, 09:00 station time


@pytest.fixture
def pinned(web_app: Flask) -> clock.ManualClock:
    """The station's clock, pinned at T0; tests move it instead of sleeping."""
    manual = clock.ManualClock(T0)
    clock.install(web_app, manual)
    return manual


def _client(app: Flask, address: str = "127.0.0.1") -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


class Kiosk:
    """A kiosk (one client address) signing residents in through the real form."""

    def __init__(self, app: Flask, address: str = "192.168.1.20") -> None:
        self.client = _client(app, address)
        self.token = csrf_token(self.client, "/kiosk/signin")

    def sign_in(self, id_number: str, mobile: str) -> Any:
        return self.client.post(
            "/kiosk/signin",
            data={"csrf_token": self.token, "id_number": id_number, "mobile": mobile},
        )


class Console:
    """The console's login form from one client address."""

    def __init__(self, app: Flask, address: str = "127.0.0.1") -> None:
        self.client = _client(app, address)
        self.token = csrf_token(self.client, "/console/login")

    def log_in(self, username: str, password: str) -> Any:
        response = self.client.post(
            "/console/login",
            data={"csrf_token": self.token, "username": username, "password": password},
        )
        if response.status_code == 302:  # a new session: a new CSRF token
            self.token = csrf_token(self.client, "/console/login")
        return response


@pytest.fixture
def resident(api: Api) -> dict[str, Any]:
    body = worker_body()
    response = api.post("/workers", body)
    assert response.status_code == 201, response.get_json()
    return body


def _rows(app: Flask) -> list[SigninThrottle]:
    with app.app_context(), db.database.connection_context():
        return list(SigninThrottle.select())


def _audit(app: Flask) -> list[dict[str, Any]]:
    with app.app_context(), db.database.connection_context():
        rows = (
            ChangeEntry.select()
            .where(ChangeEntry.entity == "signin_lock")
            .order_by(ChangeEntry.seq)
        )
        return [dict(row.fields) for row in rows]


def _wait_out(response: Any, pinned: clock.ManualClock) -> None:
    """A patient guesser: wait exactly as long as the answer says."""
    pinned.advance(int(response.headers["Retry-After"]))


def test_thirty_wrong_mobiles_then_the_right_one(web_app: Flask, pinned, resident):
    kiosk = Kiosk(web_app)
    answers = [kiosk.sign_in(resident["id_number"], f"1370000{n:04d}") for n in range(30)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    assert "Retry-After" not in answers[3].headers and answers[4].headers["Retry-After"] == "30"
    assert all(a.status_code == 429 for a in answers[5:]), (
        "attempts while waiting are refused unchecked"
    )
    right = kiosk.sign_in(resident["id_number"], resident["mobile"])
    assert right.status_code == 429 and "Location" not in right.headers
    # The guesser waits out each delay (30 s, 60 s): the eighth failure locks for 15 minutes.
    delays, last = [], answers[-1]
    for n in range(3):
        _wait_out(last, pinned)
        last = kiosk.sign_in(resident["id_number"], f"1360000{n:04d}")
        assert last.status_code == 401
        delays.append(int(last.headers["Retry-After"]))
    assert delays == [60, 120, 900]
    page = kiosk.sign_in(resident["id_number"], resident["mobile"])
    text = page.get_data(as_text=True)
    assert (
        page.status_code == 429
        and "登录失败次数太多" in text
        and "工作人员" in text
        and "15 分钟" in text
    )
    pinned.advance(14 * 60)
    assert kiosk.sign_in(resident["id_number"], resident["mobile"]).status_code == 429
    pinned.advance(60)
    signed = kiosk.sign_in(resident["id_number"], resident["mobile"])
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/kiosk/mine")
    assert not [r for r in _rows(web_app) if r.scope == "account"], "a success clears the account"
    locked = [e for e in _audit(web_app) if e["event"] == "locked"]
    assert len(locked) == 1 and locked[0]["kind"] == "kiosk" and locked[0]["failures"] == 8
    assert locked[0]["until"] == (T0 + dt.timedelta(seconds=30 + 60 + 120 + 900)).isoformat() + "Z"


def test_the_id_number_is_never_stored_in_plain_text(web_app: Flask, pinned, resident):
    kiosk = Kiosk(web_app)
    for n in range(8):
        kiosk.sign_in(resident["id_number"], f"1370000{n:04d}")
        pinned.advance(1000)
    digits = resident["id_number"]
    rows = [r for r in _rows(web_app) if r.scope == "account"]
    assert rows and all(digits not in f"{r.key}{r.label}" for r in rows)
    assert rows[0].label == f"{digits[:6]}********{digits[-4:]}"
    assert all(digits not in str(entry) for entry in _audit(web_app))


def test_the_kiosk_message_switches_to_english(web_app: Flask, pinned, resident):
    kiosk = Kiosk(web_app)
    for n in range(5):
        kiosk.sign_in(resident["id_number"], f"1370000{n:04d}")
    kiosk.client.get("/lang/en")
    text = kiosk.sign_in(resident["id_number"], resident["mobile"]).get_data(as_text=True)
    assert "Too many failed sign-ins" in text and "ask the staff" in text and "登录失败" not in text


def test_wrong_passwords_at_the_console_lock_and_an_admin_unlocks(
    web_app: Flask, pinned, admin_token
):
    create_staff(web_app, "clerk", "staff", STAFF_PASSWORD)
    door = Console(web_app, "10.0.0.7")
    codes = [door.log_in("clerk", f"guess-{n}").status_code for n in range(6)]
    assert codes == [401] * 5 + [429]
    refused = door.log_in("clerk", STAFF_PASSWORD)
    assert refused.status_code == 429 and "登录失败次数太多" in refused.get_data(as_text=True)
    for _ in range(3):  # waits out 30 s, 60 s, 120 s, failing each time: the lock follows
        _wait_out(refused, pinned)
        refused = door.log_in("clerk", "still-guessing")
        assert refused.status_code == 401
    assert refused.headers["Retry-After"] == "900"
    assert door.log_in("clerk", STAFF_PASSWORD).status_code == 429
    admin = Console(web_app, "10.0.0.8")
    assert admin.log_in("admin", ADMIN_PASSWORD).status_code == 302
    page = admin.client.get("/console/signin-locks").get_data(as_text=True)
    assert "clerk" in page and "已锁定" in page and "连续失败 8 次" in page
    row = next(r for r in _rows(web_app) if r.label == "clerk")
    token = csrf_token(admin.client, "/console/signin-locks")
    unlocked = admin.client.post(
        f"/console/signin-locks/{row.id}/unlock", data={"csrf_token": token}
    )
    assert unlocked.status_code == 302
    page = admin.client.get("/console/signin-locks").get_data(as_text=True)
    assert "由 admin 解锁" in page and "目前没有被暂停或锁定的账号" in page
    assert door.log_in("clerk", STAFF_PASSWORD).status_code == 302
    events = [(e["event"], e["label"], e.get("by")) for e in _audit(web_app)]
    assert events == [("locked", "clerk", None), ("unlocked", "clerk", "admin")]


def test_only_admins_see_and_lift_locks(web_app: Flask, pinned, admin_token):
    create_staff(web_app, "clerk", "staff", STAFF_PASSWORD)
    clerk = Console(web_app)
    assert clerk.log_in("clerk", STAFF_PASSWORD).status_code == 302
    assert clerk.client.get("/console/signin-locks").status_code == 403
    token = csrf_token(clerk.client, "/console/")
    assert (
        clerk.client.post("/console/signin-locks/1/unlock", data={"csrf_token": token}).status_code
        == 403
    )


def test_unknown_usernames_count_too(web_app: Flask, pinned, admin_token):
    door = Console(web_app, "10.0.0.9")
    codes = [door.log_in("nobody", "whatever-1").status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]
    assert any(r.label == "nobody" and r.failures == 5 for r in _rows(web_app))


def test_a_success_clears_the_account_count(web_app: Flask, pinned, admin_token):
    door = Console(web_app)
    for _ in range(2):
        assert [door.log_in("admin", "wrong-pass").status_code for _ in range(4)] == [401] * 4
        assert door.log_in("admin", ADMIN_PASSWORD).status_code == 302
    assert door.log_in("admin", "wrong-pass").headers.get("Retry-After") is None


def test_one_address_across_many_accounts(web_app: Flask, pinned, admin_token):
    door = Console(web_app, "203.0.113.5")
    codes = [door.log_in(f"user{n}", "password-x").status_code for n in range(21)]
    assert codes == [401] * 20 + [429], "no account failed twice; the address did 20 times"
    assert door.log_in("admin", ADMIN_PASSWORD).status_code == 429
    assert Console(web_app, "203.0.113.6").log_in("admin", ADMIN_PASSWORD).status_code == 302
    kiosk = Kiosk(web_app, "203.0.113.5")
    assert kiosk.sign_in(worker_body()["id_number"], "13700000000").status_code == 401, (
        "the kiosk is counted apart from the console"
    )


def test_the_shared_kiosk_locks_after_many_residents_fail(web_app: Flask, pinned, resident):
    kiosk = Kiosk(web_app)
    codes = []
    for n in range(23):
        codes.append(kiosk.sign_in(worker_body()["id_number"], "13700000000").status_code)
        if 19 <= n <= 21:
            pinned.advance(30 * 2 ** (n - 19))
    assert codes == [401] * 23
    refused = kiosk.sign_in(resident["id_number"], resident["mobile"])
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "900"
    assert (
        Kiosk(web_app, "192.168.1.21")
        .sign_in(resident["id_number"], resident["mobile"])
        .status_code
        == 302
    )
    assert [e["scope"] for e in _audit(web_app) if e["event"] == "locked"] == ["address"]


def test_locks_survive_a_restart(web_app: Flask, pinned, admin_token, tmp_path):
    door = Console(web_app)
    for _ in range(5):
        door.log_in("admin", "wrong-pass")
    again = make_web_app(tmp_path)
    clock.install(again, pinned)
    assert Console(again).log_in("admin", ADMIN_PASSWORD).status_code == 429


def test_parallel_guesses_are_checked_only_five_times(web_app: Flask, pinned, resident):
    kiosks = [Kiosk(web_app) for _ in range(6)]

    def guess(n: int) -> int:
        return kiosks[n % len(kiosks)].sign_in(resident["id_number"], f"1350000{n:04d}").status_code

    with ThreadPoolExecutor(6) as pool:
        codes = list(pool.map(guess, range(24)))
    assert codes.count(401) == 5 and codes.count(429) == 19, codes
    assert next(r for r in _rows(web_app) if r.scope == "account").failures == 5


def test_counts_nobody_added_to_for_a_day_are_forgotten(web_app: Flask, pinned, admin_token):
    door = Console(web_app, "10.3.3.3")
    for n in range(30):
        door.log_in(f"typed{n}", "password-x")
        pinned.advance(60)
    assert len(_rows(web_app)) > 20
    pinned.advance(25 * 3600)
    assert door.log_in("admin", "wrong-pass").status_code == 401
    assert sorted((r.scope, r.label) for r in _rows(web_app)) == [
        ("account", "admin"),
        ("address", "10.3.3.3"),
    ]
