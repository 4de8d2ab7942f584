"""Screens pair for real: the kiosk and board pages show only in the browser of a paired,
not revoked screen of that kind (or to staff signed in on the console).

The screen pairs with a code from the console, asks for a one-time link with its device token,
and its browser opens the link once, within two minutes (the test's pinned clock decides), which
leaves the screen's cookie. Every test runs the app with SCREENS_NEED_PAIRING on.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import ADMIN_PASSWORD, T0, console_client, create_staff, csrf_token, make_web_app

from kuaigong import clock
from station_node import db, events
from station_node.models import Device
from station_node.services import devices
from station_node.views import screens

CODE_ON_PAGE = re.compile(r'id="pairing-code"[^>]*>(\d{6})<')
NOT_PAIRED = "这台屏幕还没有与驿站配对"
REVOKED = "这台屏幕已被驿站停用"


@pytest.fixture
def app(tmp_path: Any) -> Flask:
    made = make_web_app(tmp_path, SCREENS_NEED_PAIRING=True)
    clock.install(made, clock.ManualClock(T0))
    create_staff(made, "admin", "admin", ADMIN_PASSWORD)
    return made


@pytest.fixture
def pinned(app: Flask) -> clock.ManualClock:
    """The app's clock, held at T0 until the test moves it."""
    manual = clock.installed(app)
    assert isinstance(manual, clock.ManualClock)
    return manual


def _paired_token(app: Flask, kind: str, name: str = "大厅屏幕") -> tuple[str, str]:
    """Staff show a code on the console; the device pairs with it: (device id, token)."""
    console = console_client(app)
    token = csrf_token(console, "/console/devices")
    page = console.post("/console/devices/pairing", data={"csrf_token": token})
    found = CODE_ON_PAGE.search(page.get_data(as_text=True))
    assert found is not None
    answer = app.test_client().post(
        "/api/v1/devices/pair", json={"code": found.group(1), "kind": kind, "name": name}
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    return body["device"]["id"], body["token"]


def _link(app: Flask, token: str) -> str:
    answer = app.test_client().post(
        "/api/v1/devices/screen-link", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body["link"].startswith("/screens/link/")
    return str(body["link"])


def _screen(app: Flask, kind: str) -> tuple[FlaskClient, str]:
    """A browser that opened its screen's one-time link: (the browser, the device id)."""
    device_id, token = _paired_token(app, kind)
    browser = app.test_client()
    opened = browser.get(_link(app, token))
    assert opened.status_code == 302 and opened.headers["Location"] == f"/{kind}/"
    cookie = opened.headers["Set-Cookie"]
    assert cookie.startswith(f"{screens.COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=" in cookie
    return browser, device_id


def _revoke(app: Flask, device_id: str) -> None:
    console = console_client(app)
    token = csrf_token(console, f"/console/devices/{device_id}/revoke")
    done = console.post(f"/console/devices/{device_id}/revoke", data={"csrf_token": token})
    assert done.status_code == 302


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_an_unpaired_browser_gets_a_page_saying_how_to_pair(app: Flask) -> None:
    browser = app.test_client()
    for path in ("/kiosk/", "/kiosk/signin", "/kiosk/complain", "/kiosk/idcard", "/board/"):
        refused = browser.get(path)
        assert refused.status_code == 403, path
        page = _text(refused)
        assert NOT_PAIRED in page
        assert "生成配对码" in page and "kuaigong device" in page, path
        assert refused.headers["Cache-Control"] == "no-store"
    assert "kuaigong device board --open" in _text(browser.get("/board/"))
    assert "kuaigong device kiosk --open" in _text(browser.get("/kiosk/"))
    english = _text(browser.get("/kiosk/?lang=en"))
    assert "This screen is not paired with the station" in english
    assert "Make a pairing code" in english
    # The phone page, the health check and the public event topic stay open to anyone.
    assert browser.get("/m/").status_code in (200, 302)
    assert browser.get("/api/v1/healthz").status_code == 200


def test_every_kiosk_and_board_route_is_guarded(app: Flask) -> None:
    """Each route of the kiosk and board blueprints, by each of its methods, refuses an unpaired
    browser before anything else (a POST is not asked for its form token first)."""
    browser = app.test_client()
    seen = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] not in screens.SCREEN_BLUEPRINTS:
            continue
        path = rule.rule
        for arg in rule.arguments:
            path = path.replace(f"<{arg}>", "x")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            answer = browser.open(path, method=method)
            assert answer.status_code == 403, (method, path, answer.status_code)
            assert NOT_PAIRED in _text(answer)
            seen.add(rule.endpoint.split(".")[0])
    assert seen == set(screens.SCREEN_BLUEPRINTS)


def test_a_paired_screen_opens_its_link_once_and_then_shows_its_pages(app: Flask) -> None:
    device_id, token = _paired_token(app, "kiosk")
    link = _link(app, token)
    browser = app.test_client()
    opened = browser.get(link)
    assert opened.status_code == 302 and opened.headers["Location"] == "/kiosk/"
    home = browser.get("/kiosk/")
    assert home.status_code == 200
    page = _text(home)
    assert "登录抢单" in page
    assert f'data-topic="screen:{device_id}"' in page  # the page follows its own topic
    assert browser.get("/kiosk/signin").status_code == 200
    assert browser.get("/kiosk/idcard").status_code == 200
    assert browser.get("/screens/check?kind=kiosk").status_code == 204

    # The same link again, in this browser or another: refused, with what to do.
    for again in (browser, app.test_client()):
        used = again.get(link)
        assert used.status_code == 410
        assert "已经用过" in _text(used) and "kuaigong device kiosk" in _text(used)
    english = app.test_client().get(link + "?lang=en")
    assert english.status_code == 410 and "already used" in _text(english)
    unknown = app.test_client().get("/screens/link/not-a-link")
    assert unknown.status_code == 404 and "不存在" in _text(unknown)
    too_long = app.test_client().get("/screens/link/" + "x" * 500)
    assert too_long.status_code == 404

    # Another browser without the cookie is still refused.
    assert app.test_client().get("/kiosk/").status_code == 403


def test_a_link_lasts_two_minutes(app: Flask, pinned: clock.ManualClock) -> None:
    _device_id, token = _paired_token(app, "board")
    late = _link(app, token)
    in_time = _link(app, token)
    pinned.advance(119)
    assert app.test_client().get(in_time).status_code == 302
    pinned.advance(2)
    expired = app.test_client().get(late)
    assert expired.status_code == 410
    assert "已过期" in _text(expired) and "kuaigong device board" in _text(expired)


def test_a_revoked_screen_is_refused_at_its_next_request(app: Flask) -> None:
    device_id, token = _paired_token(app, "board")
    browser = app.test_client()
    assert browser.get(_link(app, token)).status_code == 302
    assert browser.get("/board/").status_code == 200
    assert browser.get("/board/?fragment=1").status_code == 200
    with app.app_context():
        stream = events.subscribe([events.screen_topic(device_id)])
    with stream:
        _revoke(app, device_id)
        [told] = stream.wait(1.0)
    assert (told.topic, told.kind) == (f"screen:{device_id}", "revoked")

    refused = browser.get("/board/")
    assert refused.status_code == 403
    assert REVOKED in _text(refused) and "大厅屏幕" in _text(refused)
    assert browser.get("/board/?fragment=1").status_code == 403
    assert browser.get("/screens/check?kind=board").status_code == 403
    # Its token is refused too: it can no longer ask for links.
    again = app.test_client().post(
        "/api/v1/devices/screen-link", headers={"Authorization": f"Bearer {token}"}
    )
    assert again.status_code == 401 and again.get_json()["error"]["code"] == "device_revoked"


def test_a_link_made_before_the_screen_was_revoked_no_longer_opens(app: Flask) -> None:
    device_id, token = _paired_token(app, "kiosk")
    link = _link(app, token)
    _revoke(app, device_id)
    refused = app.test_client().get(link)
    assert refused.status_code == 403
    assert "这台屏幕已被驿站停用" in _text(refused) and "--code" in _text(refused)
    assert app.test_client().get("/kiosk/").status_code == 403


def test_a_board_cookie_does_not_open_the_kiosk_nor_the_other_way(app: Flask) -> None:
    board, _ = _screen(app, "board")
    wrong = board.get("/kiosk/")
    assert wrong.status_code == 403
    assert "这台屏幕配对的是信息显示屏" in _text(wrong)
    assert board.get("/screens/check?kind=kiosk").status_code == 403
    kiosk, _ = _screen(app, "kiosk")
    assert kiosk.get("/board/").status_code == 403
    assert kiosk.get("/kiosk/mine").status_code == 302  # its own pages: to the sign-in


def test_a_forged_or_foreign_cookie_counts_as_none(app: Flask, tmp_path: Any) -> None:
    browser, device_id = _screen(app, "kiosk")
    value = browser.get_cookie(screens.COOKIE)
    assert value is not None
    forged = app.test_client()
    forged.set_cookie(screens.COOKIE, value.value[:-2] + "xx")
    assert forged.get("/kiosk/").status_code == 403
    # The same device id signed by another station's key is not this station's screen.
    other = make_web_app(tmp_path / "other", SCREENS_NEED_PAIRING=True)
    with other.test_request_context():
        foreign = screens._serializer().dumps({"d": device_id})
    stranger = app.test_client()
    stranger.set_cookie(screens.COOKIE, foreign)
    assert stranger.get("/kiosk/").status_code == 403


def test_staff_signed_in_on_the_console_may_preview_the_screens(app: Flask) -> None:
    console = console_client(app)
    assert console.get("/kiosk/").status_code == 200
    assert console.get("/board/").status_code == 200
    assert 'data-topic="screen:' not in _text(console.get("/board/"))
    console.post("/console/logout", data={"csrf_token": csrf_token(console, "/console/")})
    assert console.get("/kiosk/").status_code == 403


def test_the_setting_turns_the_check_off(tmp_path: Any) -> None:
    open_app = make_web_app(tmp_path)  # the test apps' default: off
    browser = open_app.test_client()
    assert browser.get("/kiosk/").status_code == 200
    assert browser.get("/board/").status_code == 200
    assert browser.get("/screens/check?kind=board").status_code == 204


def test_only_a_kiosk_or_board_with_its_token_gets_a_link(app: Flask) -> None:
    client = app.test_client()
    none = client.post("/api/v1/devices/screen-link")
    assert none.status_code == 401
    error = none.get_json()["error"]
    assert error["code"] == "device_token_missing" and "设备令牌" in error["message"]
    wrong = client.post("/api/v1/devices/screen-link", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.get_json()["error"]["code"] == "device_not_paired"
    _printer_id, printer = _paired_token(app, "printer", "小票打印机")
    refused = client.post(
        "/api/v1/devices/screen-link", headers={"Authorization": f"Bearer {printer}"}
    )
    assert refused.status_code == 403
    error = refused.get_json()["error"]
    assert error["code"] == "wrong_device_kind" and "小票打印机" in error["message"]
    assert refused.get_json()["error"]["message"].isascii() is False  # Chinese by default
    english = client.post(
        "/api/v1/devices/screen-link",
        headers={"Authorization": f"Bearer {printer}", "Accept-Language": "en"},
    )
    assert "kiosk" in english.get_json()["error"]["message"].lower()


def test_the_screen_link_is_in_the_openapi_document(app: Flask) -> None:
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    op = document["paths"]["/devices/screen-link"]["post"]
    assert set(op["responses"]) == {"201", "401", "403"}
    assert "ScreenLink" in document["components"]["schemas"]


def test_a_screens_cookie_follows_its_own_topic_only(app: Flask) -> None:
    """The event stream lets a paired screen's browser follow screen:<its id>, not another's;
    after revocation it may not follow it any more."""
    app.config["EVENTS_STREAM_SECONDS"] = 0.05
    browser, device_id = _screen(app, "kiosk")
    _other_browser, other_id = _screen(app, "board")
    mine = browser.get(f"/api/v1/events?topics=screen:{device_id}")
    assert mine.status_code == 200
    mine.close()
    assert browser.get(f"/api/v1/events?topics=screen:{other_id}").status_code == 403
    assert app.test_client().get(f"/api/v1/events?topics=screen:{device_id}").status_code == 403
    _revoke(app, device_id)
    assert browser.get(f"/api/v1/events?topics=screen:{device_id}").status_code == 403


def test_a_screen_whose_device_row_is_gone_is_refused(app: Flask) -> None:
    browser, device_id = _screen(app, "kiosk")
    with app.app_context(), db.database.connection_context():
        assert devices.screen(device_id) is not None
        Device.delete().where(Device.id == device_id).execute()
    assert browser.get("/kiosk/").status_code == 403
