"""The station's receipt printer: a queue, a worker thread and a status a console can show.

`SlipPrinter` owns one python-escpos printer chosen by a URL-ish setting:

    tcp://192.168.1.50:9100      network printer (raw port 9100)
    serial:///dev/ttyUSB0        serial printer; ?baudrate=19200 (default 9600)
    file:///dev/usb/lp0          USB printer through the kernel's usblp device node
    dummy:                       keeps the bytes in memory (demo and tests)

Options for every kind: ?paper=58|80, ?qr=native|raster, ?status=on|off (DLE EOT status
queries; on by default where the transport can read: tcp and serial).

`submit` only renders the slip and queues it, so a caller (a web request at the counter) never
waits on the printer. The worker connects for each slip and disconnects afterwards (network
printers serve one connection at a time; the staff PC must not hold the port). A printer that is
missing, offline, out of paper or jammed never raises into the caller: the job waits and is
retried until `give_up_after` seconds, then fails, and `on_outcome` hears either way.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import serial
from escpos.exceptions import DeviceNotFoundError
from escpos.printer import Dummy, File, Network, Serial

from devices.slips import PAPER_58MM, PAPER_80MM, JobSlip, Paper, QrMode, render_slip

log = logging.getLogger(__name__)

State = Literal["unknown", "ready", "offline", "error"]

DLE_EOT = b"\x10\x04"
# DLE EOT n answers: one byte, bits 1 and 4 always set, bits 0 and 7 always clear.
_ANSWER_MASK, _ANSWER_FIXED = 0x93, 0x12


class PrinterConfigError(ValueError):
    """The printer setting cannot be understood; raised when the SlipPrinter is built."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class PrinterStatus:
    """What the console shows.

    `message_*` is the problem right now (blank when ready); `last_error_*` is the most recent
    problem even after it cleared, so staff can see why slips came out late.
    """

    state: State
    message_zh: str
    message_en: str
    waiting: int
    paper_low: bool = False
    last_error_zh: str = ""
    last_error_en: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "message": self.message_zh,
            "message_en": self.message_en,
            "waiting": self.waiting,
            "paper_low": self.paper_low,
            "last_error": self.last_error_zh,
            "last_error_en": self.last_error_en,
        }


@dataclass(frozen=True)
class PrintOutcome:
    """How one submitted slip ended: printed, or given up with a reason."""

    job_id: int
    printed: bool
    reason_zh: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class PrinterSetting:
    """A parsed printer URL."""

    kind: Literal["tcp", "serial", "file", "dummy"]
    target: str  # host, device path, or "" for dummy
    port: int = 9100
    baudrate: int = 9600
    paper: Paper = PAPER_58MM
    qr_mode: QrMode = "native"
    query_status: bool = False


def parse_printer_url(url: str) -> PrinterSetting:
    """Read a setting such as `tcp://192.168.1.50:9100` or `serial:///dev/ttyUSB0?baudrate=19200`."""
    parts = urlsplit(url.strip())
    kind = parts.scheme
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    known = {"paper", "qr", "status"} | ({"baudrate"} if kind == "serial" else set())
    unknown = sorted(set(options) - known)
    if unknown:
        raise PrinterConfigError(
            f"打印机设置里有不认识的选项：{', '.join(unknown)}（{url}）",
            f"unknown printer option(s) {', '.join(unknown)} in {url}",
        )
    paper = {"58": PAPER_58MM, "80": PAPER_80MM}.get(options.get("paper", "58"))
    if paper is None:
        raise PrinterConfigError(
            f"纸宽只能是 58 或 80：{url}", f"paper must be 58 or 80 (mm): {url}"
        )
    qr_mode = options.get("qr", "native")
    if qr_mode not in ("native", "raster"):
        raise PrinterConfigError(
            f"二维码方式只能是 native 或 raster：{url}", f"qr must be native or raster: {url}"
        )
    status_option = options.get("status", "on" if kind in ("tcp", "serial") else "off")
    if status_option not in ("on", "off"):
        raise PrinterConfigError(
            f"status 只能是 on 或 off：{url}", f"status must be on or off: {url}"
        )
    common: dict[str, Any] = {
        "paper": paper,
        "qr_mode": qr_mode,
        "query_status": status_option == "on",
    }
    if kind == "tcp":
        try:
            port = parts.port or 9100
        except ValueError:
            port = 0
        if not parts.hostname or not 0 < port < 65536:
            raise PrinterConfigError(
                f"网络打印机要写成 tcp://地址:端口：{url}", f"expected tcp://host:port, got {url}"
            )
        return PrinterSetting("tcp", parts.hostname, port=port, **common)
    if kind in ("serial", "file"):
        if parts.netloc or not parts.path.startswith("/"):
            raise PrinterConfigError(
                f"设备路径要写成 {kind}:///dev/...（三个斜杠）：{url}",
                f"expected {kind}:///dev/... (three slashes), got {url}",
            )
        if status_option == "on" and kind == "file":
            raise PrinterConfigError(
                f"设备文件读不回打印机状态，不能开 status：{url}",
                f"a device file cannot report printer status: {url}",
            )
        baudrate = options.get("baudrate", "9600")
        if not baudrate.isdigit():
            raise PrinterConfigError(
                f"波特率必须是数字：{url}", f"baudrate must be a number: {url}"
            )
        device_kind: Literal["serial", "file"] = "serial" if kind == "serial" else "file"
        return PrinterSetting(device_kind, parts.path, baudrate=int(baudrate), **common)
    if kind == "dummy":
        return PrinterSetting("dummy", "", **(common | {"query_status": False}))
    raise PrinterConfigError(
        f"不认识的打印机设置：{url}（可用 tcp://、serial://、file://、dummy:）",
        f"unknown printer setting {url} (use tcp://, serial://, file:// or dummy:)",
    )


class _Problem(Exception):
    """Why a slip could not go out this time; `wrote` says whether bytes may have printed."""

    def __init__(self, state: State, message_zh: str, message_en: str, wrote: bool = False):
        super().__init__(message_en)
        self.state = state
        self.message_zh = message_zh
        self.message_en = message_en
        self.wrote = wrote


@dataclass
class _Job:
    job_id: int
    data: bytes
    submitted_at: float
    write_failures: int = 0


class SlipPrinter:
    """Prints job slips from a queue in its own thread; see the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        on_outcome: Callable[[PrintOutcome], None] | None = None,
        retry_interval: float = 2.0,
        give_up_after: float = 300.0,
        probe_interval: float | None = 30.0,
        connect_timeout: float = 3.0,
        write_timeout: float = 10.0,
        status_timeout: float = 0.5,
        max_write_failures: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.setting = parse_printer_url(url)
        self.escpos = _build_escpos(self.setting, connect_timeout, status_timeout)
        self._on_outcome = on_outcome
        self._retry_interval = retry_interval
        self._give_up_after = give_up_after
        self._probe_interval = probe_interval
        self._write_timeout = write_timeout
        self._status_timeout = status_timeout
        self._max_write_failures = max_write_failures
        self._clock = clock

        self._cond = threading.Condition()
        self._jobs: deque[_Job] = deque()
        self._next_id = 1
        self._state: State = "ready" if self.setting.kind == "dummy" else "unknown"
        self._message = ("", "")
        self._last_error = ("", "")
        self._paper_low = False
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        # Whether the printer answered DLE EOT last time (None: not asked yet); for the log.
        self._status_answers: bool | None = None

    # -- the caller's side: never blocks on the printer --------------------------------------

    def start(self) -> None:
        """Start the worker thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="slip-printer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the worker; slips still waiting are reported as not printed."""
        self._stopping.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._fail_all("打印服务已停止，派工单未打印", "the printer service stopped; not printed")

    def __enter__(self) -> SlipPrinter:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def submit(self, slip: JobSlip) -> int:
        """Queue `slip` and return its job id at once. A bad slip raises SlipError here."""
        data = render_slip(slip, self.setting.paper, self.setting.qr_mode)
        with self._cond:
            job = _Job(self._next_id, data, self._clock())
            self._next_id += 1
            if self._stopping.is_set():
                stopped = True
            else:
                stopped = False
                self._jobs.append(job)
                self._cond.notify_all()
        if stopped:
            self._report(
                PrintOutcome(job.job_id, False, "打印服务已停止", "the printer service is stopped")
            )
        return job.job_id

    def status(self) -> PrinterStatus:
        """The printer's state, the last problem in Chinese and English, and the queue length."""
        with self._cond:
            return PrinterStatus(
                state=self._state,
                message_zh=self._message[0],
                message_en=self._message[1],
                waiting=len(self._jobs),
                paper_low=self._paper_low,
                last_error_zh=self._last_error[0],
                last_error_en=self._last_error[1],
            )

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        if self._probe_interval is not None:
            self._probe()
        while not self._stopping.is_set():
            with self._cond:
                if not self._jobs:
                    self._cond.wait(timeout=self._probe_interval)
                job = self._jobs[0] if self._jobs else None
            if self._stopping.is_set():
                break
            if job is None:
                if self._probe_interval is not None:
                    self._probe()
                continue
            self._attempt(job)

    def _attempt(self, job: _Job) -> None:
        waited = self._clock() - job.submitted_at
        if waited > self._give_up_after:
            zh, en = self._message if self._state != "ready" else ("", "")
            self._finish(
                job,
                PrintOutcome(
                    job.job_id,
                    False,
                    f"等了 {int(waited)} 秒仍未打印：{zh or '打印机无响应'}",
                    f"not printed after waiting {int(waited)} s: {en or 'no response'}",
                ),
            )
            return
        try:
            self._send(job.data)
        except _Problem as problem:
            self._set_state(problem.state, problem.message_zh, problem.message_en)
            if problem.wrote:
                job.write_failures += 1
                if job.write_failures >= self._max_write_failures:
                    self._finish(
                        job,
                        PrintOutcome(job.job_id, False, problem.message_zh, problem.message_en),
                    )
                    return
            self._stopping.wait(self._retry_interval)
            return
        self._set_state("ready", "", "")
        self._finish(job, PrintOutcome(job.job_id, True))

    def _probe(self) -> None:
        """Connect, ask for status if the printer answers, disconnect: keeps `status` fresh."""
        try:
            self._send(b"")
        except _Problem as problem:
            self._set_state(problem.state, problem.message_zh, problem.message_en)
        else:
            self._set_state("ready", "", "")

    def _send(self, data: bytes) -> None:
        """Deliver `data` (empty: only connect and ask), raising _Problem for anything wrong."""
        try:
            self._deliver(data)
        except _Problem:
            raise
        except Exception as error:
            # A failure nobody foresaw must not kill the worker and strand the queue.
            log.exception("printing to %s failed unexpectedly", self._where())
            raise _Problem(
                "error",
                f"打印时出现意外错误（{self._where()}）",
                f"unexpected error printing to {self._where()}: {_short(error)}",
                wrote=bool(data),
            ) from error

    def _deliver(self, data: bytes) -> None:
        printer = self.escpos
        where = self._where()
        try:
            if self.setting.kind == "file" and not os.path.exists(self.setting.target):
                # python-escpos opens the path for writing, which would create a plain file
                # where the unplugged printer's device node was and swallow every slip.
                raise FileNotFoundError(self.setting.target)
            printer.open()
        except (DeviceNotFoundError, OSError) as error:
            raise _Problem(
                "offline",
                f"连不上打印机（{where}），请检查电源和连线",
                f"cannot reach the printer at {where}: {_short(error)}",
            ) from error
        try:
            self._set_write_timeout()
            if self.setting.query_status:
                self._check_status()
            if data:
                try:
                    printer._raw(data)
                    if self.setting.kind == "file":
                        printer.flush()
                except OSError as error:
                    raise _Problem(
                        "error",
                        f"向打印机发送派工单失败（{where}）",
                        f"sending the slip to the printer at {where} failed: {_short(error)}",
                        wrote=True,
                    ) from error
        finally:
            self._close()

    def _set_write_timeout(self) -> None:
        device = self.escpos._device
        if isinstance(device, socket.socket):
            device.settimeout(self._write_timeout)
        elif isinstance(device, serial.Serial):
            # A serial printer out of paper holds its busy line; without a write timeout the
            # worker would wait forever.
            device.write_timeout = self._write_timeout

    def _check_status(self) -> None:
        """DLE EOT 2 (why offline), 4 (paper roll), 3 (which error): raise if it cannot print."""
        offline = self._ask_status(2)
        if offline is None:
            # Some printers never answer (or not on this port); print anyway, as we would
            # with status=off. Asking again next time costs only `status_timeout`.
            if self._status_answers is not False:
                log.info("printer at %s does not answer DLE EOT; printing blind", self._where())
            self._status_answers = False
            return
        self._status_answers = True
        paper = self._ask_status(4) or _ANSWER_FIXED
        with self._cond:
            self._paper_low = bool(paper & 0x0C)
        if offline & 0x04:
            raise _Problem("error", "打印机盖子开着，请合上", "the printer cover is open")
        if offline & 0x20 or paper & 0x60:
            raise _Problem("error", "打印机缺纸，请装纸", "the printer is out of paper")
        if offline & 0x40:
            error = self._ask_status(3) or _ANSWER_FIXED
            if error & 0x08:
                raise _Problem(
                    "error",
                    "打印机切刀卡住或卡纸，请清理后重新开机",
                    "the auto-cutter is jammed; clear it and restart the printer",
                )
            if error & 0x40:
                raise _Problem(
                    "error",
                    "打印头过热或电压不稳，稍后自动恢复",
                    "the print head is overheated or the voltage is low; it recovers by itself",
                )
            raise _Problem(
                "error",
                "打印机报告故障，请关机重启",
                "the printer reports an error; restart it",
            )

    def _ask_status(self, n: int) -> int | None:
        """Send DLE EOT n and read the one-byte answer, or None if none comes in time."""
        self.escpos._raw(DLE_EOT + bytes([n]))
        device = self.escpos._device
        answer = b""
        try:
            if isinstance(device, socket.socket):
                ready, _, _ = select.select([device], [], [], self._status_timeout)
                answer = device.recv(1) if ready else b""
            elif isinstance(device, serial.Serial):
                device.timeout = self._status_timeout
                answer = device.read(1)
        except OSError as error:
            raise _Problem(
                "offline",
                f"打印机连接中断（{self._where()}）",
                f"the connection to the printer at {self._where()} broke: {_short(error)}",
            ) from error
        if len(answer) != 1 or answer[0] & _ANSWER_MASK != _ANSWER_FIXED:
            return None
        return answer[0]

    def _close(self) -> None:
        device = self.escpos._device
        try:
            if isinstance(device, socket.socket):
                # Unread bytes in our receive buffer make close() send a reset, which can throw
                # away the end of a slip the printer has not taken in yet.
                while select.select([device], [], [], 0)[0] and device.recv(256):
                    pass
            self.escpos.close()
        except OSError as error:
            log.warning("closing the printer at %s: %s", self._where(), error)
            self.escpos._device = False

    def _where(self) -> str:
        s = self.setting
        return f"{s.target}:{s.port}" if s.kind == "tcp" else (s.target or s.kind)

    def _set_state(self, state: State, message_zh: str, message_en: str) -> None:
        with self._cond:
            if state != self._state or (message_zh, message_en) != self._message:
                log.info("printer %s: %s %s", self._where(), state, message_en)
            self._state = state
            self._message = (message_zh, message_en)
            if message_zh:
                self._last_error = (message_zh, message_en)

    def _finish(self, job: _Job, outcome: PrintOutcome) -> None:
        with self._cond:
            queued = bool(self._jobs) and self._jobs[0] is job
            if queued:
                self._jobs.popleft()
        # A job `stop` already reported as not printed is not reported twice.
        if queued:
            self._report(outcome)

    def _fail_all(self, reason_zh: str, reason_en: str) -> None:
        with self._cond:
            left = list(self._jobs)
            self._jobs.clear()
        for job in left:
            self._report(PrintOutcome(job.job_id, False, reason_zh, reason_en))

    def _report(self, outcome: PrintOutcome) -> None:
        if not outcome.printed:
            log.warning("slip %d not printed: %s", outcome.job_id, outcome.reason_en)
        if self._on_outcome is None:
            return
        try:
            self._on_outcome(outcome)
        except Exception:
            # The caller's bookkeeping failing must not stop the slips behind this one.
            log.exception("print outcome callback failed for slip %d", outcome.job_id)


def _build_escpos(setting: PrinterSetting, connect_timeout: float, read_timeout: float) -> Any:
    if setting.kind == "tcp":
        return Network(setting.target, setting.port, timeout=connect_timeout)
    if setting.kind == "serial":
        return Serial(setting.target, baudrate=setting.baudrate, timeout=read_timeout)
    if setting.kind == "file":
        return File(setting.target)
    return Dummy()


def _short(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
