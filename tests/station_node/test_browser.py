"""A real browser (Debian's Chromium driven by Playwright) against a real waitress server: a staff
member logs in, registers a worker through the form, posts a job and watches it on the live
dispatch board. Never downloads a browser: without /usr/bin/chromium the test skips, or fails
under CI."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import (
    ADMIN_PASSWORD,
    create_staff,
    employer_body,
    id_number,
    make_web_app,
    station_date,
)

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _need_browser() -> None:
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = (
            f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk; `make browser`)"
        )
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {missing}")
        pytest.skip(missing)


def keep_screenshot(page: Any, path: Path) -> None:
    """Photograph the page into `path` (a real picture, not a blank one) and, when
    KUAIGONG_SCREENS names a folder, copy it there too (how docs/screens is refreshed)."""
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000, f"{path.name} looks blank"
    target = os.environ.get("KUAIGONG_SCREENS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)


@pytest.fixture
def station(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A station served by waitress on 127.0.0.1:<free port> in a thread; yields (url, employer
    name)."""
    import waitress

    app = make_web_app(tmp_path)
    token = create_staff(app, "admin", "admin", ADMIN_PASSWORD)
    employer = employer_body(name="团结湖物业服务有限公司")
    created = app.test_client().post(
        "/api/v1/employers", json=employer, headers={"Authorization": f"Bearer {token}"}
    )
    assert created.status_code == 201, created.get_json()
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", employer["name"]
    finally:
        server.close()
        thread.join(timeout=5)


def test_log_in_register_post_and_watch_the_board(station, tmp_path: Path):
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    url, employer_name = station
    shots = Path(os.environ.get("KUAIGONG_SCREENSHOTS", tmp_path))
    tomorrow = station_date(1)  # the served app's clock starts at T0, whatever the real date
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(
                locale="zh-CN", viewport={"width": 1280, "height": 900}
            ).new_page()
            page.set_default_timeout(10_000)

            page.goto(url + "/console/login")
            expect(page.get_by_role("heading", name="工作人员登录")).to_be_visible()
            page.get_by_label("用户名").fill("admin")
            page.get_by_label("密码").fill(ADMIN_PASSWORD)
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("heading", name="今日驿站")).to_be_visible()
            page.screenshot(path=str(shots / "console-home.png"), full_page=True)

            page.get_by_role("link", name="登记工人").first.click()
            page.get_by_label("姓名").fill("陈志强")
            page.get_by_label("身份证号").fill("11010519491231002Y")  # wrong check character
            page.get_by_label("手机号").fill("13812345678")
            page.get_by_label("保洁").check()
            page.get_by_label("团结湖社区").check()
            page.get_by_role("button", name="登记", exact=True).click()
            expect(page.locator("#id_number-error")).to_contain_text("身份证")
            expect(page.get_by_label("姓名")).to_have_value("陈志强")
            page.screenshot(path=str(shots / "worker-form-error.png"), full_page=True)
            page.get_by_label("身份证号").fill(id_number(birth="19700101"))
            page.get_by_role("button", name="登记", exact=True).click()
            expect(page.get_by_role("heading", name="陈志强")).to_be_visible()
            page.get_by_role("button", name="签到（今日到站）").click()
            expect(page.get_by_text("今日已签到", exact=False).first).to_be_visible()

            page.get_by_role("link", name="发布岗位").first.click()
            page.get_by_label("用工方").select_option(label=employer_name)
            page.get_by_label("工作名称").fill("楼道保洁")
            page.get_by_label("行业类别").select_option(label="物业管理")
            page.get_by_label("招聘人数").fill("1")
            page.get_by_label("工资（元）").fill("180")
            page.get_by_label("计酬方式").select_option("day")
            page.locator("#f-skills").get_by_label("保洁").check()
            page.get_by_label("工作地点").fill("团结湖北里3号楼")
            page.get_by_label("所在社区").select_option("团结湖社区")
            page.get_by_label("开始时间").fill(f"{tomorrow}T08:00")
            page.get_by_label("结束时间").fill(f"{tomorrow}T17:00")
            page.get_by_label("派工方式").select_option("offer")
            page.get_by_role("button", name="发布", exact=True).click()
            expect(page.get_by_text("岗位已发布，开始派工")).to_be_visible()
            expect(page.get_by_role("heading", name="排序与理由")).to_be_visible()
            expect(page.locator("table.ranking")).to_contain_text("陈志强")

            page.get_by_role("link", name="派工看板").click()
            row = page.locator("#board .board-row", has_text="楼道保洁")
            expect(row).to_be_visible()
            expect(page.locator("#board-status")).to_contain_text(
                "已更新", timeout=5_000
            )  # the script refreshed it
            expect(row.locator(".person.offered")).to_contain_text("陈志强")
            expect(row.locator(".count")).to_have_text("0/1")
            page.screenshot(path=str(shots / "dispatch-board.png"), full_page=True)

            page.get_by_role("link", name="English").click()
            expect(page.get_by_role("heading", name="Dispatch board")).to_be_visible()
        finally:
            browser.close()
