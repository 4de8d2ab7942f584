"""A simulated GSM modem answering the AT dialogue on a real pseudo-terminal.

The driver opens `modem.path` with pyserial like any serial port. That path is a symlink in a
folder we own, so unplugging (closing the pty) and plugging back (a new pty) leave the driver
the same path to reopen, as udev does for a real USB modem. A thread reads commands off the
pty's master side and answers as a modem in PDU mode would; it decodes every SMS the driver
sends and keeps them in `sent`. Tests and the demo inject incoming messages with `deliver()`,
make the next send fail, silence the modem or unplug it.

    python -m devices.simulated.modem    # prints the port; type "<number> <text>" to reply
"""

from __future__ import annotations

import os
import select
import sys
import tempfile
import threading
import tty
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from devices.modem.errors import MalformedPdu
from devices.modem.pdu import Reassembler, decode, encode_deliver

CHINA = timezone(timedelta(hours=8))
_CAPACITY = 50  # messages the simulated SIM holds


@dataclass(frozen=True)
class SentSms:
    """A whole message the driver sent, parts joined."""

    number: str
    text: str
    sent_at: datetime
    references: tuple[int, ...]


@dataclass
class _Stored:
    status: int  # 0 received unread, 1 received read
    pdu: str


class SimulatedModem:
    """A GSM modem on a pty; `path` stays the same across unplug/replug."""

    def __init__(
        self,
        directory: str | None = None,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(CHINA),
        on_sent: Callable[[SentSms], None] | None = None,
    ) -> None:
        self._directory = directory or tempfile.mkdtemp(prefix="kuaigong-modem-")
        self.path = os.path.join(self._directory, "ttyGSM0")
        self._clock = clock
        self._on_sent = on_sent
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._storage: dict[int, _Stored] = {}
        self._sent: list[SentSms] = []
        self._commands: list[str] = []
        self._parts = Reassembler()
        self._part_references: dict[tuple[str, int], list[int]] = {}
        self._reference = 0
        self._incoming_reference = 0
        self._fail_next: int | None = None
        self.answering = True  # False: read and ignore everything, like a hung modem
        self.registered = True
        self.sim_ready = True
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._reset_session()

    def __enter__(self) -> SimulatedModem:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def plugged(self) -> bool:
        return self._master is not None

    @property
    def sent(self) -> list[SentSms]:
        with self._lock:
            return list(self._sent)

    @property
    def commands(self) -> list[str]:
        """Every command line received so far, in order (PDUs not included)."""
        with self._lock:
            return list(self._commands)

    @property
    def stored(self) -> list[int]:
        """Storage indexes holding a message, in order."""
        with self._lock:
            return sorted(self._storage)

    def start(self) -> None:
        """Plug the modem in: a fresh pty behind `path`, served by a thread."""
        self.replug()

    def stop(self) -> None:
        """Unplug and remove the folder if we made it."""
        self.unplug()
        try:
            os.rmdir(self._directory)
        except OSError:
            pass

    def unplug(self) -> None:
        """The USB cable is pulled: the pty closes and `path` disappears."""
        with self._lock:
            if self._master is None:
                return
            self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass

    def replug(self) -> None:
        """The cable goes back in: a new pty, `path` points at it, the modem starts afresh."""
        with self._lock:
            if self._master is not None:
                return
            master, slave = os.openpty()
            tty.setraw(slave)
            temporary = self.path + ".new"
            os.symlink(os.ttyname(slave), temporary)
            os.replace(temporary, self.path)  # the path appears all at once
            self._master, self._slave = master, slave
            self._reset_session()
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._serve, args=(master, self._stop), name="sim-modem", daemon=True
            )
            self._thread.start()

    def fail_next_send(self, cms_error: int = 500) -> None:
        """Answer the next `AT+CMGS` PDU with `+CMS ERROR: <cms_error>`."""
        with self._lock:
            self._fail_next = cms_error

    def deliver(self, number: str, text: str) -> list[int]:
        """An SMS from `number` arrives: stored (in parts if long), then `+CMTI` for each part."""
        with self._lock:
            self._incoming_reference = (self._incoming_reference + 1) % 256
            pdus = encode_deliver(number, text, self._clock(), self._incoming_reference)
            indexes = []
            for pdu in pdus:
                free = [i for i in range(1, _CAPACITY + 1) if i not in self._storage]
                if not free:
                    raise RuntimeError("simulated SIM storage is full")
                self._storage[free[0]] = _Stored(0, pdu)
                indexes.append(free[0])
            if self.plugged and self.answering and self._indications:
                for index in indexes:
                    self._write(f'\r\n+CMTI: "SM",{index}\r\n')
            return indexes

    def wait_for_sent(self, count: int, timeout: float) -> list[SentSms]:
        """The sent messages once there are at least `count` (fewer after `timeout` seconds)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._sent) >= count, timeout)
            return list(self._sent)

    def wait_until_stored(self, count: int, timeout: float) -> list[int]:
        """The storage indexes once at most `count` messages remain (after the driver deletes)."""
        with self._changed:
            self._changed.wait_for(lambda: len(self._storage) <= count, timeout)
            return sorted(self._storage)

    def _reset_session(self) -> None:
        self._echo = True
        self._indications = False
        self._pdu_mode = False
        self._buffer = ""
        self._awaiting_pdu: int | None = None

    def _serve(self, master: int, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                ready, _, _ = select.select([master], [], [], 0.05)
                if not ready:
                    continue
                data = os.read(master, 4096)
            except OSError:
                return
            with self._lock:
                if not self.answering:  # hung: input is lost, settings are kept
                    self._buffer, self._awaiting_pdu = "", None
                    continue
                self._buffer += data.decode("latin-1")
                self._process()

    def _process(self) -> None:
        while True:
            if self._awaiting_pdu is not None:
                end = min(
                    (i for i in (self._buffer.find("\x1a"), self._buffer.find("\x1b")) if i >= 0),
                    default=-1,
                )
                if end < 0:
                    return
                pdu, mark, self._buffer = (
                    self._buffer[:end],
                    self._buffer[end],
                    self._buffer[end + 1 :],
                )
                length, self._awaiting_pdu = self._awaiting_pdu, None
                if mark == "\x1a":
                    self._take_pdu(pdu.strip(), length)
                continue
            end = self._buffer.find("\r")
            if end < 0:
                return
            line, self._buffer = self._buffer[:end].strip(), self._buffer[end + 1 :]
            if not line:
                continue
            if self._echo:
                self._write(line + "\r")
            self._command(line)

    def _command(self, line: str) -> None:
        self._commands.append(line)
        upper = line.upper()
        name, _, argument = upper.partition("=")
        if upper in ("AT", "ATZ"):
            self._reply()
        elif upper in ("ATE0", "ATE1"):
            self._echo = upper == "ATE1"
            self._reply()
        elif name in ("AT+CMEE", "AT+CSCS", "AT+CSMP"):
            self._reply()
        elif name == "AT+CMGF":
            self._pdu_mode = argument.strip() == "0"
            self._reply()
        elif name == "AT+CNMI":
            fields = argument.split(",")
            self._indications = len(fields) > 1 and fields[1].strip() in ("1", "2")
            self._reply()
        elif name.startswith("AT+CPMS"):
            used = len(self._storage)
            self._reply(f"+CPMS: {used},{_CAPACITY},{used},{_CAPACITY},{used},{_CAPACITY}")
        elif upper == "AT+CSQ":
            self._reply("+CSQ: 21,99")
        elif upper == "AT+CREG?":
            self._reply(f"+CREG: 0,{1 if self.registered else 2}")
        elif upper == "AT+CPIN?":
            self._reply("+CPIN: READY") if self.sim_ready else self._final("+CME ERROR: 10")
        elif name == "AT+CMGS" and self._pdu_mode and argument.strip().isdigit():
            self._awaiting_pdu = int(argument)
            self._write("\r\n> ")
        elif name == "AT+CMGR" and argument.strip().isdigit():
            stored = self._storage.get(int(argument))
            if stored is None:
                self._final("+CMS ERROR: 321")
                return
            self._reply(f"+CMGR: {stored.status},,{_tpdu_length(stored.pdu)}", stored.pdu)
            stored.status = 1
        elif name == "AT+CMGD":
            target, _, flag = argument.partition(",")
            if flag.strip() == "4":
                self._storage.clear()
            elif target.strip().isdigit():
                self._storage.pop(int(target), None)
            self._changed.notify_all()
            self._reply()
        elif name == "AT+CMGL":
            wanted = argument.strip()
            lines = []
            for index in sorted(self._storage):
                stored = self._storage[index]
                if wanted == "4" or wanted == str(stored.status):
                    lines.append(f"+CMGL: {index},{stored.status},,{_tpdu_length(stored.pdu)}")
                    lines.append(stored.pdu)
                    stored.status = 1
            self._reply(*lines)
        else:
            self._final("ERROR")

    def _take_pdu(self, pdu: str, length: int) -> None:
        if self._fail_next is not None:
            code, self._fail_next = self._fail_next, None
            self._final(f"+CMS ERROR: {code}")
            return
        try:
            if _tpdu_length(pdu) != length:
                raise MalformedPdu(pdu, f"AT+CMGS={length} but the TPDU is {_tpdu_length(pdu)}")
            part = decode(pdu)
        except (MalformedPdu, ValueError):
            self._final("+CMS ERROR: 304")
            return
        self._reference = (self._reference + 1) % 256
        key = (part.number, part.concat.reference if part.concat else -1)
        self._part_references.setdefault(key, []).append(self._reference)
        whole = self._parts.add(part)
        self._reply(f"+CMGS: {self._reference}")
        if whole is not None:
            references = tuple(self._part_references.pop(key))
            sms = SentSms(whole.number, whole.text, self._clock(), references)
            self._sent.append(sms)
            self._changed.notify_all()
            if self._on_sent is not None:
                self._on_sent(sms)

    def _reply(self, *lines: str) -> None:
        self._write("".join(f"\r\n{line}\r\n" for line in lines) + "\r\nOK\r\n")

    def _final(self, line: str) -> None:
        self._write(f"\r\n{line}\r\n")

    def _write(self, text: str) -> None:
        if self._master is None:
            return
        try:
            os.write(self._master, text.encode("latin-1"))
        except OSError:
            pass


def _tpdu_length(pdu: str) -> int:
    """Octets after the SMSC field, as `AT+CMGS`/`+CMGR` count them."""
    octets = bytes.fromhex(pdu)
    return len(octets) - 1 - octets[0] if octets else 0


def main() -> None:
    """A modem console for the demo: shows each SMS sent, lets you type replies."""

    def show(sms: SentSms) -> None:
        print(f"\n[{sms.sent_at:%H:%M:%S}] → {sms.number}: {sms.text}", flush=True)

    with SimulatedModem(on_sent=show) as modem:
        print(f"模拟短信模块 / simulated modem: {modem.path}")
        print("输入 <号码> <内容> 回复短信；:unplug / :replug / :fail / :quit", flush=True)
        for line in sys.stdin:
            line = line.strip()
            if line in (":quit", ":q"):
                break
            if line == ":unplug":
                modem.unplug()
            elif line == ":replug":
                modem.replug()
            elif line == ":fail":
                modem.fail_next_send()
            elif " " in line:
                number, text = line.split(" ", 1)
                modem.deliver(number, text)
                print(f"← {number}: {text}", flush=True)
            elif line:
                print("格式：<号码> <内容>  (format: <number> <text>)", flush=True)


if __name__ == "__main__":
    main()
