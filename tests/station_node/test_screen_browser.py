"""A paired screen in a real browser (Debian's Chromium through Playwright) against the app
served by waitress, with SCREENS_NEED_PAIRING on: the one-time link opens the board or the kiosk,
and revoking the device on the console turns the open page into the refusal at once, without
anyone touching the screen."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import CHROMIUM, LAUNCH_ARGS, _need_browser
from web_helpers import ADMIN_PASSWORD, create_staff, make_web_app

from station_node import db
from station_node.models import Staff
from station_node.services import devices

pytestmark = pytest.mark.browser


class Station:
    """The app with screen pairing on, served by waitress on a free port."""

    def __init__(self, tmp_path: Path) -> None:
        import waitress

        self.app = make_web_app(tmp_path, SCREENS_NEED_PAIRING=True)
        create_staff(self.app, "admin", "admin", ADMIN_PASSWORD)
        self.server = waitress.create_server(self.app, host="127.0.0.1", port=0, threads=6)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def pair(self, kind: str) -> tuple[str, str]:
        """A device of `kind` paired with a fresh code: (its id, the one-time link's path)."""
        with self.app.app_context(), db.database.connection_context():
            code = devices.start_pairing(Staff.get(Staff.username == "admin")).code
        client = self.app.test_client()
        paired = client.post(
            "/api/v1/devices/pair", json={"code": code, "kind": kind, "name": "大厅屏幕"}
        )
        assert paired.status_code == 201, paired.get_json()
        token = paired.get_json()["token"]
        link = client.post(
            "/api/v1/devices/screen-link", headers={"Authorization": f"Bearer {token}"}
        )
        assert link.status_code == 201, link.get_json()
        return paired.get_json()["device"]["id"], link.get_json()["link"]

    def revoke(self, device_id: str) -> None:
        with self.app.app_context(), db.database.connection_context():
            devices.revoke(device_id, Staff.get(Staff.username == "admin"))

    def stop(self) -> None:
        from waitress import wasyncore

        # Closed from inside the server's own loop, as test_board_browser.py does.
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self.thread.join(timeout=5)
        self.server.task_dispatcher.shutdown(timeout=1)


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    _need_browser()
    served = Station(tmp_path)
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def page(station: Station) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            tab = browser.new_context(locale="zh-CN").new_page()
            tab.set_default_timeout(10_000)
            yield tab
        finally:
            browser.close()


@pytest.mark.parametrize(
    ("kind", "shown"), [("board", "#board-jobs"), ("kiosk", "#live")], ids=["board", "kiosk"]
)
def test_an_open_screen_turns_into_the_refusal_when_revoked(
    station: Station, page: Any, kind: str, shown: str
) -> None:
    from playwright.sync_api import expect

    refused = page.goto(station.url + f"/{kind}/")
    assert refused is not None and refused.status == 403
    expect(page.locator("#screen-refused")).to_contain_text("这台屏幕还没有与驿站配对")

    device_id, link = station.pair(kind)
    page.goto(station.url + link)
    assert page.url == f"{station.url}/{kind}/"
    expect(page.locator(shown)).to_be_visible()
    # Its own topic is followed before staff act (the stream is open).
    expect(page.locator("html")).to_have_attribute("data-screen-live", "on")

    station.revoke(device_id)
    expect(page.locator("#screen-refused")).to_contain_text("这台屏幕已被驿站停用", timeout=3_000)
    expect(page.locator(shown)).to_have_count(0)
    assert page.url == f"{station.url}/{kind}/"

    again = page.goto(station.url + link)  # the link was used
    assert again is not None and again.status == 410
