"""Pairing devices: a code on the console, a token for the device, revoking it, the API's answers.

Every test pins the clock, so codes expire by the test's time, never by the real one.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask, g, jsonify
from flask.testing import FlaskClient
from web_helpers import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    T0,
    Api,
    console_client,
    create_staff,
    csrf_token,
)

from kuaigong import clock
from station_node import auth, db
from station_node.models import Device, PairingCode, Staff
from station_node.services import devices

CODE_ON_PAGE = re.compile(r'id="pairing-code"[^>]*>(\d{6})<')


@pytest.fixture
def pinned(web_app: Flask) -> clock.ManualClock:
    manual = clock.ManualClock(T0)
    clock.install(web_app, manual)
    return manual


@pytest.fixture
def sms_only(web_app: Flask) -> Flask:
    """A route only the SMS gateway may call, as the gateway's endpoints are guarded."""

    @web_app.get("/api/v1/test-only/sms")
    @auth.api_device("sms")
    def sms_route() -> Any:
        return jsonify(device=g.device.id)

    return web_app


def _show_code(console: FlaskClient) -> str:
    """Press the console's button; return the code the page shows big."""
    token = csrf_token(console, "/console/devices")
    page = console.post("/console/devices/pairing", data={"csrf_token": token})
    assert page.status_code == 200
    found = CODE_ON_PAGE.search(page.get_data(as_text=True))
    assert found is not None, "the page shows no pairing code"
    return found.group(1)


def _pair(client: FlaskClient, code: str, kind: str = "board", name: str = "大厅显示屏") -> Any:
    return client.post("/api/v1/devices/pair", json={"code": code, "kind": kind, "name": name})


def test_a_code_pairs_one_device_whose_token_then_works(
    web_app: Flask, admin_token: str, pinned: clock.ManualClock
) -> None:
    console = console_client(web_app, "admin", ADMIN_PASSWORD)
    code = _show_code(console)
    with web_app.app_context(), db.database.connection_context():
        stored = PairingCode.get()
        assert code not in stored.code_hash and stored.expires_at == T0 + dt.timedelta(minutes=5)

    client = web_app.test_client()
    paired = _pair(client, code)
    assert paired.status_code == 201, paired.get_json()
    answer = paired.get_json()
    token = answer["token"]
    assert answer["device"]["kind"] == "board" and answer["device"]["name"] == "大厅显示屏"
    with web_app.app_context(), db.database.connection_context():
        fingerprint = devices.station_fingerprint(web_app)
        device = Device.get()
        assert token not in device.token_hash and device.paired_by == "admin"
    assert answer["station"]["fingerprint"] == fingerprint
    assert re.fullmatch(r"[0-9A-F]{4}(-[0-9A-F]{4}){3}", fingerprint)

    me = Api(client, token).get("/devices/me")
    assert me.status_code == 200
    assert me.get_json()["device"]["id"] == answer["device"]["id"]
    assert me.get_json()["station"]["fingerprint"] == fingerprint

    # One code, one device: a second device with the same code is turned away.
    again = _pair(client, code, name="第二块屏")
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "pairing_code_wrong"
    with web_app.app_context(), db.database.connection_context():
        assert Device.select().count() == 1


def test_a_code_lasts_five_minutes_and_a_new_one_replaces_it(
    web_app: Flask, admin_token: str, pinned: clock.ManualClock
) -> None:
    console = console_client(web_app, "admin", ADMIN_PASSWORD)
    client = web_app.test_client()
    first = _show_code(console)
    second = _show_code(console)
    refused = _pair(client, first) if first != second else None
    if refused is not None:
        assert refused.status_code == 401
        assert refused.get_json()["error"]["code"] == "pairing_code_wrong"

    pinned.advance(5 * 60)  # exactly five minutes on: over
    late = _pair(client, second)
    assert late.status_code == 401
    error = late.get_json()["error"]
    assert error["code"] == "pairing_code_expired" and "已过期" in error["message"]

    third = _show_code(console)
    pinned.advance(4 * 60 + 59)  # within five minutes: still good
    assert _pair(client, third).status_code == 201


def test_wrong_codes_are_limited_even_before_the_right_one(
    web_app: Flask, admin_token: str, pinned: clock.ManualClock
) -> None:
    console = console_client(web_app, "admin", ADMIN_PASSWORD)
    code = _show_code(console)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    client = web_app.test_client()
    answers = [_pair(client, wrong) for _ in range(8)]
    assert answers[0].status_code == 401
    limited = [a for a in answers if a.status_code == 429]
    assert limited, [a.status_code for a in answers]
    body = limited[0].get_json()["error"]
    assert body["code"] == "too_many_attempts" and body["details"]["retry_after"] > 0
    # While blocked even the right code is refused: guessing cannot go on in parallel.
    assert _pair(client, code).status_code == 429
    with web_app.app_context(), db.database.connection_context():
        assert Device.select().count() == 0


def test_bad_pairing_input_names_the_fields(web_app: Flask, pinned: clock.ManualClock) -> None:
    client = web_app.test_client()
    bad = client.post("/api/v1/devices/pair", json={"code": "12ab", "kind": "toaster", "name": ""})
    assert bad.status_code == 422
    fields = {f["field"] for f in bad.get_json()["error"]["fields"]}
    assert fields == {"code", "kind", "name"}
    not_json = client.post("/api/v1/devices/pair", data="code=123456")
    assert not_json.status_code == 400


def test_no_token_unknown_token_revoked_and_wrong_kind(
    sms_only: Flask, admin_token: str, staff_token: str, pinned: clock.ManualClock
) -> None:
    web_app = sms_only
    client = web_app.test_client()
    nobody = client.get("/api/v1/devices/me")
    assert nobody.status_code == 401 and "设备令牌" in nobody.get_json()["error"]["message"]
    unknown = Api(client, "not-a-token").get("/devices/me")
    assert unknown.status_code == 401
    assert unknown.get_json()["error"]["code"] == "device_not_paired"
    # A staff token is not a device token.
    assert Api(client, staff_token).get("/devices/me").status_code == 401

    with web_app.app_context(), db.database.connection_context():
        admin = Staff.get(Staff.username == "admin")
        board, board_token = devices.pair(devices.start_pairing(admin).code, "board", "屏", "a")
        modem, modem_token = devices.pair(devices.start_pairing(admin).code, "sms", "短信猫", "a")

    wrong_kind = Api(client, board_token).get("/test-only/sms")
    assert wrong_kind.status_code == 403
    assert "短信网关" in wrong_kind.get_json()["error"]["message"]
    assert Api(client, modem_token).get("/test-only/sms").get_json() == {"device": modem.id}

    with web_app.app_context(), db.database.connection_context():
        devices.revoke(modem.id, admin)
    revoked = Api(client, modem_token).get("/test-only/sms")
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["code"] == "device_revoked"
    assert Api(client, board_token).get("/devices/me").status_code == 200


def test_last_seen_is_written_at_most_once_a_minute(
    web_app: Flask, admin_token: str, pinned: clock.ManualClock
) -> None:
    with web_app.app_context(), db.database.connection_context():
        admin = Staff.get(Staff.username == "admin")
        device, token = devices.pair(devices.start_pairing(admin).code, "kiosk", "一体机", "a")
    api = Api(web_app.test_client(), token)

    def seen() -> dt.datetime | None:
        with web_app.app_context(), db.database.connection_context():
            return Device.get_by_id(device.id).last_seen_at

    assert api.get("/devices/me").status_code == 200
    assert seen() == T0
    pinned.advance(30)
    api.get("/devices/me")
    assert seen() == T0
    pinned.advance(31)
    api.get("/devices/me")
    assert seen() == T0 + dt.timedelta(seconds=61)


def test_the_console_lists_devices_and_only_admins_revoke(
    web_app: Flask, admin_token: str, pinned: clock.ManualClock
) -> None:
    create_staff(web_app, "clerk", "staff", STAFF_PASSWORD)
    clerk = console_client(web_app, "clerk", STAFF_PASSWORD)
    code = _show_code(clerk)  # any staff member may pair a device
    token = _pair(web_app.test_client(), code, kind="printer", name="服务台打印机").get_json()[
        "token"
    ]
    with web_app.app_context(), db.database.connection_context():
        device = Device.get()
        fingerprint = devices.station_fingerprint(web_app)

    page = clerk.get("/console/devices").get_data(as_text=True)
    assert "小票打印机" in page and "服务台打印机" in page and fingerprint in page
    assert "使用中" in page
    assert clerk.get(f"/console/devices/{device.id}/revoke").status_code == 403
    token_for_post = csrf_token(clerk, "/console/devices")
    refused = clerk.post(
        f"/console/devices/{device.id}/revoke", data={"csrf_token": token_for_post}
    )
    assert refused.status_code == 403

    admin = console_client(web_app, "admin", ADMIN_PASSWORD)
    confirm = admin.get(f"/console/devices/{device.id}/revoke")
    assert confirm.status_code == 200 and "确定要停用" in confirm.get_data(as_text=True)
    done = admin.post(
        f"/console/devices/{device.id}/revoke",
        data={"csrf_token": csrf_token(admin, f"/console/devices/{device.id}/revoke")},
    )
    assert done.status_code == 302
    page = admin.get("/console/devices").get_data(as_text=True)
    assert "已停用" in page
    assert Api(web_app.test_client(), token).get("/devices/me").status_code == 401


def test_the_page_speaks_english_too(
    web_app: Flask, admin_token: str, pinned: clock.ManualClock
) -> None:
    console = console_client(web_app, "admin", ADMIN_PASSWORD)
    page = console.get("/console/devices?lang=en").get_data(as_text=True)
    assert "Pair a new device" in page and "Station key fingerprint" in page
