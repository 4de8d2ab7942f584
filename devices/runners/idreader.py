"""The ID card reader's device process: wait for cards and post each one to the station.

    kuaigong device idreader --port /dev/ttyUSB1     (pairs, then runs this)

A card is posted once when it is placed, not again while it lies on the reader; taking it off
and putting it back posts it again. Only the card's text goes to the station, never its photo.
The station decides whether the card is still valid (its clock is the one that counts) and
answers an expired card with the reason, which this process logs and passes to `on_read`.
Nothing here logs a name or an ID number: they are personal data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import Any

from devices.idcard import IdCard, IdCardError, IdCardReader
from devices.runners.station_api import StationApi, StationError, StationRefused

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ReadResult:
    """What became of one card: `posted`, `refused` (with the station's reason) or `unsent`."""

    outcome: str
    message_zh: str = ""


def card_json(card: IdCard) -> dict[str, Any]:
    """The card's text fields as the station's API takes them (dates as YYYY-MM-DD)."""
    values = dataclasses.asdict(card)
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in values.items()}


class IdReaderRunner:
    """Polls one reader; `start()` runs on a thread, `run_once()` makes one read."""

    def __init__(
        self,
        api: StationApi,
        reader: IdCardReader,
        *,
        poll_interval: float = 0.3,
        on_read: Callable[[ReadResult], None] | None = None,
    ) -> None:
        self.api = api
        self.reader = reader
        self.poll_interval = poll_interval
        self.on_read = on_read
        self._on_reader: str | None = None  # ID number of the card lying on the reader, if sent
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="idcard-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # a runner must outlive any one bad read
                log.exception("card reader round failed")
            self._stop.wait(self.poll_interval)

    def run_once(self) -> ReadResult | None:
        """Read the reader once; post a newly placed card. None when there was nothing new."""
        try:
            card = self.reader.read()
        except IdCardError as exc:
            # Line noise, a card pulled away mid-read, a reader without power: try again.
            log.warning("card read failed: %s", exc.message_en)
            return None
        if card is None:
            self._on_reader = None
            return None
        if card.id_number == self._on_reader:
            return None
        result = self._post(card)
        if result.outcome != "unsent":
            self._on_reader = card.id_number
        if self.on_read is not None:
            self.on_read(result)
        return result

    def _post(self, card: IdCard) -> ReadResult:
        try:
            self.api.post("/idcard/reads", card_json(card))
        except StationRefused as exc:
            log.info("the station refused a card: %s", exc.message_en)
            return ReadResult("refused", exc.message_zh)
        except StationError as exc:
            log.warning("card not sent: %s", exc.message_en)
            return ReadResult("unsent", exc.message_zh)
        log.info("card sent to the station")
        return ReadResult("posted")
