"""The registration form's "读身份证" button in a real browser (Debian's Chromium driven by
Playwright) against a real waitress server: without a card it asks for one; with a card read by
a paired reader it fills the name and ID number, shows the card's address and ticks the
community it names, and the worker registers. Skips without /usr/bin/chromium (fails under CI).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from test_browser import CHROMIUM, LAUNCH_ARGS, _need_browser
from test_printing import _paired, card_json
from web_helpers import ADMIN_PASSWORD, create_staff, id_number, make_web_app

from devices.kinds import DeviceKind

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Flask, str]]:
    import waitress

    app = make_web_app(tmp_path)
    create_staff(app, "admin", "admin", ADMIN_PASSWORD)
    server: Any = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


def test_read_id_card_fills_the_registration_form(served: tuple[Flask, str]):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    app, url = served
    _, token = _paired(app, DeviceKind.IDREADER, "窗口读卡器")
    number = id_number(birth="19660315")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(locale="zh-CN").new_page()
            page.set_default_timeout(10_000)
            page.goto(url + "/console/login")
            page.get_by_label("用户名").fill("admin")
            page.get_by_label("密码").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.goto(url + "/console/workers/new")

            page.get_by_role("button", name="读身份证").click()
            expect(page.locator("#idcard-status")).to_have_text("请把身份证放在读卡器上")

            posted = app.test_client().post(
                "/api/v1/idcard/reads",
                json=card_json(number, name="刘桂兰"),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert posted.status_code == 201, posted.get_json()
            page.get_by_role("button", name="读身份证").click()
            expect(page.locator("#f-name")).to_have_value("刘桂兰")
            expect(page.locator("#f-id_number")).to_have_value(number)
            expect(page.locator("#idcard-address")).to_have_text("北京市朝阳区团结湖社区北里3号楼")
            expect(page.locator('#f-areas input[value="团结湖社区"]')).to_be_checked()

            page.get_by_label("手机号").fill("13812345678")
            page.locator("#f-skills").get_by_label("保洁").check()
            page.get_by_role("button", name="登记", exact=True).click()
            expect(page.get_by_role("heading", name="刘桂兰")).to_be_visible()
        finally:
            browser.close()
