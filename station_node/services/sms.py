"""The station's SMS: the outbox the gateway's modem works through, offers as text messages,
and what a worker's reply does.

Rows are written inside the caller's transaction, so an offer and its SMS exist together or not
at all. The modem sends about one message every few seconds: nothing here waits for it; the
gateway claims queued messages by priority (`claim`) and reports each one back (`record_result`).
These rows are local to the station and never enter the change log.
"""

from __future__ import annotations

from kuaigong import clock
from kuaigong.errors import FieldError, InvalidInput
from station_node.models import SmsMessage
from station_node.sms_states import (
    SmsDirection,
    SmsOutcome,
    SmsPriority,
    SmsPurpose,
    SmsStatus,
)

__all__ = [
    "SmsDirection",
    "SmsOutcome",
    "SmsPriority",
    "SmsPurpose",
    "SmsStatus",
    "queue_message",
]

MAX_TEXT_CHARS = 670  # ten UCS2 parts of 67: what the modem driver accepts at most


def queue_message(
    mobile: str,
    text: str,
    *,
    priority: SmsPriority,
    purpose: SmsPurpose | str,
    worker_id: str | None = None,
    offer_id: str | None = None,
) -> SmsMessage:
    """Put one SMS in the outbox (inside the caller's transaction); the gateway sends it."""
    mobile = (mobile or "").strip()
    if not mobile:
        raise InvalidInput(
            [FieldError("mobile", "required", "没有手机号，无法发短信", "No mobile number to text")]
        )
    if not text or len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            [
                FieldError(
                    "text",
                    "length",
                    f"短信内容须为 1–{MAX_TEXT_CHARS} 个字",
                    f"An SMS must be 1–{MAX_TEXT_CHARS} characters",
                )
            ]
        )
    return SmsMessage.create(
        direction=SmsDirection.OUT,
        mobile=mobile,
        text=text,
        priority=int(SmsPriority(priority)),
        purpose=SmsPurpose(purpose),
        worker=worker_id,
        offer=offer_id,
        status=SmsStatus.QUEUED,
        created_at=clock.now(),
    )
