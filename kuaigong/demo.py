"""`kuaigong demo`: a hub and three stations on loopback with sample data, each its own process.

The terminal gets only the demo's own lines: where everything is, then how to sign in. What the
processes themselves say (setup steps, waitress, the sync scheduler) goes to one log file per
process in the demo's data folder, and the last lines say where.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click
import requests

from kuaigong.demo_devices import DemoDevices

STATIONS = [
    ("tuanjiehu", "团结湖街道零工驿站", "团结湖社区"),
    ("maizidian", "麦子店街道零工驿站", "麦子店社区"),
    ("liulitun", "六里屯街道零工驿站", "六里屯社区"),
]
# Not the ports the README uses in its examples (a station on 8080, a hub on 8090), so the demo
# can run next to a station or hub set up from them.
BASE_PORT = 8200
HUB_ADMIN = ("admin", "kuaigong")
# What `kuaigong station seed-demo` creates (station_node.sample_data: ADMIN_USERNAME and
# ADMIN_PASSWORD, and SHARED_RESIDENT, registered at every station). Kept as text here because
# this package sits below the apps; tests/kuaigong/test_demo.py signs in with what is printed.
STATION_STAFF = ("admin", "kuaigong")
RESIDENT = ("张秀英", "11010519491231002X", "13911112222")
# After the hub and the stations: the demo devices page, then the printer stand-in.
DEVICE_PORTS = 2
# Minutes, not the real 40 s, for a newcomer to find the SMS on the page and answer it.
SMS_ANSWER_SECONDS = 300
# What `kuaigong device …` pairs and starts for the first station, with its own options.
DEVICE_KINDS = ("sms", "printer", "idreader")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PAIRING_CODE = re.compile(r'id="pairing-code"[^>]*>\s*(\d{6})\s*<')


@dataclass
class _Process:
    name: str
    url: str
    proc: subprocess.Popen[bytes]


def _kuaigong(*args: str) -> list[str]:
    return [sys.executable, "-m", "kuaigong", *args]


def _step(args: list[str], env: dict[str, str], log: Path) -> str:
    """Run one setup command with its output in `log`; its standard output, or a clear error."""
    done = subprocess.run(_kuaigong(*args), env=env, capture_output=True, text=True)
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"$ kuaigong {' '.join(args)}\n{done.stdout}{done.stderr}")
    if done.returncode != 0:
        raise click.ClickException(f"`kuaigong {' '.join(args[:2])}` failed: see {log}")
    return done.stdout


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(f"{url} exited with code {proc.returncode}: see {log}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.3)
    raise click.ClickException(f"{url} did not answer within {seconds:.0f} s: see {log}")


def _hub_setup(folder: Path, env: dict[str, str], log: Path) -> list[str]:
    """Initialise the hub with an admin and one enrolment code per demo station."""
    data = ["--data", str(folder)]
    _step(["hub", "init", *data], env, log)
    username, password = HUB_ADMIN
    _step(
        ["hub", "create-admin", *data, username, "--name", "市级管理员", "--password", password],
        env,
        log,
    )
    codes = []
    for _, name, community in STATIONS:
        out = _step(
            ["hub", "add-station", *data, "--name", name, "--district", "朝阳区"]
            + ["--community", community],
            env,
            log,
        ).split()
        codes.append(out[out.index("code") + 1])
    return codes


def _start(name: str, url: str, args: list[str], env: dict[str, str], log: Path) -> _Process:
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            _kuaigong(*args),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return _Process(name, url, proc)


def _check_ports_free(ports: range) -> None:
    """Refuse to start over another demo (or anything else) listening on our ports."""
    for port in ports:
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress binds
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise click.ClickException(
                    f"port {port} is in use (another demo still running?): stop it, or choose "
                    "other ports with --base-port"
                ) from None


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, columns: int) -> str:
    return text + " " * max(1, columns - _width(text))


def _signed_in_console(station_url: str) -> requests.Session:
    """A console session as the sample staff, for making pairing codes as staff do."""
    console = requests.Session()
    page = station_url + "console/login"
    token = CSRF.search(console.get(page, timeout=10).text)
    username, password = STATION_STAFF
    form = {
        "username": username,
        "password": password,
        "csrf_token": token.group(1) if token else "",
    }
    if console.post(page, data=form, allow_redirects=False, timeout=10).status_code != 302:
        raise click.ClickException(f"could not sign in to {page} as {username}")
    return console


def _pairing_code(console: requests.Session, station_url: str) -> str:
    """A fresh six-digit code from the console's devices page (a new one cancels the last)."""
    page = station_url + "console/devices"
    token = CSRF.search(console.get(page, timeout=10).text)
    answer = console.post(
        page + "/pairing", data={"csrf_token": token.group(1) if token else ""}, timeout=10
    )
    code = PAIRING_CODE.search(answer.text)
    if code is None:
        raise click.ClickException(f"no pairing code on {page} (HTTP {answer.status_code})")
    return code.group(1)


def _start_devices(
    station_url: str, sim: DemoDevices, root: Path, env: dict[str, str]
) -> list[_Process]:
    """Pair the SMS gateway, printer and ID reader with the station (the first run only; the
    tokens are kept in the data folder) and start each `kuaigong device …` process."""
    folder = root / "devices"
    extra = {
        "sms": ["--port", sim.modem_port, "--interval", "1"],
        "printer": ["--printer", sim.printer_url],
        "idreader": ["--port", sim.reader_port],
    }
    started: list[_Process] = []
    fingerprint = requests.get(station_url + "api/v1/devices/station", timeout=10).json()[
        "station"
    ]["fingerprint"]
    with _signed_in_console(station_url) as console:
        for kind in DEVICE_KINDS:
            log = root / "logs" / f"device-{kind}.log"
            args = ["device", kind, "--station", station_url, "--data", str(folder)]
            paired = folder / f"device-{kind}.json"
            if not paired.exists():
                code = _pairing_code(console, station_url)
                args += ["--fingerprint", fingerprint, "--code", code, "--name", f"演示{kind}"]
            process = _start(f"device {kind}", station_url, [*args, *extra[kind]], env, log)
            started.append(process)
            deadline = time.monotonic() + 30
            while not paired.exists():  # one code pairs one device: wait before the next
                if process.proc.poll() is not None or time.monotonic() > deadline:
                    raise click.ClickException(f"`kuaigong device {kind}` did not pair: see {log}")
                time.sleep(0.2)
    return started


def _announce(running: list[_Process], logs: Path, sim: DemoDevices, root: Path) -> None:
    """The demo's whole say: where everything is, how to sign in, where the logs are."""
    hub, stations = running[0], running[1 : 1 + len(STATIONS)]
    column = max(_width(p.name) for p in running[: 1 + len(STATIONS)]) + 2
    click.echo("Kuaigong demo is running (Ctrl-C stops it):")
    click.echo(f"  {_pad(hub.name, column)}{hub.url}")
    for p in stations:
        click.echo(
            f"  {_pad(p.name, column)}{p.url}console/  kiosk {p.url}kiosk/  board {p.url}board/"
        )
    name, id_number, mobile = RESIDENT
    click.echo("Sign in:")
    click.echo(f"  station staff (console):  {' / '.join(STATION_STAFF)}")
    click.echo(f"  hub admin:                {' / '.join(HUB_ADMIN)}")
    click.echo(f"  resident (kiosk: ID number / mobile):  {id_number} / {mobile}  ({name})")
    click.echo(f"Devices of {stations[0].name} (SMS, ID card, slips): {sim.page_url}")
    click.echo("  发单后，短信会出现在上面的页面；点“回复 1 接单”即接单")
    click.echo(f"  刷身份证：先打开自助机登录页 {stations[0].url}kiosk/signin ，再在该页点一张卡")
    click.echo(f"  派工单：{root / 'slips'}{os.sep}")
    click.echo(
        "  自助机和大屏：演示中不必配对即可打开；正式驿站要先配对（kuaigong device kiosk|board）"
    )
    click.echo(f"Logs: {logs}{os.sep}")


@click.command("demo")
@click.option("--data", default="demo-data", show_default=True, help="Folder for all demo data.")
@click.option(
    "--base-port",
    default=BASE_PORT,
    show_default=True,
    type=int,
    help="The hub listens here, the stations on the next three ports, then the demo devices "
    "page and the printer stand-in.",
)
@click.option(
    "--fresh/--keep",
    default=True,
    show_default=True,
    help="Start from empty data folders, or keep the last run's data.",
)
def demo(data: str, base_port: int, fresh: bool) -> None:
    """Start a hub and three stations on loopback with sample data, syncing; print their URLs."""
    _check_ports_free(range(base_port, base_port + 1 + len(STATIONS) + DEVICE_PORTS))
    root = Path(data).resolve()
    if fresh and root.exists():
        shutil.rmtree(root)
    first_run = not (root / "hub").exists()
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    hub_url = f"http://127.0.0.1:{base_port}/"
    running: list[_Process] = []
    sim: DemoDevices | None = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if first_run:
            click.echo("Setting up a hub and three stations with sample data...")
        codes = _hub_setup(root / "hub", env, logs / "hub.log") if first_run else []
        running.append(
            _start(
                "市级枢纽 hub",
                hub_url,
                ["hub", "run", "--data", str(root / "hub"), "--port", str(base_port)],
                env,
                logs / "hub.log",
            )
        )
        _wait_healthy(hub_url + "api/v1/healthz", running[0].proc, logs / "hub.log")
        for index, (slug, name, _community) in enumerate(STATIONS, start=1):
            folder = str(root / slug)
            log = logs / f"{slug}.log"
            station_env = {
                **env,
                "KUAIGONG_STATION_STATION_ID": slug,
                "KUAIGONG_STATION_STATION_NAME": name,
                "KUAIGONG_STATION_SMS_ANSWER_SECONDS": str(SMS_ANSWER_SECONDS),
                # QR codes on slips and the board open this station (slips printed while the
                # sample data are written have no request to take an address from).
                "KUAIGONG_STATION_PUBLIC_URL": f"http://127.0.0.1:{base_port + index}",
                "KUAIGONG_STATION_STATION_HOTLINE": f"010-6500 120{index}",
                # Newcomers open the kiosk and board by hand: no screen pairing in the demo.
                "KUAIGONG_STATION_SCREENS_NEED_PAIRING": "false",
            }
            if first_run:
                _step(["station", "init", "--data", folder], station_env, log)
                _step(
                    ["station", "enroll", "--data", folder, hub_url, codes[index - 1]],
                    station_env,
                    log,
                )
                _step(["station", "seed-demo", "--data", folder], station_env, log)
            port = base_port + index
            args = ["station", "run", "--data", folder, "--host", "127.0.0.1"]
            running.append(
                _start(
                    name,
                    f"http://127.0.0.1:{port}/",
                    [*args, "--port", str(port)],
                    station_env,
                    log,
                )
            )
        for p, (slug, _, _) in zip(running[1:], STATIONS, strict=True):
            _wait_healthy(p.url + "api/v1/healthz", p.proc, logs / f"{slug}.log")
        devices_port = base_port + 1 + len(STATIONS)
        sim = DemoDevices(root, devices_port, devices_port + 1, RESIDENT)
        sim.start()
        running += _start_devices(running[1].url, sim, root, env)
        _announce(running, logs, sim, root)
        while all(p.proc.poll() is None for p in running):
            time.sleep(1)
        stopped = next(p for p in running if p.proc.poll() is not None)
        raise click.ClickException(f"{stopped.name} stopped: see the log in {logs}")
    except KeyboardInterrupt:
        pass
    finally:
        for p in reversed(running):  # the devices before their station
            p.proc.terminate()
        for p in running:
            try:
                p.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.proc.kill()
        if sim is not None:
            sim.stop()
