"""The hub's pages in a real browser (Debian's Chromium driven by Playwright) against a real hub
server fed by two real stations over the sync protocol: the stations page, a station's page,
people search, the jobs list with paging, the district → community drill-down and the city
figures with their SVG charts, each in Chinese and in English. No page may show a 32-hex id or
a time in UTC. Screenshots go to the test's tmp dir; with KUAIGONG_SCREENS=docs/screens a few
refresh the README's hub pictures."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "integration"))

from integration_helpers import Hub, Station  # noqa: E402

from kuaigong import clock  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
T0 = dt.datetime(2026, 3, 10, 2, 0)  # 10:00 in the city (UTC+8)
LOCAL_DAY = "2026-03-10 10:"  # every time a page shows falls in this local hour
HEX_ID = re.compile(r"\b[0-9a-f]{32}\b")
A_TIME = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")
SCREENS = {"stations", "station", "people", "jobs", "district", "city"}  # copied for the README
STATIONS = [  # name, district, community, workers, jobs
    ("朝阳团结湖驿站", "朝阳区", "团结湖", ["王芳", "李强", "赵敏"], 30),
    ("海淀学院路驿站", "海淀区", "学院路", ["王刚", "陈静"], 4),
]


def _need_browser() -> None:
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = f"{CHROMIUM} is not installed (apt-get install chromium fonts-noto-cjk)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run under CI: {missing}")
        pytest.skip(missing)


def _feed(hub: Hub, tmp_path: Path) -> list[Station]:
    """Each station enrolled, its people and jobs registered through its own services, and its
    change log pushed to the hub by its sync client."""
    from central_hub.services import stations as hub_stations

    made: list[Station] = []
    for name, district, community, people, jobs in STATIONS:
        with hub.ctx():
            issued = hub_stations.create_station(
                {"name": name, "district": district, "community": community}, None
            )
        st = Station(tmp_path, f"st{len(made)}")
        made.append(st)
        st.enroll(hub, issued.code)
        for person in people:
            st.worker(name=person)
        employer = st.employer()
        tomorrow = (T0 + dt.timedelta(days=1)).date()
        for n in range(jobs):
            st.job(employer, tomorrow, title="小区保洁" if n % 2 else "仓库搬运")
        for _ in range(3):
            st.sync()
    return made


@pytest.fixture
def city(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A hub on 127.0.0.1 fed by the stations, its clock three minutes past their last sync;
    yields its address. One pinned clock for the hub and the stations from their first step
    (stations log their first staff account as they are made)."""
    from central_hub.services import admins

    manual = clock.ManualClock(T0)
    monkeypatch.setattr(clock, "_system", manual)
    hub = Hub(tmp_path, "sqlite")
    # Stations learn the hub's time from waitress's Date header, which is the machine's: the
    # pinned hub takes their signed pulls whatever the real date is.
    hub.app.config["REQUEST_SKEW_SECONDS"] = 100 * 365 * 86400
    hub.start()
    made: list[Station] = []
    try:
        made = _feed(hub, tmp_path)
        with hub.ctx():
            admins.create_admin("chen", "陈管理员", "admin", "hub-admin-password-1")
        manual.advance(180)
        yield hub.url
    finally:
        for st in made:
            st.close()
        hub.close()


def _check(page: Any, name: str, lang: str, shots: Path) -> str:
    """The page's visible text, after checking it names things and shows local times only."""
    text = page.inner_text("body")
    assert not HEX_ID.search(text), f"{name} ({lang}) shows an id: {HEX_ID.search(text)}"
    for shown in A_TIME.findall(text):
        assert shown.startswith(LOCAL_DAY), f"{name} ({lang}) shows {shown}, not local time"
    page.screenshot(path=str(shots / f"hub-{name}-{lang}.png"), full_page=True)
    return text


def test_every_hub_page_in_both_languages(city: str, tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    shots = tmp_path / "screens"
    shots.mkdir()
    words = {
        "zh": {"next": "下一页", "ago": "3 分钟前", "page2": "第 2 页 / 共 2 页 · 共 30 条"},
        "en": {"next": "Next page", "ago": "3 minutes ago", "page2": "Page 2 of 2 · 30 in all"},
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_context(
                locale="zh-CN", viewport={"width": 1366, "height": 900}
            ).new_page()
            page.goto(f"{city}/login")
            page.fill("input[name=username]", "chen")
            page.fill("input[name=password]", "hub-admin-password-1")
            page.click("button[type=submit]")
            expect(page.locator("h1")).to_have_text("驿站运行情况")
            for lang in ("zh", "en"):
                w = words[lang]
                page.goto(f"{city}/?lang={'en' if lang == 'en' else 'zh_CN'}")

                # The stations, by name, with their last sync in words.
                text = _check(page, "stations", lang, shots)
                assert STATIONS[0][0] in text and STATIONS[1][0] in text
                expect(page.locator("#stations td.last-sync").first).to_have_text(w["ago"])

                # A station's page, reached by its name, with its postings drawn.
                page.click(f"text={STATIONS[0][0]}")
                expect(page.locator("h1")).to_have_text(STATIONS[0][0])
                expect(page.locator("svg.chart.line")).to_have_count(1)
                expect(page.locator("#station-jobs")).to_have_text("30")
                _check(page, "station", lang, shots)

                # People found by name; the person's page names them with the masked number.
                page.goto(f"{city}/people/")
                page.fill("input[name=q]", "王")
                page.press("input[name=q]", "Enter")
                expect(page.locator("#people tbody tr")).to_have_count(2)
                text = _check(page, "people", lang, shots)
                assert "王芳" in text and "王刚" in text and "****" in text
                page.click("#people >> text=王芳")
                expect(page.locator("h1")).to_contain_text("王芳")
                expect(page.locator("#id-masked")).to_contain_text("********")
                _check(page, "person", lang, shots)

                # Jobs a page at a time, and narrowed to one station.
                page.goto(f"{city}/jobs/")
                expect(page.locator("#jobs tbody tr")).to_have_count(25)
                page.click(f"text={w['next']}")
                expect(page.locator(".pager .count")).to_contain_text(w["page2"].split(" · ")[0])
                expect(page.locator("#jobs tbody tr")).to_have_count(9)
                page.select_option("select[name=station]", label=STATIONS[1][0])
                page.click("form.search button[type=submit]")
                expect(page.locator("#jobs tbody tr")).to_have_count(4)
                text = _check(page, "jobs", lang, shots)
                assert STATIONS[1][0] in text

                # District → community → station.
                page.goto(f"{city}/city/districts")
                _check(page, "districts", lang, shots)
                page.click(f"#drill-down >> text={STATIONS[0][1]}")
                text = _check(page, "district", lang, shots)
                assert STATIONS[0][2] in text and STATIONS[1][2] not in text
                page.click(f"#drill-down >> text={STATIONS[0][0]}")
                expect(page.locator("h1")).to_have_text(STATIONS[0][0])

                # The city's figures with their charts, drawn by the server.
                page.goto(f"{city}/city/")
                assert page.locator("main svg[role=img]").count() >= 1
                assert all(
                    page.locator("main svg[role=img]").nth(i).get_attribute("aria-label")
                    for i in range(page.locator("main svg[role=img]").count())
                )
                _check(page, "city", lang, shots)
        finally:
            browser.close()
    target = os.environ.get("KUAIGONG_SCREENS")
    if target:
        for name in SCREENS:
            shutil.copy(shots / f"hub-{name}-zh.png", Path(target) / f"hub-{name}.png")
