"""`kuaigong demo` as a newcomer runs it: real processes on loopback. It prints only its own
lines, and the sign-ins it prints work: staff in each station's console, the admin at the hub,
the sample resident at each kiosk. The first station's devices work end to end: a posted job's
SMS offer shows on the demo devices page, "1" sent from there confirms the worker and prints a
slip, and a card placed there signs its resident in at the kiosk."""

from __future__ import annotations

import os
import queue
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.slow

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
URL = r"http://127\.0\.0\.1:\d+/"


@dataclass
class Demo:
    proc: subprocess.Popen[str]
    lines: list[str]
    args: list[str]


def _free_base_port() -> int:
    """A port with the next five free as well (three stations, the devices page, the printer)."""
    for _ in range(100):
        base = random.randrange(20_000, 60_000)
        taken: list[socket.socket] = []
        try:
            for port in range(base, base + 6):
                s = socket.socket()
                taken.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in taken:
                s.close()
    raise RuntimeError("no six free ports in a row")


def _read_until_logs_line(proc: subprocess.Popen[str], seconds: float) -> list[str]:
    """The demo's lines up to its last one ("Logs: ..."), read with a deadline."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    out: list[str] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            raise AssertionError("the demo ended early:\n" + "\n".join(out))
        out.append(line)
        if line.startswith("Logs: "):
            return out
    raise AssertionError(f"no URLs within {seconds:.0f} s:\n" + "\n".join(out))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """One demo for the module's tests (starting one takes most of a minute)."""
    data = tmp_path_factory.mktemp("demo") / "demo-data"
    args = [sys.executable, "-m", "kuaigong", "demo", "--data", str(data)]
    args += ["--base-port", str(_free_base_port())]
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own group, so teardown can stop the stations it started
    )
    try:
        yield Demo(proc, _read_until_logs_line(proc, 240), args)
    finally:
        proc.send_signal(signal.SIGTERM)  # the demo stops its processes, then itself
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _signed_in(session: requests.Session, page: str, form: dict[str, str]) -> requests.Response:
    """Post `form` to the sign-in `page` with its CSRF token; the response is not followed."""
    token = CSRF.search(session.get(page, timeout=10).text)
    assert token, page
    return session.post(
        page, data={**form, "csrf_token": token.group(1)}, allow_redirects=False, timeout=10
    )


def test_the_demo_prints_only_its_own_lines_and_its_sign_ins_work(demo: Demo) -> None:
    lines = demo.lines
    expected = [
        r"Setting up a hub and three stations with sample data\.\.\.",
        r"Kuaigong demo is running \(Ctrl-C stops it\):",
        rf"  \S+ hub +{URL}",
        *[rf"  \S+ +{URL}console/  kiosk {URL}kiosk/  board {URL}board/"] * 3,
        r"Sign in:",
        r"  station staff \(console\): +\S+ / \S+",
        r"  hub admin: +\S+ / \S+",
        r"  resident \(kiosk: ID number / mobile\): +\d{17}[\dX] / \d{11}  \(\S+\)",
        rf"Devices of \S+ \(SMS, ID card, slips\): {URL}",
        r"  发单后，短信会出现在上面的页面；点“回复 1 接单”即接单",
        rf"  刷身份证：先打开自助机登录页 {URL}kiosk/signin ，再在该页点一张卡",
        r"  派工单：/.+/slips/",
        r"  自助机和大屏：演示中不必配对即可打开；正式驿站要先配对（kuaigong device kiosk\|board）",
        r"Logs: /.+/",
    ]
    assert len(lines) == len(expected), "\n".join(lines)  # no line from the processes themselves
    for pattern, line in zip(expected, lines, strict=True):
        assert re.fullmatch(pattern, line), (pattern, line)

    hub_url = re.findall(URL, lines[2])[0]
    stations = [re.findall(URL, line)[0] for line in lines[3:6]]
    staff = lines[7].split(":", 1)[1].strip().split(" / ")
    admin = lines[8].split(":", 1)[1].strip().split(" / ")
    resident = re.search(r"(\S+) / (\d+)  \((\S+)\)", lines[9])
    assert resident, lines[9]
    id_number, mobile, name = resident.groups()

    with requests.Session() as hub:
        answer = _signed_in(hub, hub_url + "login", {"username": admin[0], "password": admin[1]})
        assert answer.status_code == 302, answer.text
        assert "/login" not in answer.headers["Location"]
        front = hub.get(hub_url, timeout=10)
        assert front.status_code == 200 and "/login" not in front.url, front.url

    for station in stations:
        with requests.Session() as console:
            page = station + "console/login"
            answer = _signed_in(console, page, {"username": staff[0], "password": staff[1]})
            assert answer.status_code == 302, answer.text
            home = console.get(station + "console/", timeout=10)
            assert home.status_code == 200 and "/console/login" not in home.url, home.url
        with requests.Session() as kiosk:
            answer = _signed_in(
                kiosk, station + "kiosk/signin", {"id_number": id_number, "mobile": mobile}
            )
            assert answer.status_code == 302, answer.text
            mine = kiosk.get(station + "kiosk/mine", timeout=10)
            assert mine.status_code == 200 and name in mine.text

    logs = Path(lines[-1].removeprefix("Logs: "))
    assert sorted(p.name for p in logs.iterdir() if p.name != "sms.log") == [
        "device-idreader.log",
        "device-printer.log",
        "device-sms.log",
        "hub.log",
        "liulitun.log",
        "maizidian.log",
        "tuanjiehu.log",
    ]
    assert "serving on" in (logs / "hub.log").read_text(encoding="utf-8")


def test_a_second_demo_on_the_same_ports_refuses_and_keeps_the_first_ones_data(demo: Demo) -> None:
    again = subprocess.run(demo.args, capture_output=True, text=True, timeout=60)
    assert again.returncode != 0
    assert "is in use" in again.stderr and "--base-port" in again.stderr, again.stderr
    data = Path(demo.args[demo.args.index("--data") + 1])
    assert (data / "hub").is_dir() and (data / "logs" / "hub.log").is_file()
    hub_url = re.findall(URL, demo.lines[2])[0]
    assert requests.get(hub_url + "login", timeout=10).status_code == 200  # the first one runs on


def _wait_for(check: Callable[[], Any], seconds: float, what: str) -> Any:
    """`check()`'s first truthy answer, asked every half second for up to `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {seconds:.0f} s")


def _first_station_and_devices(demo: Demo) -> tuple[str, str, Path]:
    """The first station's URL, the demo devices page and the slips folder, as printed."""
    station = re.findall(URL, demo.lines[3])[0]
    page = re.findall(URL, demo.lines[10])[0]
    slips = Path(demo.lines[13].split("：", 1)[1].strip())
    return station, page, slips


def _texts(page: str) -> list[dict[str, str]]:
    texts: list[dict[str, str]] = requests.get(page + "state.json", timeout=10).json()["sms"]
    return texts


def test_a_posted_job_is_texted_and_answered_from_the_devices_page_and_a_slip_prints(
    demo: Demo,
) -> None:
    station, page, slips = _first_station_and_devices(demo)
    title = "演示：楼道保洁（短信）"
    with requests.Session() as console:
        staff = {"username": "admin", "password": "kuaigong"}
        answer = _signed_in(console, station + "console/login", staff)
        assert answer.status_code == 302, answer.text
        token = CSRF.search(console.get(station + "console/", timeout=10).text)
        assert token
        headers = {"X-CSRFToken": token.group(1)}
        jobs = console.get(station + "api/v1/jobs", timeout=10).json()["jobs"]
        sample = next(j for j in jobs if "cleaning" in j["skills"])
        posted = console.post(
            station + "api/v1/jobs",
            json={
                "employer_id": sample["employer_id"],
                "title": title,
                "category": sample["category"],
                "skills": ["cleaning"],
                "headcount": 1,
                "pay_fen": 2500,
                "pay_unit": "hour",
                "address": "团结湖北里3号楼",
                "community": sample["community"],
                "time_flexible": True,
                "source": "walk_in",
                "dispatch_mode": "offer",
            },
            headers=headers,
            timeout=10,
        )
        assert posted.status_code == 201, posted.text
        job_id = posted.json()["job"]["id"]

        # The offer goes out by SMS (the sample workers not checked in have only a mobile) and
        # shows on the devices page, Chinese intact, newest first.
        offer = _wait_for(
            lambda: next((t for t in _texts(page) if title in t["text"]), None), 90, "SMS offer"
        )
        assert offer["direction"] == "out" and "回复1" in offer["text"], offer
        front = requests.get(page, timeout=10).text
        assert offer["text"] in front and "回复 1 接单" in front

        replied = requests.post(
            page + "reply", data={"number": offer["number"], "text": "1"}, allow_redirects=False
        )
        assert replied.status_code == 303

        def confirmed() -> list[dict[str, Any]]:
            detail = console.get(f"{station}api/v1/jobs/{job_id}", timeout=10).json()
            return [a for a in detail["assignments"] if a["status"] == "confirmed"]

        assert len(_wait_for(confirmed, 60, "confirmed assignment")) == 1

    def slip() -> Path | None:
        return next((p for p in slips.glob("*.txt") if title in p.read_text("utf-8")), None)

    printed = _wait_for(slip, 60, "slip")
    text = printed.read_text("utf-8")
    assert "派工单" in text and f"工作：{title}" in text, text
    assert printed.with_suffix(".bin").read_bytes().endswith(b"\x1dVB\x00")  # cut last

    def told() -> bool:  # the worker is texted that the place is theirs
        texts = _texts(page)
        return any(t["number"] == offer["number"] and "接单成功" in t["text"] for t in texts)

    _wait_for(told, 60, "confirmation SMS")


def test_a_card_placed_from_the_devices_page_signs_its_resident_in_at_the_kiosk(
    demo: Demo,
) -> None:
    station, page, _ = _first_station_and_devices(demo)
    name = re.search(r"\((\S+)\)$", demo.lines[9])
    assert name

    def tap(card: str, kiosk: requests.Session) -> requests.Response:
        token = CSRF.search(kiosk.get(station + "kiosk/signin", timeout=10).text)
        assert token
        placed = requests.post(page + "card", data={"card": card}, allow_redirects=False)
        assert placed.status_code == 303

        def read() -> int | None:
            state = kiosk.get(station + "kiosk/idcard", timeout=10).json()
            return int(state["read"]) if state["state"] == "card" else None

        read_id = _wait_for(read, 20, "card read at the kiosk")
        return kiosk.post(
            station + "kiosk/idcard/signin",
            data={"read": str(read_id), "csrf_token": token.group(1)},
            allow_redirects=False,
            timeout=10,
        )

    with requests.Session() as kiosk:  # the sample resident, registered at every station
        answer = tap("0", kiosk)
        assert answer.status_code == 302, answer.text
        mine = kiosk.get(station + "kiosk/mine", timeout=10)
        assert mine.status_code == 200 and name.group(1) in mine.text
    with requests.Session() as kiosk:  # a sample card nobody registered
        answer = tap("1", kiosk)
        assert answer.status_code == 401 and "没有找到您的登记" in answer.text, answer.text
