"""The receipt printer's device process: claim queued job slips from the station, print them on
a `SlipPrinter`, report each one printed or failed, and report the printer's status.

    kuaigong device printer --printer tcp://192.168.1.50:9100     (pairs, then runs this)

Slips stay queued at the station while the printer is offline or in error, so a dead printer
does not use them up; the console shows the printer's state and the waiting count meanwhile.
Reports the station could not take are kept and sent again on the next round.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from devices.printer import PrinterStatus, PrintOutcome, SlipPrinter
from devices.runners.station_api import StationApi, StationError
from devices.slips import JobSlip, SlipError

log = logging.getLogger(__name__)

# The printer cannot print now: leave the slips at the station rather than claim them.
_NOT_PRINTING = ("offline", "error")


class PrinterRunner:
    """Claims slips for one printer; `start()` runs rounds on a thread, `run_once()` one round."""

    def __init__(
        self,
        api: StationApi,
        printer_url: str,
        *,
        poll_interval: float = 2.0,
        status_interval: float = 10.0,
        batch: int = 5,
        **printer_options: Any,
    ) -> None:
        """`printer_url` and `printer_options` are SlipPrinter's (`tcp://…`, `dummy:`, …); a
        setting it cannot read raises PrinterConfigError here, before anything is claimed."""
        self.api = api
        self.poll_interval = poll_interval
        self.status_interval = status_interval
        self.batch = batch
        # Re-entrant: a stopped printer reports a slip from inside submit(), on this thread.
        self._lock = threading.RLock()
        self._slip_of_job: dict[int, int] = {}  # SlipPrinter job id → station slip id
        self._early: dict[int, PrintOutcome] = {}  # outcomes that came before their mapping
        self._unsent: list[tuple[int, bool, str]] = []  # reports the station did not take yet
        self._last_status: dict[str, Any] | None = None
        self._status_due = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        printer_options.setdefault("probe_interval", 5.0)  # the console sees offline soon
        self.printer = SlipPrinter(printer_url, on_outcome=self._outcome, **printer_options)

    def start(self) -> None:
        self.printer.start()
        self._thread = threading.Thread(target=self._run, name="printer-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.printer.stop()  # reports the slips still waiting as failed
        self._send_reports()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a runner must outlive any one bad round
                log.exception("printer round failed")
            self._stop.wait(self.poll_interval)

    def run_once(self, now: float | None = None) -> int:
        """Report status and outcomes, then claim and submit slips; returns how many it took."""
        self._send_reports()
        status = self.printer.status()
        self._report_status(status, now)
        if status.state in _NOT_PRINTING or status.waiting >= self.batch:
            return 0
        try:
            claimed = self.api.post("/printer/claim", {"limit": self.batch - status.waiting})
        except StationError as exc:
            log.warning("cannot claim slips: %s", exc.message_en)
            return 0
        slips = claimed.get("slips") or []
        for item in slips:
            self._submit(int(item["id"]), item.get("slip") or {})
        return len(slips)

    def _submit(self, slip_id: int, fields: dict[str, Any]) -> None:
        try:
            slip = JobSlip(**fields)
        except (SlipError, TypeError) as exc:
            reason = exc.message_zh if isinstance(exc, SlipError) else "派工单内容不完整"
            self._queue_report(slip_id, False, reason)
            return
        with self._lock:  # the printer's thread may finish the slip before submit returns
            job_id = self.printer.submit(slip)
            self._slip_of_job[job_id] = slip_id
            early = self._early.pop(job_id, None)
        if early is not None:
            self._outcome(early)

    def _outcome(self, outcome: PrintOutcome) -> None:
        with self._lock:
            slip_id = self._slip_of_job.pop(outcome.job_id, None)
            if slip_id is None:
                self._early[outcome.job_id] = outcome
                return
        self._queue_report(slip_id, outcome.printed, outcome.reason_zh)
        self._send_reports()

    def _queue_report(self, slip_id: int, printed: bool, reason: str) -> None:
        with self._lock:
            self._unsent.append((slip_id, printed, reason))

    def _send_reports(self) -> None:
        with self._lock:
            pending, self._unsent = self._unsent, []
        for index, (slip_id, printed, reason) in enumerate(pending):
            path = f"/printer/slips/{slip_id}/" + ("printed" if printed else "failed")
            try:
                self.api.post(path, None if printed else {"error": reason})
            except StationError as exc:
                if getattr(exc, "status", None) == 409:
                    continue  # the station already settled this slip
                with self._lock:
                    self._unsent[:0] = pending[index:]
                log.warning("cannot report slip %s: %s", slip_id, exc.message_en)
                return

    def _report_status(self, status: PrinterStatus, now: float | None) -> None:
        values = status.as_dict()
        moment = time.monotonic() if now is None else now
        if values == self._last_status and moment < self._status_due:
            return
        try:
            self.api.post("/printer/status", values)
        except StationError as exc:
            log.warning("cannot report printer status: %s", exc.message_en)
            return
        self._last_status, self._status_due = values, moment + self.status_interval
