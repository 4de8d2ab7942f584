"""The SMS gateway's device process: claim the station's queued text messages, send them
through the GSM modem one every few seconds, report how each went, and hand every SMS a phone
sends to the station.

    python -m devices.runners.sms --station http://192.168.1.20:8080 --port /dev/serial/by-id/...
    (the device token comes from KUAIGONG_DEVICE_TOKEN; the port may come from
    KUAIGONG_MODEM_PORT)

The station's database is the outbox: this process claims a message only when the modem is
free to send it soon (so a new offer is never stuck behind older notices here), and claims
nothing while the modem is unplugged, so the station stops counting on SMS until it is back.
Each claim tells the station the modem's pace, which the dispatch engine plans SMS offers by.
Reports and received messages the station could not take are kept and sent again.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import logging
import os
import threading
from typing import Any

from devices.modem import GsmModem, IncomingSms
from devices.runners.station_api import StationApi, StationError
from devices.sms_sender import Outcome, Priority, SmsSender, SmsTransport

log = logging.getLogger(__name__)

_PRIORITIES = {0: Priority.OFFER, 1: Priority.SIGNIN_CODE, 2: Priority.NOTICE}


class SmsGateway:
    """Moves messages between the station and one modem; `run()` until `stop()`."""

    def __init__(
        self,
        api: StationApi,
        transport: SmsTransport,
        *,
        interval: float = 5.0,
        poll_interval: float = 1.0,
        ahead: int = 1,
    ) -> None:
        """`interval`: seconds between messages (the modem's and network's pace); `ahead`: how
        many claimed messages may wait here for the modem (more makes the queue less fresh)."""
        self.api = api
        self.transport = transport
        self.interval = interval
        self.poll_interval = poll_interval
        self.ahead = max(1, ahead)
        self._wake = threading.Condition()
        self._results: collections.deque[Outcome] = collections.deque()
        self._incoming: collections.deque[dict[str, Any]] = collections.deque()
        self._stopping = threading.Event()
        # One attempt here: the station decides about retries, knowing whether an offer is
        # still open by then.
        self.sender = SmsSender(
            transport, self._sent, interval=interval, max_attempts=1, retry_delays=(interval,)
        )

    # Called from the sender's and the modem's threads: queue, and wake the loop.
    def _sent(self, outcome: Outcome) -> None:
        with self._wake:
            self._results.append(outcome)
            self._wake.notify_all()

    def received(self, sms: IncomingSms) -> None:
        """A whole SMS from a phone (the modem driver's `on_message`)."""
        when = sms.sent_at.isoformat() if isinstance(sms.sent_at, dt.datetime) else None
        with self._wake:
            self._incoming.append({"number": sms.number, "text": sms.text, "received_at": when})
            self._wake.notify_all()

    def run_once(self) -> None:
        """Report what is done, hand in what came, claim what the modem can send next."""
        self._flush_results()
        self._flush_incoming()
        if not self.transport.connected:
            return
        room = self.ahead - len(self.sender.snapshot())
        if room <= 0:
            return
        try:
            answer = self.api.post("/sms/claim", {"limit": room, "interval": self.interval})
        except StationError as exc:
            log.warning("claiming SMS: %s", exc.message_zh)
            return
        for message in answer.get("messages") or []:
            priority = _PRIORITIES.get(int(message.get("priority", 2)), Priority.NOTICE)
            self.sender.submit(int(message["id"]), message["mobile"], message["text"], priority)

    def _flush_results(self) -> None:
        while self._results:
            outcome = self._results[0]
            body: dict[str, Any] = {"sent": outcome.sent, "references": list(outcome.references)}
            if not outcome.sent:
                body["reason"] = (outcome.reason_zh or outcome.reason_en or "发送失败")[:200]
            try:
                self.api.post(f"/sms/{outcome.message_id}/result", body)
            except StationError as exc:
                if getattr(exc, "status", 500) < 500:  # refused for good: do not loop on it
                    log.error("station refused the result of %s: %s", outcome.message_id, exc)
                else:
                    log.warning("reporting SMS %s: %s", outcome.message_id, exc.message_zh)
                    return
            self._results.popleft()

    def _flush_incoming(self) -> None:
        while self._incoming:
            try:
                self.api.post("/sms/incoming", self._incoming[0])
            except StationError as exc:
                if getattr(exc, "status", 500) < 500:
                    log.error("station refused an incoming SMS: %s", exc)
                else:
                    log.warning("handing in an SMS: %s", exc.message_zh)
                    return
            self._incoming.popleft()

    def run(self) -> None:
        """Loop until `stop()`; the sender runs on its own thread meanwhile."""
        self.sender.start()
        try:
            while not self._stopping.is_set():
                self.run_once()
                with self._wake:
                    if not (self._results or self._incoming) and not self._stopping.is_set():
                        self._wake.wait(self.poll_interval)
        finally:
            self.sender.stop()
            self._flush_results()
            self._flush_incoming()

    def stop(self) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify_all()


def run_sms_gateway(
    station_url: str,
    token: str,
    port: str | None = None,
    *,
    interval: float = 5.0,
    poll_interval: float = 1.0,
    stop: threading.Event | None = None,
    modem_timeout: float = 5.0,
) -> None:
    """Run the gateway for the modem on `port` (default: $KUAIGONG_MODEM_PORT) until `stop` is
    set (or forever, for `kuaigong device sms`)."""
    port = port or os.environ.get("KUAIGONG_MODEM_PORT")
    if not port:
        raise SystemExit(
            "请用 --port 或环境变量 KUAIGONG_MODEM_PORT 指定短信猫的串口\n"
            "name the modem's serial port with --port or KUAIGONG_MODEM_PORT"
        )
    api = StationApi(station_url, token)
    gateway: SmsGateway | None = None

    def on_message(sms: IncomingSms) -> None:
        if gateway is not None:
            gateway.received(sms)

    modem = GsmModem(port, timeout=modem_timeout, on_message=on_message)
    gateway = SmsGateway(api, modem, interval=interval, poll_interval=poll_interval)
    modem.connect(keep_trying=True)  # an unplugged modem is waited for, not fatal
    if stop is not None:

        def stop_when_told() -> None:
            stop.wait()
            gateway.stop()

        threading.Thread(target=stop_when_told, name="sms-stop", daemon=True).start()
    try:
        gateway.run()
    finally:
        modem.close()
        api.close()


def main() -> None:  # pragma: no cover - exercised through `kuaigong device sms`
    parser = argparse.ArgumentParser(description="短信网关 / SMS gateway")
    parser.add_argument("--station", required=True, help="http://<station>:<port>")
    parser.add_argument("--port", default=None, help="the modem's serial port")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between messages")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    token = os.environ.get("KUAIGONG_DEVICE_TOKEN", "")
    run_sms_gateway(args.station, token, args.port, interval=args.interval)


if __name__ == "__main__":  # pragma: no cover
    main()
