"""The station's wall screen (信息发布大屏) in a real browser (Debian's Chromium through
Playwright) at the panel's 1920×1080, against the real app served by waitress: every open job
shows across the turning pages and none is cut, today's first, in local words; a new job shows
within a second without a reload; with the station stopped the last jobs stay up with a
reconnecting mark, and the screen recovers by itself when the station is back. Pictures go to
the test's tmp dir; with KUAIGONG_SCREENS=docs/screens they refresh the README's."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_browser import CHROMIUM, LAUNCH_ARGS, _need_browser, keep_screenshot
from web_helpers import (
    ADMIN_PASSWORD,
    Api,
    create_staff,
    employer_body,
    job_body,
    make_web_app,
    station_date,
)

from station_node.views.phone import job_number

pytestmark = pytest.mark.browser

VIEWPORT = {"width": 1920, "height": 1080}
TODAY_JOBS = 5
LATER_JOBS = 14
PAGE_MS = 8_000  # display.js turns a page this often
SLIDE_MS = 10_000  # and shows the next of the rules


class Station:
    """The app and its waitress server, which a test can stop and start again on its port."""

    def __init__(self, tmp_path: Path) -> None:
        self.app = make_web_app(tmp_path)
        token = create_staff(self.app, "admin", "admin", ADMIN_PASSWORD)
        self.api = Api(self.app.test_client(), token)
        answer = self.api.post("/employers", json=employer_body(name="团结湖物业服务有限公司"))
        assert answer.status_code == 201, answer.get_json()
        self.employer_id = answer.get_json()["employer"]["id"]
        self.port = 0
        self.start()

    def start(self) -> None:
        import waitress

        self.server = waitress.create_server(self.app, host="127.0.0.1", port=self.port, threads=6)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """As the station's process ending would: the port and every open connection close
        (closing only the listening socket keeps answering on the browser's kept-alive ones)."""
        from waitress import wasyncore

        # Closed from inside the server's own loop: closing its sockets from this thread would
        # pull them from under the select() it is waiting in.
        self.server.trigger.pull_trigger(lambda: wasyncore.close_all(self.server._map))
        self.thread.join(timeout=5)
        assert not self.thread.is_alive()
        self.server.task_dispatcher.shutdown(timeout=1)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post_job(self, **over: Any) -> str:
        answer = self.api.post("/jobs", json=job_body(self.employer_id, **over))
        assert answer.status_code == 201, answer.get_json()
        return job_number(str(answer.get_json()["job"]["id"]))


def _today(title: str, **over: Any) -> dict[str, Any]:
    day = station_date(0)  # the served clock starts at 09:00 station time
    return {
        "title": title,
        "starts_at": f"{day}T18:00",
        "ends_at": f"{day}T22:00",
        **over,
    }


@pytest.fixture
def station(tmp_path: Path) -> Iterator[Station]:
    _need_browser()
    served = Station(tmp_path)
    for n in range(LATER_JOBS):
        later = station_date(1 + n % 3)
        served.post_job(
            title=f"小区保洁{n + 1}号楼" if n != 3 else "团结湖北里社区养老驿站助餐送餐和老人陪护",
            starts_at=f"{later}T08:00",
            ends_at=f"{later}T17:00",
            skills=["cleaning"],
        )
    for n in range(TODAY_JOBS):
        served.post_job(**_today(f"地库清扫{n + 1}", urgency="urgent" if n == 2 else "normal"))
    try:
        yield served
    finally:
        served.stop()


@pytest.fixture
def page(station: Station, tmp_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            tab = browser.new_context(locale="zh-CN", viewport=VIEWPORT).new_page()
            tab.set_default_timeout(10_000)
            tab.shots = tmp_path  # type: ignore[attr-defined]
            yield tab
        finally:
            browser.close()


def _shot(page: Any, name: str) -> None:
    """The screen as the panel shows it, in the tmp dir and, with KUAIGONG_SCREENS, there too
    as board-NAME.png."""
    path = page.shots / f"board-{name}.png"
    keep_screenshot(page, path)


def _shown(page: Any) -> list[dict[str, Any]]:
    """The job cards on the page now showing, with their boxes."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('.board-job'))
                .filter(c => !c.hidden && c.offsetParent !== null)
                .map(c => { const r = c.getBoundingClientRect();
                            return {job: c.dataset.job, today: !!c.querySelector('.tag.today'),
                                    left: r.left, top: r.top, right: r.right,
                                    bottom: r.bottom}; })"""
        )
    )


def test_every_job_shows_across_the_pages_uncut_today_first(station, page) -> None:
    from playwright.sync_api import expect

    page.clock.install()
    page.goto(station.url + "/board/")
    expect(page.locator(".board-job").first).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("快工")
    every = page.eval_on_selector_all(".board-job", "cs => cs.map(c => c.dataset.job)")
    assert len(every) == TODAY_JOBS + LATER_JOBS
    today = page.eval_on_selector_all(
        ".board-job", "cs => cs.map(c => !!c.querySelector('.today'))"
    )
    assert today == [True] * TODAY_JOBS + [False] * LATER_JOBS  # today's first
    assert page.locator(".board-job").first.locator(".tag.alert").count() == 1  # urgent leads

    seen: list[str] = []
    pages = 0
    while pages < 10:
        shown = _shown(page)
        assert shown, "a page with no jobs"
        for card in shown:
            assert card["left"] >= 0 and card["top"] >= 0, card
            assert card["right"] <= VIEWPORT["width"] and card["bottom"] <= VIEWPORT["height"], card
        if shown[0]["job"] in seen:
            break  # back at the first page
        seen += [card["job"] for card in shown]
        if pages == 0:
            _shot(page, "jobs")
        pages += 1
        page.clock.run_for(PAGE_MS)
    assert pages > 1  # 19 jobs do not fit one screen, so the pages turn
    assert sorted(seen) == sorted(every)
    expect(page.locator("#board-page")).to_contain_text(f"共 {len(every)} 个岗位")

    slides = page.locator(".board-slide").count()
    headings = set()
    for _ in range(slides):  # the rules and the fraud warning take turns, none cut either
        side = page.evaluate(
            """() => { const s = document.querySelector('.board-side');
                       const h = Array.from(s.querySelectorAll('.board-slide'))
                           .filter(e => !e.hidden).map(e => e.innerText);
                       return {fits: s.scrollHeight <= s.clientHeight, shown: h}; }"""
        )
        assert side["fits"] and len(side["shown"]) == 1, side
        headings.add(side["shown"][0])
        page.clock.run_for(SLIDE_MS)
    assert len(headings) == slides and any("诈骗" in h for h in headings)

    # Words people read: the station's local time, skills by name, short numbers, no codes.
    first = page.locator(".board-job").first
    day = station_date(0)
    weekday = "一二三四五六日"[day.weekday()]
    expect(first).to_contain_text(f"{day.month}月{day.day}日 周{weekday} 18:00–22:00")
    expect(first).to_contain_text("25 元/小时")
    expect(page.locator(".board-job", has_text="小区保洁1号楼")).to_contain_text("保洁")
    assert "cleaning" not in page.locator("#board-jobs").inner_text()
    expect(page.locator("#board-clock")).to_have_text(
        re.compile(rf"^{day.month}月{day.day}日 周{weekday} 09:0\d$")
    )
    assert page.locator("a").count() == 0  # nothing on a wall screen asks to be touched
    expect(page.locator(".board-side")).to_contain_text("12333")

    sizes = page.evaluate(
        """() => {
            const out = {body: 99, tag: 99, least: 99};
            const own = e => Array.from(e.childNodes)
                .some(n => n.nodeType === 3 && n.textContent.trim());
            for (const e of document.querySelectorAll('body *')) {
                if (!own(e) || e.offsetParent === null) continue;
                const px = parseFloat(getComputedStyle(e).fontSize);
                out.least = Math.min(out.least, px);
                if (e.closest('.tag')) out.tag = Math.min(out.tag, px);
                else if (e.matches('.board-job p, .board-how, .board-side p'))
                    out.body = Math.min(out.body, px);
            }
            return out; }"""
    )
    assert sizes["body"] >= 32, sizes
    assert sizes["tag"] >= 28, sizes
    assert sizes["least"] >= 28, sizes

    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    serious = [(v["id"], v["impact"]) for v in found if v["impact"] in ("serious", "critical")]
    assert serious == [], serious


def test_live_without_reloads_and_back_by_itself_after_the_station_was_away(station, page) -> None:
    from playwright.sync_api import expect

    loads: list[str] = []
    page.on(
        "framenavigated",
        lambda frame: loads.append(frame.url) if frame.parent_frame is None else None,
    )
    page.goto(station.url + "/board/")
    expect(page.locator(".board-job")).to_have_count(TODAY_JOBS + LATER_JOBS)
    page.wait_for_function("document.querySelector('#board-conn').hidden")
    time.sleep(0.5)  # the stream is open

    fresh = station.post_job(**_today("新发布的搬运工"))
    expect(page.locator(f".board-job[data-job='{fresh}']")).to_be_attached(timeout=1_000)

    station.stop()
    expect(page.locator("#board-conn")).to_be_visible(timeout=8_000)
    expect(page.locator("#board-conn")).to_have_text("正在重新连接…")
    expect(page.locator(".board-job")).to_have_count(TODAY_JOBS + LATER_JOBS + 1)
    assert _shown(page), "the last jobs stay up"
    _shot(page, "reconnecting")

    station.start()
    expect(page.locator("#board-conn")).to_be_hidden(timeout=10_000)
    after = station.post_job(**_today("恢复后发布的保洁"))
    expect(page.locator(f".board-job[data-job='{after}']")).to_be_attached(timeout=2_000)
    assert loads == [station.url + "/board/"]  # one load, never a reload
    assert "chrome-error" not in page.url
