"""`kuaigong demo` as a newcomer runs it: real processes on loopback. It prints only its own
lines, and the sign-ins it prints work: staff in each station's console, the admin at the hub,
the sample resident at each kiosk."""

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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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
    """A port with the next three free as well (the hub and three stations)."""
    for _ in range(100):
        base = random.randrange(20_000, 60_000)
        taken: list[socket.socket] = []
        try:
            for port in range(base, base + 4):
                s = socket.socket()
                taken.append(s)
                s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for s in taken:
                s.close()
    raise RuntimeError("no four free ports in a row")


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
    assert sorted(p.name for p in logs.iterdir()) == [
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
