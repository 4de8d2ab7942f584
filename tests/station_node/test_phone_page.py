"""The phone page (/m/): sign-in with mobile + one-time code (kiosk-shown or by SMS), codes
hashed, single use, expiring and limited; one-tap grab by the job's short number; and in a real
Chromium at 360×740 on a real waitress server, an offer made by the dispatch engine appears
without a reload and one tap accepts it, while the board shows a new job without a reload."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from test_browser import CHROMIUM, LAUNCH_ARGS, _need_browser
from web_helpers import (
    ADMIN_PASSWORD,
    T0,
    Api,
    create_staff,
    employer_body,
    job_body,
    make_web_app,
    worker_body,
)

from kuaigong import clock
from station_node import db, events
from station_node.models import PhoneCode, SmsMessage
from station_node.views.phone import job_number

CSRF = re.compile(r'name="csrf[_-]token" (?:value|content)="([^"]+)"')
CODE = re.compile(r'class="code"[^>]*><strong>(\d{6})</strong>')


@pytest.fixture
def pinned(tmp_path: Any) -> Iterator[tuple[Flask, Api, clock.ManualClock]]:
    events.reset()
    app = make_web_app(tmp_path, EVENTS_STREAM_SECONDS=3)
    manual = clock.ManualClock(T0)
    clock.install(app, manual)
    api = Api(app.test_client(), create_staff(app, "admin", "admin", ADMIN_PASSWORD))
    yield app, api, manual
    if not db.database.is_closed():
        db.database.close()


def _token(client: FlaskClient, path: str) -> str:
    found = CSRF.search(client.get(path).get_data(as_text=True))
    assert found is not None, path
    return found.group(1)


def _kiosk_code(app: Flask, body: dict[str, Any]) -> str:
    """Sign the resident in at a kiosk and press 在手机上登录: the code the kiosk shows."""
    kiosk = app.test_client()
    signed = kiosk.post(
        "/kiosk/signin",
        data={
            "csrf_token": _token(kiosk, "/kiosk/signin"),
            "id_number": body["id_number"],
            "mobile": body["mobile"],
        },
    )
    assert signed.status_code == 302, signed.get_data(as_text=True)
    shown = kiosk.post("/kiosk/phone-code", data={"csrf_token": _token(kiosk, "/kiosk/mine")})
    assert shown.status_code == 200
    found = CODE.search(shown.get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _phone_signin(phone: FlaskClient, mobile: str, code: str) -> Any:
    return phone.post(
        "/m/signin",
        data={"csrf_token": _token(phone, "/m/signin"), "mobile": mobile, "code": code},
    )


def test_a_kiosk_code_signs_the_phone_in_once_and_is_kept_only_hashed(pinned):
    app, api, _ = pinned
    body = worker_body(name="孙桂兰")
    assert api.post("/workers", json=body).status_code == 201
    code = _kiosk_code(app, body)
    with app.app_context(), db.database.connection_context():
        stored = [row.code_hash for row in PhoneCode.select()]
    assert len(stored) == 1 and code not in stored[0] and len(stored[0]) == 64

    phone = app.test_client()
    page = phone.get("/m/").get_data(as_text=True)
    assert "登录" in page and "孙桂兰" not in page
    signed = _phone_signin(phone, f" {body['mobile'][:3]} {body['mobile'][3:]} ", code)
    assert signed.status_code == 302 and signed.headers["Location"] == "/m/"
    assert "孙桂兰" in phone.get("/m/").get_data(as_text=True)

    other = app.test_client()
    reused = _phone_signin(other, body["mobile"], code)
    assert reused.status_code == 401
    assert "验证码不对" in reused.get_data(as_text=True)


def test_a_code_expires_after_ten_minutes_and_wrong_codes_are_limited(pinned):
    app, api, manual = pinned
    body = worker_body()
    api.post("/workers", json=body)
    code = _kiosk_code(app, body)
    manual.advance(10 * 60 + 1)
    assert _phone_signin(app.test_client(), body["mobile"], code).status_code == 401

    fresh = _kiosk_code(app, body)
    phone = app.test_client()
    answers = [
        _phone_signin(phone, body["mobile"], f"{(int(fresh) + n) % 1_000_000:06d}").status_code
        for n in range(1, 8)
    ]
    assert answers[0] == 401 and 429 in answers  # a wait, then refused outright
    refused = _phone_signin(phone, body["mobile"], fresh)
    assert refused.status_code == 429  # even the right code while blocked
    assert "Retry-After" in refused.headers


def test_a_code_by_sms_goes_to_a_registered_mobile_only_and_not_too_often(pinned):
    app, api, _ = pinned
    body = worker_body()
    api.post("/workers", json=body)
    phone = app.test_client()
    for mobile in (body["mobile"], "13700000000"):
        sent = phone.post(
            "/m/signin/code", data={"csrf_token": _token(phone, "/m/signin"), "mobile": mobile}
        )
        assert sent.status_code == 302
        assert "验证码短信马上就到" in phone.get("/m/signin").get_data(as_text=True)
    with app.app_context(), db.database.connection_context():
        texts = [(m.mobile, m.purpose, m.text) for m in SmsMessage.select()]
    assert len(texts) == 1 and texts[0][0] == body["mobile"] and texts[0][1] == "code"
    code = re.search(r"\d{6}", texts[0][2])
    assert code is not None
    again = phone.post(
        "/m/signin/code", data={"csrf_token": _token(phone, "/m/signin"), "mobile": body["mobile"]}
    )
    assert again.status_code == 302
    assert "稍等一分钟" in phone.get("/m/signin").get_data(as_text=True)
    assert _phone_signin(phone, body["mobile"], code.group(0)).status_code == 302


def test_one_tap_grab_by_the_jobs_short_number(pinned):
    app, api, _ = pinned
    body = worker_body()
    api.post("/workers", json=body)
    employer = api.post("/employers", json=employer_body()).get_json()["employer"]
    job = api.post("/jobs", json=job_body(employer["id"], headcount=1)).get_json()["job"]
    number = job_number(job["id"])
    assert len(number) == 8 and number.isupper() or number.isdigit()

    phone = app.test_client()
    shown = phone.get(f"/m/jobs/{number}")
    assert shown.status_code == 200 and "登录后抢单" in shown.get_data(as_text=True)
    assert phone.get("/m/jobs/ZZZZZZZZ").status_code == 404
    assert phone.get("/m/jobs/..%2F..").status_code == 404
    token = _token(phone, f"/m/jobs/{number}")
    anonymous = phone.post(
        f"/m/jobs/{number}/grab", data={"csrf_token": token}, headers={"Accept": "application/json"}
    )
    assert anonymous.status_code == 401
    no_csrf = phone.post(f"/m/jobs/{number}/grab", headers={"Accept": "application/json"})
    assert no_csrf.status_code == 400

    assert _phone_signin(phone, body["mobile"], _kiosk_code(app, body)).status_code == 302
    grabbed = phone.post(
        f"/m/jobs/{number}/grab",
        data={"csrf_token": _token(phone, "/m/")},
        headers={"Accept": "application/json"},
    )
    assert grabbed.status_code == 200 and grabbed.get_json() == {
        "ok": True,
        "message": "抢单成功！请按时到岗",
    }
    assert "您已确认这份工作" in phone.get(f"/m/jobs/{number.lower()}").get_data(as_text=True)
    again = phone.post(
        f"/m/jobs/{number}/grab",
        data={"csrf_token": _token(phone, "/m/")},
        headers={"Accept": "application/json"},
    )
    assert again.status_code == 409 and again.get_json()["ok"] is False


# ------------------------------------------------------------------- a real phone browser


@pytest.fixture
def served(pinned) -> Iterator[tuple[str, Flask, Api]]:
    import waitress

    app, api, _ = pinned
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=12)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", app, api
    finally:
        _let_streams_end()
        server.close()
        thread.join(timeout=5)


@pytest.mark.browser
def test_a_phone_sees_an_offer_without_reload_and_accepts_it_in_one_tap(served, tmp_path):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    url, app, api = served
    shots = Path(os.environ.get("KUAIGONG_SCREENSHOTS", tmp_path))
    body = worker_body(name="周建华")
    worker = api.post("/workers", json=body).get_json()["worker"]
    assert api.post(f"/workers/{worker['id']}/checkin").status_code == 200
    employer = api.post("/employers", json=employer_body()).get_json()["employer"]
    code = _kiosk_code(app, body)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(
                locale="zh-CN", viewport={"width": 360, "height": 740}, is_mobile=True
            )
            phone = context.new_page()
            phone.set_default_timeout(10_000)
            phone.goto(url + "/m/signin")
            phone.get_by_label("手机号").fill(body["mobile"])
            phone.get_by_label("验证码（6位数字）").fill(code)
            phone.get_by_role("button", name="登录", exact=True).click()
            expect(phone.get_by_text("周建华")).to_be_visible()
            expect(phone.locator("html[data-live=on]")).to_have_count(1)
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 360, width  # nothing wider than the phone's screen

            board = context.new_page()
            board.goto(url + "/board/")
            expect(board.locator("html[data-live=on]")).to_have_count(1)
            expect(board.get_by_text("暂无空缺岗位")).to_be_visible()
            kiosk = context.new_page()
            kiosk.goto(url + "/kiosk/")
            expect(kiosk.locator("html[data-live=on]")).to_have_count(1)

            posted = api.post(
                "/jobs", json=job_body(employer["id"], title="仓库搬运", dispatch_mode="offer")
            )
            assert posted.status_code == 201, posted.get_json()
            offer = phone.locator("article.offer", has_text="仓库搬运")
            expect(offer).to_be_visible(timeout=3_000)  # no reload: the stream brought it
            expect(offer.locator(".seconds")).not_to_have_text("0")
            row = board.locator(".board-job", has_text="仓库搬运")
            expect(row).to_be_visible(timeout=3_000)
            expect(row.locator(".qr svg")).to_have_count(1)
            expect(kiosk.locator("article.card", has_text="仓库搬运")).to_be_visible(timeout=3_000)
            phone.screenshot(path=str(shots / "phone-offer.png"), full_page=True)

            offer.get_by_role("button", name="接单").click()
            expect(phone.locator("#live-status")).to_have_text("已接单！请按时到岗")
            expect(phone.locator("article.offer")).to_have_count(0)
            expect(phone.locator("section.booked")).to_contain_text("仓库搬运")
            expect(board.get_by_text("暂无空缺岗位")).to_be_visible(timeout=3_000)  # filled
            phone.screenshot(path=str(shots / "phone-accepted.png"), full_page=True)

            phone.get_by_role("link", name="English").click()
            expect(phone.get_by_role("heading", name="My confirmed jobs")).to_be_visible()
            expect(phone.get_by_role("heading", name="Today's jobs")).to_be_visible()
        finally:
            browser.close()


def test_live_redraws_never_keep_a_kiosk_resident_signed_in(pinned):
    """A kiosk page redraws itself on every board change; only the resident's own taps may keep
    their session alive, or the next person at the kiosk would find them still signed in."""
    app, api, manual = pinned
    body = worker_body()
    worker = api.post("/workers", json=body).get_json()["worker"]
    kiosk = app.test_client()
    kiosk.post(
        "/kiosk/signin",
        data={
            "csrf_token": _token(kiosk, "/kiosk/signin"),
            "id_number": body["id_number"],
            "mobile": body["mobile"],
        },
    )
    stream = kiosk.get("/api/v1/events?topics=worker", buffered=False)
    assert stream.status_code == 200  # the kiosk's session names the worker
    stream.close()
    assert worker["id"] in events.connected_workers()  # just closed: still counted a moment
    manual.advance(120)
    assert kiosk.get("/kiosk/mine?fragment=1").status_code == 200
    manual.advance(120)  # 240 s since the last tap, though a redraw came 120 s ago
    assert kiosk.get("/kiosk/mine?fragment=1").status_code == 401
    assert kiosk.get("/api/v1/events?topics=worker").status_code == 401


def _let_streams_end(limit: float = 5.0) -> None:
    """Closing waitress under a stream still being written races its select loop."""
    deadline = time.monotonic() + limit
    while events.open_streams() and time.monotonic() < deadline:
        time.sleep(0.05)
