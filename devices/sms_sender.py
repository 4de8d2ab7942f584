"""The outgoing SMS loop: one thread, a priority queue, and a pace the modem can keep.

The station's outbox (kept in its own database) feeds this loop with `submit()`, which returns
at once. The thread sends the most urgent message first (offers before sign-in codes before
notices; first come first served within a priority), at most one every `interval` seconds,
because a modem handed messages faster fails them or the operator throttles the SIM. A failure
is retried a few times with growing delays; an unplugged modem costs no attempt, the message
simply waits. Each message ends in exactly one `Outcome`, reported through the callback.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

from devices.modem.errors import ModemDisconnected, ModemError

log = logging.getLogger(__name__)

MessageId = int | str


class Priority(IntEnum):
    """Lower goes first."""

    OFFER = 0  # a job offer is worth something only while the job is open
    SIGNIN_CODE = 1  # someone is standing at the kiosk waiting for it
    NOTICE = 2


class SmsTransport(Protocol):
    """What the loop needs of a modem (`devices.modem.GsmModem` is one)."""

    @property
    def connected(self) -> bool: ...

    def send(self, number: str, text: str) -> list[int]: ...


@dataclass(frozen=True)
class Outcome:
    """How one submitted message ended: sent with the modem's references, or failed."""

    message_id: MessageId
    sent: bool
    references: tuple[int, ...] = ()
    attempts: int = 0
    reason_zh: str = ""
    reason_en: str = ""


@dataclass(frozen=True)
class QueuedSms:
    """One row of `snapshot()`, for the console page."""

    message_id: MessageId
    number: str
    text: str
    priority: Priority
    attempts: int
    sending: bool
    retry_in: float  # seconds until it may be tried again (0: as soon as its turn comes)
    last_error: str


@dataclass
class _Item:
    message_id: MessageId
    number: str
    text: str
    priority: Priority
    seq: int
    attempts: int = 0
    not_before: float = 0.0
    sending: bool = False
    last_error: str = ""
    order: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        self.order = (int(self.priority), self.seq)


class SmsSender:
    """Sends queued messages through `transport` from its own thread."""

    def __init__(
        self,
        transport: SmsTransport,
        on_outcome: Callable[[Outcome], None],
        *,
        interval: float = 5.0,
        max_attempts: int = 3,
        retry_delays: Sequence[float] = (10.0, 60.0, 300.0),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._on_outcome = on_outcome
        self.interval = interval
        self._max_attempts = max(1, max_attempts)
        self._retry_delays = tuple(retry_delays) or (interval,)
        self._clock = clock
        self._cond = threading.Condition()
        self._items: dict[MessageId, _Item] = {}
        self._seq = itertools.count()
        self._last_send: float | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the sending thread."""
        with self._cond:
            self._stopping = False
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="sms-sender", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the message being sent, if any; what is still queued stays queued."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def submit(
        self, message_id: MessageId, number: str, text: str, priority: Priority = Priority.NOTICE
    ) -> bool:
        """Queue a message and return at once; False if `message_id` is already queued."""
        with self._cond:
            if message_id in self._items:
                return False
            self._items[message_id] = _Item(
                message_id, number, text, Priority(priority), next(self._seq)
            )
            self._cond.notify_all()
            return True

    def snapshot(self) -> list[QueuedSms]:
        """What is queued, in the order it would go out."""
        with self._cond:
            now = self._clock()
            return [
                QueuedSms(
                    item.message_id,
                    item.number,
                    item.text,
                    item.priority,
                    item.attempts,
                    item.sending,
                    max(0.0, item.not_before - now),
                    item.last_error,
                )
                for item in sorted(self._items.values(), key=lambda i: i.order)
            ]

    def wait_idle(self, timeout: float) -> bool:
        """Whether the queue emptied within `timeout` seconds (for shutdown and tests)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._items, timeout)

    def _run(self) -> None:
        while True:
            item = self._next()
            if item is None:
                return
            outcome = self._attempt(item)
            if outcome is not None:
                try:
                    self._on_outcome(outcome)
                except Exception:
                    log.exception("on_outcome failed for message %s", outcome.message_id)

    def _next(self) -> _Item | None:
        """Block until a message may go out now (None when stopping) and mark it sending."""
        with self._cond:
            while not self._stopping:
                now = self._clock()
                due = [i for i in self._items.values() if i.not_before <= now]
                if not self._transport.connected:
                    wait: float | None = 0.2  # the modem reconnects on its own; look again soon
                elif not due:
                    later = [i.not_before for i in self._items.values()]
                    wait = min(later) - now if later else None
                elif self._last_send is not None and now < self._last_send + self.interval:
                    wait = self._last_send + self.interval - now
                else:
                    item = min(due, key=lambda i: i.order)
                    item.sending = True
                    self._last_send = now
                    return item
                self._cond.wait(wait)
            return None

    def _attempt(self, item: _Item) -> Outcome | None:
        """Send once; the outcome if the message is finished, None if it stays queued."""
        try:
            references = self._transport.send(item.number, item.text)
        except ModemDisconnected as exc:
            return self._requeue(item, exc.message_zh, count=False)
        except ModemError as exc:
            if exc.retryable:
                return self._requeue(item, exc.message_zh, count=True, reason_en=exc.message_en)
            return self._finish(
                item,
                Outcome(
                    item.message_id, False, (), item.attempts + 1, exc.message_zh, exc.message_en
                ),
            )
        except Exception as exc:  # a driver bug must not end the loop or lose the message
            log.exception("sending message %s", item.message_id)
            return self._requeue(item, f"发送出错：{exc}", count=True, reason_en=repr(exc))
        return self._finish(
            item, Outcome(item.message_id, True, tuple(references), item.attempts + 1)
        )

    def _requeue(
        self, item: _Item, reason_zh: str, *, count: bool, reason_en: str = ""
    ) -> Outcome | None:
        with self._cond:
            item.sending = False
            item.last_error = reason_zh
            if count:
                item.attempts += 1
                if item.attempts >= self._max_attempts:
                    del self._items[item.message_id]
                    self._cond.notify_all()
                    return Outcome(item.message_id, False, (), item.attempts, reason_zh, reason_en)
                delay = self._retry_delays[min(item.attempts, len(self._retry_delays)) - 1]
                item.not_before = self._clock() + delay
            self._cond.notify_all()
            return None

    def _finish(self, item: _Item, outcome: Outcome) -> Outcome:
        with self._cond:
            self._items.pop(item.message_id, None)
            self._cond.notify_all()
        return outcome
