"""The serial port under the modem driver: one reader thread, one command at a time.

The reader thread splits what the modem says into replies to the command in flight and lines
the modem sends on its own (`+CMTI`), which go to a callback. When the port disappears (USB
unplugged) the reader reports it once through `on_lost` and stops; the driver then opens a
new link when the port is back. Every wait has a timeout, so a hung modem costs one error.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable

import serial

from devices.modem import at
from devices.modem.errors import ModemCommandError, ModemDisconnected, ModemTimeout

log = logging.getLogger(__name__)

_LINE_BREAK = re.compile(r"[\r\n]+")


class SerialLink:
    """One open serial port to the modem."""

    def __init__(
        self,
        port: str,
        baudrate: int,
        on_unsolicited: Callable[[str], None],
        on_lost: Callable[[str], None],
        *,
        rtscts: bool = False,
    ) -> None:
        self.port = port
        self._baudrate = baudrate
        self._rtscts = rtscts
        self._on_unsolicited = on_unsolicited
        self._on_lost = on_lost
        self._serial: serial.Serial | None = None
        self._reader: threading.Thread | None = None
        self._closing = threading.Event()
        self._command_lock = threading.Lock()
        self._cond = threading.Condition()
        self._waiting = False
        self._reply: list[str] = []
        self._final: str | None = None
        self._prompted = False
        self._lost: str | None = None

    @property
    def alive(self) -> bool:
        return self._serial is not None and self._lost is None and not self._closing.is_set()

    def open(self) -> None:
        """Open the port and start reading; ModemDisconnected when it is not there."""
        try:
            self._serial = serial.Serial(
                port=self.port, baudrate=self._baudrate, timeout=0.1, rtscts=self._rtscts
            )
        except (serial.SerialException, OSError) as exc:
            raise ModemDisconnected(self.port, str(exc)) from exc
        self._reader = threading.Thread(
            target=self._read_loop, name=f"modem-reader {self.port}", daemon=True
        )
        self._reader.start()

    def close(self) -> None:
        """Stop the reader and close the port (quietly if it is already gone)."""
        self._closing.set()
        if self._reader is not None and self._reader is not threading.current_thread():
            self._reader.join(timeout=2)
        if self._serial is not None:
            try:
                self._serial.close()
            except (serial.SerialException, OSError):
                pass
        self._mark_lost("closed")

    def command(self, command: str, timeout: float) -> list[str]:
        """Send one AT command; the reply lines before OK, or raise for ERROR / no reply."""
        with self._command_lock:
            self._begin()
            self._write(command + "\r")
            self._wait(lambda: self._final is not None, command, timeout)
            return self._finish(command)

    def send_pdu(self, command: str, pdu: str, timeout: float, send_timeout: float) -> list[str]:
        """`AT+CMGS=<n>`, wait for the `>` prompt, then the PDU and Ctrl-Z; the reply lines."""
        with self._command_lock:
            self._begin()
            self._write(command + "\r")
            try:
                self._wait(lambda: self._prompted or self._final is not None, command, timeout)
            except ModemTimeout:
                self._write_quietly(at.ESC)  # in case the prompt comes late: drop the message
                raise
            if self._final is not None:  # refused before the prompt (e.g. +CMS ERROR: 330)
                return self._finish(command)
            self._write(pdu + at.CTRL_Z)
            try:
                self._wait(lambda: self._final is not None, command, send_timeout)
            except ModemTimeout:
                self._write_quietly(at.ESC)
                raise
            return self._finish(command)

    def _begin(self) -> None:
        with self._cond:
            if self._lost is not None or self._serial is None:
                raise ModemDisconnected(self.port, self._lost or "not open")
            self._reply, self._final, self._prompted, self._waiting = [], None, False, True

    def _wait(self, done: Callable[[], bool], command: str, timeout: float) -> None:
        with self._cond:
            finished = self._cond.wait_for(lambda: done() or self._lost is not None, timeout)
            if self._lost is not None:
                self._waiting = False
                raise ModemDisconnected(self.port, self._lost)
            if not finished:
                self._waiting = False
                raise ModemTimeout(command, timeout)

    def _finish(self, command: str) -> list[str]:
        with self._cond:
            self._waiting = False
            final, reply = self._final or "", list(self._reply)
        failed, code = at.error_code(final)
        if failed:
            raise ModemCommandError(command, final, code)
        return reply

    def _write(self, text: str) -> None:
        assert self._serial is not None
        try:
            self._serial.write(text.encode("ascii"))
        except (serial.SerialException, OSError, TypeError) as exc:
            # TypeError: pyserial writing to a port another thread is closing
            self._mark_lost(str(exc))
            raise ModemDisconnected(self.port, str(exc)) from exc

    def _write_quietly(self, text: str) -> None:
        try:
            self._write(text)
        except ModemDisconnected:
            pass

    def _read_loop(self) -> None:
        assert self._serial is not None
        pending = ""
        while not self._closing.is_set():
            try:
                data = self._serial.read(max(1, self._serial.in_waiting))
            except (serial.SerialException, OSError, TypeError) as exc:
                # TypeError: pyserial reading a port another thread just closed
                if not self._closing.is_set():
                    self._mark_lost(str(exc))
                return
            if not data:
                continue
            pieces = _LINE_BREAK.split(pending + data.decode("latin-1"))
            pending = pieces.pop()[-256:]  # an unfinished line; line noise must not pile up
            for line in pieces:
                if line.strip():
                    self._take_line(line.strip())
            if pending.strip() == ">":
                with self._cond:
                    if self._waiting:
                        self._prompted = True
                        pending = ""
                        self._cond.notify_all()

    def _take_line(self, line: str) -> None:
        if at.is_unsolicited(line):
            try:
                self._on_unsolicited(line)
            except Exception:  # a handler bug must not stop the reader
                log.exception("handling %r", line)
            return
        with self._cond:
            if not self._waiting or self._final is not None:
                log.debug("modem line with no command waiting: %r", line)
                return
            if line.startswith("AT"):
                return  # our own command echoed back before ATE0 takes effect
            if at.is_final(line):
                self._final = line
                self._cond.notify_all()
            else:
                self._reply.append(line)

    def _mark_lost(self, reason: str) -> None:
        with self._cond:
            if self._lost is not None:
                return
            self._lost = reason
            self._cond.notify_all()
        if not self._closing.is_set():
            log.warning("modem on %s lost: %s", self.port, reason)
            self._on_lost(reason)
