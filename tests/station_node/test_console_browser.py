"""The staff console in a real browser (Debian's Chromium through Playwright) at the staff PC's
1366×768, against the real app served by waitress: local times and words instead of codes,
"overdue" only for what staff must act on now, posting a repeat job in three steps, worker
search, pages with counts, exports, the home page's "needs you now", the employer page,
check-out and the sync page. Each page is photographed at its real size into the test's tmp
dir; with KUAIGONG_SCREENS=docs/screens the same pictures refresh the README's."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import CHROMIUM, LAUNCH_ARGS, _need_browser, keep_screenshot
from web_helpers import (
    ADMIN_PASSWORD,
    T0,
    create_staff,
    employer_body,
    id_number,
    job_body,
    make_web_app,
    station_date,
    worker_body,
)

from kuaigong import clock

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1366, "height": 768}
KNOWN = "团结湖物业服务有限公司"
EVERY_DAY = {"days": [0, 1, 2, 3, 4, 5, 6], "from": "06:00", "to": "23:30"}
EXTRA_WORKERS = 52  # more than a page of 50


def _local(moment: dt.datetime) -> dt.datetime:
    return moment + dt.timedelta(hours=8)


def _seed(app: Any) -> dict[str, Any]:
    """A station a minute into its morning: jobs escalated for different reasons, a held
    posting, a complaint, more workers than one page holds."""
    from station_node import db
    from station_node.services import dispatch

    manual = clock.ManualClock(T0)
    clock.install(app, manual)
    token = create_staff(app, "admin", "admin", ADMIN_PASSWORD)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def post(path: str, body: dict[str, Any], key: str) -> dict[str, Any]:
        answer = client.post(f"/api/v1{path}", json=body, headers=headers)
        assert answer.status_code == 201, answer.get_json()
        return dict(answer.get_json()[key])

    known = post("/employers", employer_body(name=KNOWN), "employer")
    other = post("/employers", employer_body(name="麦子店家政服务部"), "employer")
    worker = post(
        "/workers",
        worker_body(
            name="陈志强",
            id_number=id_number(birth="19700101", seq=501),
            mobile="13812345678",
            availability=EVERY_DAY,
        ),
        "worker",
    )
    for n in range(EXTRA_WORKERS):
        post("/workers", worker_body(id_number=id_number(seq=600 + n)), "worker")
    in_three_days = station_date(3)
    soon = _local(T0 + dt.timedelta(hours=2))
    far = post(
        "/jobs",
        job_body(
            known["id"],
            title="楼道保洁",
            headcount=5,
            dispatch_mode="offer",
            starts_at=f"{in_three_days}T08:00",
            ends_at=f"{in_three_days}T17:00",
        ),
        "job",
    )
    grab = post("/jobs", job_body(other["id"], title="家庭保洁", headcount=3), "job")
    urgent = post(
        "/jobs",
        job_body(
            known["id"],
            title="地库清扫",
            headcount=5,
            dispatch_mode="offer",
            starts_at=soon.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(soon + dt.timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M"),
        ),
        "job",
    )
    held = post(
        "/jobs", job_body(other["id"], title="促销员", description="入职前需交押金300元"), "job"
    )
    post(
        "/complaints",
        {
            "by": "worker",
            "kind": "unpaid_wages",
            "text": "上周的保洁工资还没有结清",
            "employer_id": known["id"],
            "worker_id": worker["id"],
        },
        "complaint",
    )
    manual.set(T0 + dt.timedelta(seconds=60))
    with app.app_context(), db.database.connection_context():
        dispatch.tick()
    clock.install(app, clock.RunningClock(T0 + dt.timedelta(seconds=60)))
    return {
        "worker": worker,
        "known": known,
        "other": other,
        "far": far,
        "grab": grab,
        "urgent": urgent,
        "held": held,
    }


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    _need_browser()
    import waitress

    app = make_web_app(tmp_path_factory.mktemp("station"))
    seeded = _seed(app)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}", seeded
    finally:
        server.close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser(station: Any) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(station: Any, browser: Any, tmp_path: Path) -> Iterator[Any]:
    """A signed-in console tab at the staff PC's size."""
    url, _ = station
    context = browser.new_context(locale="zh-CN", viewport=VIEWPORT, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    tab.goto(url + "/console/login")
    tab.get_by_label("用户名").fill("admin")
    tab.get_by_label("密码").fill(ADMIN_PASSWORD)
    tab.get_by_role("button", name="登录").click()
    tab.wait_for_url("**/console/")
    tab.shots = tmp_path  # type: ignore[attr-defined]
    try:
        yield tab
    finally:
        context.close()


def _shot(page: Any, name: str) -> None:
    """The page as the staff PC shows it (1366×768, not the whole scroll), kept in the test's
    tmp dir and, when KUAIGONG_SCREENS names a folder, copied there as console-NAME.png."""
    path = page.shots / f"console-{name}.png"
    keep_screenshot(page, path)


def test_times_and_words_not_codes(station, page) -> None:
    from playwright.sync_api import expect

    url, seeded = station
    page.goto(f"{url}/console/jobs/{seeded['far']['id']}")
    day = station_date(3)
    weekday = "一二三四五六日"[day.weekday()]
    expect(page.locator("dl.facts").first).to_contain_text(
        f"{day.month}月{day.day}日 周{weekday} 08:00–17:00"
    )
    expect(page.locator("dl.facts").first).not_to_contain_text("UTC")
    _shot(page, "job")

    page.goto(f"{url}/console/workers/{seeded['worker']['id']}")
    expect(page.locator("dl.facts").first).to_contain_text("每天 06:00–23:30")
    number = page.locator("#worker-number")
    expect(number).to_have_text(seeded["worker"]["id"][:8].upper())
    expect(page.locator("main")).not_to_contain_text(seeded["worker"]["id"])
    _shot(page, "worker")

    page.goto(url + "/console/board")
    timer = page.locator("#board .board-row .timer").first
    expect(timer).to_contain_text("秒")
    expect(timer).not_to_contain_text("s")

    page.goto(url + "/console/jobs/new")
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator("#pay_yuan-error")).to_have_text("请填写工资（元）")
    expect(page.locator("#employer_id-error")).to_contain_text("用工方")
    page.get_by_label("工资（元）").fill("999999")
    page.get_by_label("计酬方式").select_option("day")
    page.get_by_role("button", name="发布", exact=True).click()
    expect(page.locator("#pay_yuan-error")).to_have_text("工资不能超过 50000 元")


def test_overdue_only_for_what_staff_must_act_on_now(station, page) -> None:
    from playwright.sync_api import expect

    url, seeded = station
    page.goto(url + "/console/board")
    overdue = page.locator("#board .board-row.overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("地库清扫")
    for title in ("楼道保洁", "家庭保洁"):  # days ahead; a grab job waiting for takers
        row = page.locator("#board .board-row", has_text=title)
        expect(row).not_to_have_class("overdue")
        expect(row).to_contain_text("等待接单")
    expect(page.locator("#board-status")).to_contain_text("已更新", timeout=5_000)
    expect(page.locator("#board .board-row.overdue")).to_have_count(1)  # after the redraw
    _shot(page, "board")

    page.goto(url + "/console/jobs")
    expect(page.locator("tr.overdue")).to_have_count(1)
    expect(page.locator("tr.overdue")).to_contain_text("地库清扫")
    _shot(page, "jobs")


def test_repeat_job_in_three_steps_stays_on_top_of_the_board(station, page) -> None:
    from playwright.sync_api import expect

    url, _ = station
    page.goto(url + "/console/jobs/new")
    expect(page.locator("#employer-q")).to_be_focused()
    page.keyboard.type("团结湖", delay=30)  # 1
    again = page.locator("#employer-found a.repeat", has_text="楼道保洁").first
    expect(again).to_be_visible()
    _shot(page, "job-form")
    again.click()  # 2
    expect(page.get_by_label("工作名称")).to_have_value("楼道保洁")
    expect(page.get_by_label("用工方")).to_have_value(station[1]["known"]["id"])
    expect(page.get_by_label("工作地点")).to_have_value("团结湖北里3号楼")
    expect(page.get_by_label("开始时间")).to_have_value(f"{station_date(1)}T08:00")
    page.get_by_role("button", name="发布", exact=True).click()  # 3
    expect(page.get_by_text("岗位已发布，开始派工")).to_be_visible()

    page.goto(url + "/console/board")
    first = page.locator("#board .board-row").first
    expect(first).to_contain_text("楼道保洁")
    expect(first).to_have_class("board-row dispatching")

    page.goto(url + "/console/jobs/new")
    expect(page.get_by_label("所在社区")).to_have_value("团结湖社区")  # today's community
    page.get_by_label("行业类别").select_option("household")
    expect(page.get_by_label("计酬方式")).to_have_value("hour")
    page.locator("#employer-q").fill("mzd")  # pinyin initials of 麦子店
    page.locator("#employer-found button.employer-name").first.click()
    expect(page.get_by_label("用工方")).to_have_value(station[1]["other"]["id"])


def test_find_workers_page_through_them_and_export(station, page, tmp_path: Path) -> None:
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    url, seeded = station
    page.goto(url + "/console/workers")
    expect(page.locator("#list-count")).to_have_text(f"共 {EXTRA_WORKERS + 1} 条，显示第 1–50 条")
    _shot(page, "workers")
    page.get_by_role("link", name="下一页").click()
    expect(page.locator("#list-count")).to_contain_text(f"显示第 51–{EXTRA_WORKERS + 1} 条")

    number = seeded["worker"]["id"][:8].upper()
    for query in (id_number(birth="19700101", seq=501), "陈志", "13812345678", number):
        page.goto(url + "/console/workers")
        page.get_by_label("按姓名、手机号、身份证号或工人编号查找").fill(query)
        page.get_by_role("button", name="查找").click()
        expect(page.locator("#list-count")).to_have_text("共 1 条，显示第 1–1 条")
        expect(page.locator("tbody tr")).to_contain_text("陈志强")

    page.goto(url + "/console/workers")
    with page.expect_download() as got:
        page.get_by_role("link", name="Excel (XLSX)").click()
    sheet = load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("工人编号", "姓名", "身份证号")
    assert len(rows) == EXTRA_WORKERS + 2
    assert any(r[1] == "陈志强" and r[6] == "每天 06:00–23:30" for r in rows)

    page.goto(url + "/console/stats")
    _shot(page, "stats")
    with page.expect_download() as got:
        page.locator(".exports a[href$='assignments.csv']").click()
    text = Path(got.value.path()).read_bytes().decode("utf-8-sig")
    assert text.splitlines()[0].startswith("岗位编号,工作名称,工人编号,工人,状态")


def test_home_employer_presence_and_sync(station, page) -> None:
    from playwright.sync_api import expect

    url, seeded = station
    page.goto(url + "/console/")
    now = page.locator("#needs-you")
    expect(now.locator("#now-by-hand")).to_contain_text("地库清扫")
    expect(now.locator("#now-by-hand")).not_to_contain_text("楼道保洁")
    expect(now.locator("#now-held")).to_contain_text("促销员")
    expect(now.locator("#now-complaints")).to_contain_text("工资还没有结清")
    _shot(page, "home")
    for path in ("/console/complaints", "/console/jobs/held"):
        page.goto(url + path)
        expect(page.locator("#list-count")).to_have_text("共 1 条，显示第 1–1 条")

    page.goto(url + "/console/employers")
    expect(page.locator("#list-count")).to_have_text("共 2 条，显示第 1–2 条")
    _shot(page, "employers")
    page.get_by_role("link", name=KNOWN).click()
    expect(page.get_by_role("heading", name=KNOWN)).to_be_visible()
    expect(page.locator("#employer-jobs")).to_contain_text("地库清扫")
    expect(page.locator("#employer-complaints")).to_contain_text("拖欠工资")
    _shot(page, "employer")
    page.get_by_label("停用原因").fill("拖欠工资核实")
    page.get_by_role("button", name="停用", exact=True).click()
    expect(page.locator("#employer-blocked")).to_be_visible()
    page.get_by_role("button", name="恢复").click()
    expect(page.locator("#employer-blocked")).to_have_count(0)

    page.goto(f"{url}/console/workers/{seeded['worker']['id']}")
    page.get_by_role("button", name="签到（今日到站）").click()
    page.goto(url + "/console/presence")
    row = page.locator("tr", has_text="陈志强")
    _shot(page, "presence")
    row.get_by_role("button", name="签退").click()
    expect(page.locator("tr", has_text="陈志强")).to_contain_text("已签退")

    page.goto(url + "/console/sync")
    expect(page.get_by_role("button", name="导出到 U 盘")).to_be_visible()
    expect(page.get_by_role("button", name="从 U 盘导入")).to_be_visible()
    _shot(page, "sync")
    page.get_by_role("button", name="导出到 U 盘").click()
    expect(page.get_by_text("本站尚未在市级中心注册").first).to_be_visible()
