"""The GSM modem as the station uses it: send a text, hear about replies, survive unplugging.

One `SerialLink` at a time talks to the port. A worker thread reads each new message the modem
announces (`+CMTI` → `AT+CMGR` → decode → `AT+CMGD`), joins concatenated parts and hands whole
messages to the callback or the `incoming()` queue. When the port disappears a reconnect thread
retries with growing delays until it is back, sets the modem up again and sweeps storage for
messages that arrived meanwhile. `send()` while disconnected raises `ModemDisconnected` at
once, so the sending loop can keep the message queued rather than block.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from devices.modem import at
from devices.modem.errors import (
    MalformedPdu,
    ModemCommandError,
    ModemDisconnected,
    ModemError,
    ModemNotReady,
    ModemTimeout,
)
from devices.modem.link import SerialLink
from devices.modem.pdu import IncomingSms, Reassembler, decode, encode_submit

log = logging.getLogger(__name__)

_SWEEP = -1  # inbox job: list and read everything in storage
_REGISTERED = (1, 5)  # +CREG stat: home network, roaming
_EMPTY_SLOT = 321  # +CMS ERROR: invalid memory index


@dataclass(frozen=True)
class ModemStatus:
    """What the console page shows about the modem."""

    port: str
    connected: bool
    signal: int | None  # +CSQ rssi 0–31; None when unknown
    last_error: str | None


class GsmModem:
    """A GSM modem on a serial port, in PDU mode."""

    def __init__(
        self,
        port: str,
        baudrate: int = 115200,
        timeout: float = 5.0,
        *,
        send_timeout: float = 60.0,
        on_message: Callable[[IncomingSms], None] | None = None,
        reconnect_delays: Sequence[float] = (0.5, 1.0, 2.0, 5.0, 10.0),
        sweep_every: float = 300.0,
        rtscts: bool = False,
    ) -> None:
        """`timeout` bounds every command; `send_timeout` the wait for the network to take a
        message after Ctrl-Z. Without `on_message`, received messages wait in `incoming()`.
        Every `sweep_every` seconds storage is listed too, for a `+CMTI` lost in a silence."""
        self.port = port
        self.timeout = timeout
        self.send_timeout = send_timeout
        self._baudrate = baudrate
        self._rtscts = rtscts
        self._on_message = on_message
        self._delays = tuple(reconnect_delays) or (1.0,)
        self._link: SerialLink | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._reconnecting: threading.Thread | None = None
        self._jobs: queue.Queue[int] = queue.Queue()
        self._inbox: queue.Queue[IncomingSms] = queue.Queue()
        self._reassembler = Reassembler()
        self._worker: threading.Thread | None = None
        self._reference = 0
        self._last_error: str | None = None
        self._unsure = False  # set up the modem again before the next send
        self._sweep_every = sweep_every

    @property
    def connected(self) -> bool:
        link = self._link
        return link is not None and link.alive

    def connect(self, *, keep_trying: bool = False) -> None:
        """Open the port and set the modem up. With `keep_trying`, a modem that is not there
        yet is retried in the background instead of raising."""
        self._stopping.clear()
        if self.connected:
            return
        if self._worker is None:
            self._worker = threading.Thread(target=self._work, name="modem-inbox", daemon=True)
            self._worker.start()
        try:
            self._open()
        except ModemError as exc:
            if not keep_trying:
                raise
            self._last_error = str(exc)
            self._start_reconnecting()

    def send(self, number: str, text: str) -> list[int]:
        """Send `text` to `number`; the modem's message reference for each part."""
        pdus = encode_submit(number, text, self._next_reference())
        link = self._require_link()
        if self._unsure:  # after a silence the modem may have restarted and lost its setup
            try:
                self._set_up(link)
            except ModemTimeout as exc:
                # Still silent: treat it as gone, so callers wait for it instead of failing
                # message after message, and reopen the port until it answers again.
                self._drop(link, str(exc))
                raise ModemDisconnected(self.port, "the modem stopped answering") from exc
            self._jobs.put(_SWEEP)
        references = []
        for pdu in pdus:
            command = at.send_command(pdu.tpdu_length)
            try:
                reply = link.send_pdu(command, pdu.hex, self.timeout, self.send_timeout)
            except ModemTimeout:
                self._unsure = True
                raise
            reference = at.number_field(reply, "+CMGS")
            if reference is None:
                raise ModemCommandError(command, "OK without +CMGS")
            references.append(reference)
        return references

    def incoming(self, timeout: float | None = None) -> IncomingSms | None:
        """The next received message, waiting up to `timeout` seconds (None: don't wait)."""
        try:
            return self._inbox.get(timeout=timeout) if timeout else self._inbox.get_nowait()
        except queue.Empty:
            return None

    def status(self) -> ModemStatus:
        """Connection and signal, asked of the modem now (signal None if it does not answer)."""
        signal = None
        if self.connected:
            try:
                reply = self._require_link().command(at.CHECK_SIGNAL, self.timeout)
                rssi = at.number_field(reply, "+CSQ")
                signal = None if rssi in (None, 99) else rssi
            except ModemError as exc:
                self._last_error = str(exc)
        return ModemStatus(self.port, self.connected, signal, self._last_error)

    def close(self) -> None:
        """Close the port and stop the worker and any reconnecting."""
        self._stopping.set()
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()
        for thread in (self._reconnecting, self._worker):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=2)
        self._worker = None
        self._reconnecting = None

    def _require_link(self) -> SerialLink:
        link = self._link
        if link is None or not link.alive:
            raise ModemDisconnected(self.port, self._last_error or "")
        return link

    def _next_reference(self) -> int:
        with self._lock:
            self._reference = (self._reference + 1) % 256
            return self._reference

    def _open(self) -> None:
        link = SerialLink(
            self.port, self._baudrate, self._unsolicited, self._lost, rtscts=self._rtscts
        )
        link.open()
        try:
            self._set_up(link)
        except ModemError:
            link.close()
            raise
        with self._lock:
            current = self._link
            if self._stopping.is_set() or (current is not None and current.alive):
                link.close()  # closed meanwhile, or another thread got there first
                return
            self._link = link
        self._last_error = None
        self._jobs.put(_SWEEP)  # messages that arrived while nobody was listening
        log.info("modem ready on %s", self.port)

    def _set_up(self, link: SerialLink) -> None:
        for attempt in range(3):  # a modem just plugged in may miss the first AT
            try:
                link.command("AT", min(self.timeout, 1.0))
                break
            except ModemError:
                if attempt == 2:
                    raise
        for command in at.SETUP:
            link.command(command, self.timeout)
        try:
            sim = at.text_field(link.command(at.CHECK_SIM, self.timeout), "+CPIN")
        except ModemCommandError as exc:  # +CME ERROR: 10, SIM not inserted, and friends
            sim = exc.reply
        if sim != "READY":
            raise ModemNotReady(
                f"SIM 卡未就绪（{sim}），请检查 SIM 卡或 PIN 码",
                f"SIM not ready ({sim}): check the card or its PIN",
            )
        registration = at.number_field(
            link.command(at.CHECK_REGISTRATION, self.timeout), "+CREG", 1
        )
        if registration not in _REGISTERED:
            raise ModemNotReady(
                f"短信模块未注册到网络（状态 {registration}），请检查信号或 SIM 卡是否欠费",
                f"modem not registered on the network (state {registration})",
            )
        self._unsure = False

    def _unsolicited(self, line: str) -> None:
        index = at.new_message_index(line)
        if index is not None:
            self._jobs.put(index)

    def _drop(self, link: SerialLink, reason: str) -> None:
        with self._lock:
            if self._link is link:
                self._link = None
        link.close()
        self._lost(reason)

    def _lost(self, reason: str) -> None:
        self._last_error = reason
        self._start_reconnecting()

    def _start_reconnecting(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            if self._reconnecting is not None and self._reconnecting.is_alive():
                return
            self._reconnecting = threading.Thread(
                target=self._reconnect, name="modem-reconnect", daemon=True
            )
            self._reconnecting.start()

    def _reconnect(self) -> None:
        attempt = 0
        while not self._stopping.wait(self._delays[min(attempt, len(self._delays) - 1)]):
            attempt += 1
            old = self._link
            if old is not None:
                old.close()
            try:
                self._open()
                return
            except ModemError as exc:
                self._last_error = str(exc)
                log.info("modem on %s not back yet (attempt %d): %s", self.port, attempt, exc)

    def _work(self) -> None:
        last_sweep = time.monotonic()
        while not self._stopping.is_set():
            try:
                job = self._jobs.get(timeout=0.2)
            except queue.Empty:
                if time.monotonic() - last_sweep < self._sweep_every or not self.connected:
                    continue
                job = _SWEEP
            try:
                if job == _SWEEP:
                    last_sweep = time.monotonic()
                    self._sweep()
                else:
                    self._read_stored(job)
            except ModemDisconnected:
                pass  # the sweep after reconnecting reads whatever was left
            except ModemTimeout as exc:
                self._unsure = True
                self._last_error = str(exc)
                log.warning("reading received SMS: %s", exc)
            except ModemError as exc:
                self._last_error = str(exc)
                log.warning("reading received SMS: %s", exc)
            except Exception:  # a bug here must not stop the station hearing replies
                log.exception("reading received SMS")

    def _sweep(self) -> None:
        for stored in at.parse_list(self._require_link().command(at.LIST_ALL, self.timeout)):
            if stored.status in (0, 1):  # received; 2 and 3 are drafts we never write
                self._take(stored.index, stored.pdu)

    def _read_stored(self, index: int) -> None:
        try:
            reply = self._require_link().command(at.read_command(index), self.timeout)
        except ModemCommandError as exc:
            if exc.cms == _EMPTY_SLOT:  # a sweep got there first
                return
            raise
        stored = at.parse_read(reply)
        if stored is not None:
            self._take(index, stored.pdu)

    def _take(self, index: int, pdu: str) -> None:
        try:
            whole = self._reassembler.add(decode(pdu))
        except MalformedPdu as exc:
            log.warning("dropping SMS at index %d: %s", index, exc)
            whole = None
        # Deleted as soon as it is decoded: storage on a SIM holds only a few dozen messages.
        self._require_link().command(at.delete_command(index), self.timeout)
        if whole is None:
            return
        if self._on_message is None:
            self._inbox.put(whole)
            return
        try:
            self._on_message(whole)
        except Exception:
            log.exception("on_message failed for an SMS from %s", whole.number)
