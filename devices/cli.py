"""`kuaigong device …`: start a station device (kiosk, board, SMS gateway, printer, ID reader).

Each command first makes sure the device is paired with its station, then does its job. The
first time, it finds the station on the LAN (or takes `--station URL`), shows the station's key
fingerprint for staff to compare with the console's devices page, and trades the six-digit
code shown there for a device token. The token, the station's address and its fingerprint are
kept in `--data DIR` (one file per kind, mode 600), so the device pairs once; if the station
moves to a new address, the device finds it again by its id and fingerprint. A kiosk or board
then asks for a one-time link (two minutes) for its browser: the station shows the kiosk and
board pages only in a browser that opened one.

This module talks to the station only over HTTP; it imports nothing from the station.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click
import requests

from devices.discovery import DiscoveryError, FoundStation, find_station, normalize_fingerprint
from devices.kinds import KIND_LABELS, DeviceKind

DEFAULT_DATA = "device-data"
HTTP_TIMEOUT = 10.0
API = "/api/v1"
# Where each kind's runner lives (module, name); loaded only when that kind starts.
RUNNERS: dict[DeviceKind, tuple[str, str]] = {
    DeviceKind.SMS: ("devices.runners.sms", "run_sms_gateway"),
    DeviceKind.PRINTER: ("devices.runners.printer", "PrinterRunner"),
    DeviceKind.IDREADER: ("devices.runners.idreader", "IdReaderRunner"),
}
PAGES = {DeviceKind.KIOSK: "/kiosk/", DeviceKind.BOARD: "/board/"}


class DeviceSetupError(click.ClickException):
    """Something the person setting up the device must fix; Chinese first, English beside."""

    exit_code = 2

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh}\n{message_en}")
        self.message_zh = message_zh
        self.message_en = message_en

    def format_message(self) -> str:
        return self.message


@dataclass
class Pairing:
    """What a paired device keeps (in DIR/device-<kind>.json, mode 600)."""

    kind: str
    name: str
    device_id: str
    token: str
    station_url: str
    station_id: str
    station_name: str
    fingerprint: str


def _state_file(data: str, kind: DeviceKind) -> Path:
    return Path(data) / f"device-{kind.value}.json"


def load_pairing(data: str, kind: DeviceKind) -> Pairing | None:
    """The pairing kept for this kind, or None before the first one."""
    path = _state_file(data, kind)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return Pairing(**{k: str(raw[k]) for k in Pairing.__dataclass_fields__})
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise DeviceSetupError(
            f"配对记录文件 {path} 已损坏，请删除它后重新配对。",
            f"The pairing file {path} is damaged ({exc}); delete it and pair again.",
        ) from None


def save_pairing(data: str, pairing: Pairing) -> Path:
    """Keep the pairing where only this user can read it (the token opens the station's API)."""
    folder = Path(data)
    folder.mkdir(parents=True, exist_ok=True)
    path = _state_file(data, DeviceKind(pairing.kind))
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(pairing), fh, ensure_ascii=False, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def _error_of(response: requests.Response) -> tuple[str, str, str]:
    """(code, Chinese, English) of a station error answer."""
    try:
        error = response.json()["error"]
        return (
            str(error.get("code", "")),
            str(error.get("message", "")),
            str(error.get("message_en", error.get("message", ""))),
        )
    except (ValueError, KeyError, TypeError):
        text = response.text[:200]
        return "", f"驿站返回 HTTP {response.status_code}：{text}", f"HTTP {response.status_code}"


class StationUnreachable(DeviceSetupError):
    """Nothing answered at the station's address (moved, switched off, another network)."""


def _unreachable(url: str, exc: Exception) -> StationUnreachable:
    return StationUnreachable(
        f"连不上驿站 {url}。请确认驿站电脑已开机、驿站程序正在运行、本设备与驿站在同一网络。",
        f"Cannot reach the station at {url} ({exc}).",
    )


def _discover(
    fingerprint: str | None, timeout: float, station_id: str | None = None
) -> FoundStation:
    try:
        return find_station(timeout, station_id=station_id, fingerprint=fingerprint)
    except DiscoveryError as exc:
        raise DeviceSetupError(exc.message_zh, exc.message_en) from None


def _same(found: str, expected: str) -> bool:
    return normalize_fingerprint(found) == normalize_fingerprint(expected)


def _mismatch(found: str, expected: str) -> DeviceSetupError:
    return DeviceSetupError(
        f"驿站的密钥指纹是 {found}，与给定的 {expected} 不一致，未配对。"
        "请确认连的是本驿站，并与控制台“设备”页上的指纹核对。",
        f"The station's key fingerprint is {found}, not {expected}; not paired. "
        "Check the address and the fingerprint on the console's devices page.",
    )


def station_about(station_url: str) -> dict[str, str]:
    """The station's id, name and fingerprint as it answers at this address."""
    url = station_url.rstrip("/")
    try:
        response = requests.get(f"{url}{API}/devices/station", timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        about: dict[str, str] = response.json()["station"]
    except requests.RequestException as exc:
        raise _unreachable(url, exc) from None
    except (ValueError, KeyError, TypeError):
        raise DeviceSetupError(
            f"{url} 上运行的不是驿站程序（或版本太旧），请核对驿站地址。",
            f"{url} does not answer as a Kuaigong station; check the address.",
        ) from None
    return about


def _pair(
    station_url: str, code: str, kind: DeviceKind, name: str, fingerprint: str | None
) -> Pairing:
    url = station_url.rstrip("/")
    try:
        response = requests.post(
            f"{url}{API}/devices/pair",
            json={"code": code, "kind": kind.value, "name": name},
            timeout=HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise _unreachable(url, exc) from None
    if response.status_code != 201:
        _code, zh, en = _error_of(response)
        raise DeviceSetupError(f"配对失败：{zh}", f"Pairing failed: {en}")
    answer = response.json()
    station = answer["station"]
    if fingerprint is not None and not _same(station["fingerprint"], fingerprint):
        # Checked before pairing too; a station that changed its key in between is refused.
        raise _mismatch(station["fingerprint"], fingerprint)
    return Pairing(
        kind=kind.value,
        name=name,
        device_id=str(answer["device"]["id"]),
        token=str(answer["token"]),
        station_url=url,
        station_id=str(station["id"]),
        station_name=str(station["name"]),
        fingerprint=str(station["fingerprint"]),
    )


def _as_device(pairing: Pairing, method: str, path: str) -> requests.Response:
    """Call the station's device API with this device's token; an unreachable station is a
    clear error."""
    try:
        return requests.request(
            method,
            f"{pairing.station_url}{API}{path}",
            headers={"Authorization": f"Bearer {pairing.token}"},
            timeout=HTTP_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise _unreachable(pairing.station_url, exc) from None


def check_token(pairing: Pairing) -> None:
    """Ask the station whether the token still works; raise what to do if it does not."""
    response = _as_device(pairing, "GET", "/devices/me")
    if response.status_code != 200:
        _code, zh, en = _error_of(response)
        raise DeviceSetupError(
            f"{zh}\n（用 --code 加上控制台显示的配对码重新运行本命令即可重新配对。）",
            f"{en} (Run this command again with --code to pair again.)",
        )


def _confirm_fingerprint() -> None:
    if not click.confirm(
        "请与驿站控制台“设备”页上显示的指纹核对。完全一致吗？ "
        "Does it match the one on the console's devices page?"
    ):
        raise DeviceSetupError(
            "指纹不一致，未配对。请确认本设备连在驿站的网络上，或用 --station 指定驿站地址。",
            "The fingerprint does not match; not paired. Use --station to give the address.",
        )


def connect(
    kind: DeviceKind,
    *,
    data: str,
    station: str | None,
    fingerprint: str | None,
    code: str | None,
    name: str | None,
    timeout: float,
    echo: Callable[[str], None] = click.echo,
) -> Pairing:
    """The device's pairing with its station: kept from before, or made now."""
    kept = load_pairing(data, kind)
    if kept is not None and code is None:
        if station is not None:
            kept.station_url = station.rstrip("/")
        try:
            check_token(kept)
        except StationUnreachable:
            if station is not None:
                raise
            # The station may have a new address: look for it by its id and fingerprint.
            found = _discover(kept.fingerprint, timeout, kept.station_id)
            kept.station_url = found.base_url
            check_token(kept)
        save_pairing(data, kept)
        echo(f"已与驿站“{kept.station_name}”配对（{kept.station_url}）")
        return kept

    if station is None:
        echo("正在局域网上查找驿站… / looking for the station on the LAN…")
        found = _discover(fingerprint, timeout)
        station = found.base_url
        echo(f"找到驿站“{found.name}”（{found.station_id}），地址 {station}")
        echo(f"驿站密钥指纹 station key fingerprint: {found.fingerprint}")
        if fingerprint is None:
            _confirm_fingerprint()
        fingerprint = found.fingerprint
    else:
        about = station_about(station)
        if fingerprint is not None and not _same(about["fingerprint"], fingerprint):
            raise _mismatch(about["fingerprint"], fingerprint)
        if fingerprint is None:
            echo(f"驿站“{about['name']}”（{about['id']}），地址 {station}")
            echo(f"驿站密钥指纹 station key fingerprint: {about['fingerprint']}")
            _confirm_fingerprint()
    if code is None:
        code = click.prompt("请输入控制台“设备”页显示的 6 位配对码 / pairing code").strip()
    device_name = name or f"{KIND_LABELS[kind][0]}（{socket.gethostname()}）"
    pairing = _pair(station, code, kind, device_name[:64], fingerprint)
    path = save_pairing(data, pairing)
    echo(f"配对成功：{device_name}，令牌保存在 {path} / paired; the token is kept in {path}")
    return pairing


def _common(command: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--station", default=None, help="The station's URL (found on the LAN if omitted)."
        ),
        click.option("--fingerprint", default=None, help="The station key fingerprint to expect."),
        click.option("--code", default=None, help="The 6-digit pairing code (prompted if needed)."),
        click.option(
            "--data",
            default=DEFAULT_DATA,
            show_default=True,
            envvar="KUAIGONG_DEVICE_DATA_DIR",
            help="Folder keeping this device's token and station address.",
        ),
        click.option("--name", default=None, help="The device's name on the console."),
        click.option(
            "--timeout", default=10.0, show_default=True, help="Seconds to look for the station."
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _connect(kind: DeviceKind, options: dict[str, Any]) -> Pairing:
    return connect(
        kind,
        data=options["data"],
        station=options["station"],
        fingerprint=options["fingerprint"],
        code=options["code"],
        name=options["name"],
        timeout=options["timeout"],
    )


def screen_link(pairing: Pairing) -> str:
    """A one-time link (two minutes) that lets this screen's browser show its page."""
    response = _as_device(pairing, "POST", "/devices/screen-link")
    if response.status_code != 201:
        _code, zh, en = _error_of(response)
        raise DeviceSetupError(f"取不到屏幕链接：{zh}", f"No screen link: {en}")
    try:
        link = str(response.json()["link"])
    except (ValueError, KeyError, TypeError):
        raise DeviceSetupError(
            f"{pairing.station_url} 的回答里没有屏幕链接（驿站程序版本太旧？）。",
            f"{pairing.station_url} answered without a screen link (an older station?).",
        ) from None
    return pairing.station_url + link


def _screen(kind: DeviceKind, options: dict[str, Any], open_browser: bool) -> None:
    pairing = _connect(kind, options)
    url = screen_link(pairing)
    click.echo(f"请用浏览器全屏打开 open full-screen: {url}")
    click.echo(
        f"（此链接只能用一次，2 分钟内有效；打开后本屏幕显示 {pairing.station_url}{PAGES[kind]}）\n"
        f"(the link works once, within 2 minutes; it then shows "
        f"{pairing.station_url}{PAGES[kind]} on this screen)"
    )
    if not open_browser:
        return
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise DeviceSetupError(
            "找不到 chromium 浏览器，请安装后重试，或手动全屏打开上面的地址。",
            "chromium is not installed; install it or open the address above by hand.",
        )
    subprocess.Popen([browser, "--kiosk", "--noerrdialogs", "--disable-infobars", url])


def _runner(kind: DeviceKind) -> Any:
    module_name, name = RUNNERS[kind]
    label_zh, label_en = KIND_LABELS[kind]
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise DeviceSetupError(
            f"本版本还没有{label_zh}的运行程序（{module_name}.{name}），暂时不能使用。",
            f"The {label_en} runner ({module_name}.{name}) is not available yet.",
        ) from None


def _until_stopped(runner: Any) -> None:
    """Run a runner's own thread until Ctrl-C or SIGTERM, then stop it cleanly."""
    runner.start()
    try:
        threading.Event().wait()
    finally:
        runner.stop()


def _start_runner(kind: DeviceKind, options: dict[str, Any], launch: Callable[..., None]) -> None:
    runner = _runner(kind)  # before pairing: no code is spent on a kind that cannot run
    pairing = _connect(kind, options)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    main_thread = threading.current_thread() is threading.main_thread()
    if main_thread:  # SIGTERM unwinds like Ctrl-C, so the runner stops cleanly
        before = signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        launch(runner, pairing.station_url, pairing.token)
    except KeyboardInterrupt:
        click.echo("已停止 / stopped")
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, before)


@click.group()
def device() -> None:
    """Start a station device (kiosk, board, SMS gateway, printer, ID card reader)."""


@device.command("kiosk")
@_common
@click.option("--open", "open_browser", is_flag=True, help="Start chromium full-screen on it.")
def kiosk_command(open_browser: bool, **options: Any) -> None:
    """The self-service kiosk: pair, then open the kiosk page full-screen (one-time link)."""
    _screen(DeviceKind.KIOSK, options, open_browser)


@device.command("board")
@_common
@click.option("--open", "open_browser", is_flag=True, help="Start chromium full-screen on it.")
def board_command(open_browser: bool, **options: Any) -> None:
    """The display board: pair, then open the board page full-screen (one-time link)."""
    _screen(DeviceKind.BOARD, options, open_browser)


@device.command("sms")
@_common
@click.option(
    "--port",
    default=None,
    envvar="KUAIGONG_MODEM_PORT",
    help="The GSM modem's serial port, e.g. /dev/ttyUSB0.",
)
@click.option("--interval", default=5.0, show_default=True, help="Seconds between two texts.")
def sms_command(port: str | None, interval: float, **options: Any) -> None:
    """The SMS gateway: pair, then send the station's outbox and deliver replies."""

    def launch(run_sms_gateway: Any, url: str, token: str) -> None:
        run_sms_gateway(url, token, port, interval=interval)

    _start_runner(DeviceKind.SMS, options, launch)


@device.command("printer")
@_common
@click.option(
    "--printer",
    "printer_url",
    required=True,
    envvar="KUAIGONG_PRINTER",
    help="The receipt printer: tcp://host:9100, serial:///dev/ttyUSB0, a device file, dummy:.",
)
def printer_command(printer_url: str, **options: Any) -> None:
    """The receipt printer: pair, then print the station's job slips."""

    def launch(printer_runner: Any, url: str, token: str) -> None:
        from devices.runners.station_api import StationApi

        _until_stopped(printer_runner(StationApi(url, token), printer_url))

    _start_runner(DeviceKind.PRINTER, options, launch)


@device.command("idreader")
@_common
@click.option(
    "--port",
    required=True,
    envvar="KUAIGONG_IDREADER_PORT",
    help="The ID card reader's serial port, e.g. /dev/ttyUSB1.",
)
def idreader_command(port: str, **options: Any) -> None:
    """The ID card reader: pair, then pass card reads to the station."""

    def launch(idreader_runner: Any, url: str, token: str) -> None:
        from devices.idcard import IdCardReader
        from devices.runners.station_api import StationApi

        with IdCardReader(port) as reader:
            _until_stopped(idreader_runner(StationApi(url, token), reader))

    _start_runner(DeviceKind.IDREADER, options, launch)


if __name__ == "__main__":  # pragma: no cover - `python -m devices.cli`
    device(prog_name="kuaigong device")
