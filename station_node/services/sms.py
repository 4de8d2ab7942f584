"""The station's SMS: the outbox the gateway's modem works through and offers as text messages.

Rows are written inside the caller's transaction, so an offer and its SMS exist together or not
at all. The modem sends about one message every few seconds: nothing here waits for it; the
gateway claims queued messages by priority (`claim`) and reports each one back (`record_result`).
What a worker's reply does is in `sms_inbox`. These rows are local to the station and never
enter the change log.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import peewee

from kuaigong import clock
from kuaigong.errors import FieldError, InvalidInput, NotFound
from kuaigong.states import OfferStatus
from station_node import catalog, db
from station_node.models import Job, Offer, SmsMessage, StationState, Worker
from station_node.services import utc_offset_hours
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
    "claim",
    "gateway_interval",
    "offer_text",
    "offers_waiting",
    "queue_message",
    "queue_offer",
    "record_result",
    "segments",
]

MAX_TEXT_CHARS = 670  # ten UCS2 parts of 67: what the modem driver accepts at most
MAX_ATTEMPTS = 3  # sends of one message before it counts as failed
RETRY_SECONDS = {SmsPriority.OFFER: 5, SmsPriority.CODE: 10, SmsPriority.NOTICE: 60}
# A code or notice that has waited this long goes out next even in a rush of offers: without
# it a busy modem never reaches the "接单成功" a worker is waiting for, nor a sign-in code.
OVERDUE_SECONDS = {SmsPriority.CODE: 30, SmsPriority.NOTICE: 60}
STALE_SENDING_SECONDS = 120  # a claimed message the gateway never reported goes back in line
GATEWAY_STATE = "sms.gateway"  # StationState: when the gateway last asked, and its pace
GATEWAY_SILENT_SECONDS = 30  # a gateway not heard from for this long counts as gone
PREFIX = "【快工】"

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€\f")


def segments(text: str) -> int:
    """How many SMS parts `text` takes: GSM-7 (160, 153 a part when split) when every character
    is in that alphabet, else UCS2 (70, 67), counting UTF-16 units."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in text):
        units, single, part = sum(2 if c in _GSM7_EXTENDED else 1 for c in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    if units <= single:
        return 1
    return -(-units // part)


def normalise_mobile(number: str) -> str:
    """A number as workers' mobiles are stored: digits only, without +86 / 0086."""
    digits = "".join(c for c in unicodedata.normalize("NFKC", number or "") if c.isdigit())
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            return digits[len(prefix) :]
    return digits


def _text_error(message_zh: str, message_en: str) -> InvalidInput:
    return InvalidInput([FieldError("text", "invalid", message_zh, message_en)])


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
        raise _text_error(
            f"短信内容须为 1–{MAX_TEXT_CHARS} 个字", f"An SMS must be 1–{MAX_TEXT_CHARS} characters"
        )
    if any(ord(c) > 0xFFFF for c in text):
        raise _text_error("短信里不能有表情符号等特殊字符", "An SMS cannot carry emoji")
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


# ---------------------------------------------------------------- offers


def _local(when: dt.datetime) -> dt.datetime:
    return when + dt.timedelta(hours=utc_offset_hours())


def clip(text: str, most: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= most else text[: most - 1] + "…"


def _pay(job: Job) -> str:
    yuan, fen = divmod(int(job.pay_fen), 100)
    amount = f"{yuan}.{fen:02d}" if fen else str(yuan)
    return amount + catalog.label(catalog.PAY_UNITS, job.pay_unit, "zh")


def offer_text(job: Job, deadline: dt.datetime) -> str:
    """The offer as an SMS: job, local start, place, pay, deadline and how to answer; kept to
    two UCS2 parts by shortening the title and the place."""
    if job.starts_at is not None:
        start = _local(job.starts_at)
        when = f"{start.month}月{start.day}日{start:%H:%M}开工"
    else:
        when = "时间可商量"
    answer = f"请于{_local(deadline):%H:%M:%S}前回复1接单，回复2放弃"
    title, place = job.title, f"{job.community}{job.address}"
    for most_title, most_place in ((30, 40), (20, 24), (12, 14)):
        text = (
            f"{PREFIX}{clip(title, most_title)}，{when}，{clip(place, most_place)}，"
            f"{_pay(job)}。{answer}"
        )
        if segments(text) <= 2:
            break
    return text


_OFFER_JOB_COLUMNS = (
    Job.id,
    Job.title,
    Job.starts_at,
    Job.address,
    Job.community,
    Job.pay_fen,
    Job.pay_unit,
)


def queue_offer(offer_id: str, job_id: str, worker_id: str, deadline: dt.datetime) -> SmsMessage:
    """Queue the SMS carrying an offer (inside the cascade's transaction), first in line."""
    job = Job.select(*_OFFER_JOB_COLUMNS).where(Job.id == job_id).get()
    mobile = Worker.select(Worker.mobile).where(Worker.id == worker_id).scalar()
    return queue_message(
        mobile,
        offer_text(job, deadline),
        priority=SmsPriority.OFFER,
        purpose=SmsPurpose.OFFER,
        worker_id=worker_id,
        offer_id=offer_id,
    )


def _live_offer() -> Any:
    return (Offer.status == OfferStatus.PENDING) & (Offer.expires_at > clock.now())


def offers_waiting(now: dt.datetime | None = None) -> int:
    """Offer SMS queued or with the gateway whose offers are still open: what a new SMS offer
    waits behind."""
    now = now or clock.now()
    return (
        SmsMessage.select(SmsMessage.id)
        .join(Offer, on=(SmsMessage.offer == Offer.id))
        .where(
            (SmsMessage.direction == SmsDirection.OUT)
            & SmsMessage.status.in_((SmsStatus.QUEUED, SmsStatus.SENDING))
            & (SmsMessage.priority <= SmsPriority.OFFER)
            & (Offer.status == OfferStatus.PENDING)
            & (Offer.expires_at > now)
        )
        .count()
    )


# ---------------------------------------------------------------- the gateway


def _note_gateway(now: dt.datetime, interval: float | None) -> None:
    row = StationState.get_or_none(StationState.key == GATEWAY_STATE)
    seen = dict(row.value) if row is not None else {}
    pace = float(interval) if interval else seen.get("interval")
    last = seen.get("seen_at")
    if last and pace == seen.get("interval"):
        if (now - dt.datetime.fromisoformat(last)).total_seconds() < 5:
            return  # heard from moments ago: spare the write
    value = {"seen_at": now.isoformat(), "interval": pace}
    StationState.insert(key=GATEWAY_STATE, value=value).on_conflict_replace().execute()


def gateway_interval(now: dt.datetime | None = None) -> float | None:
    """The live gateway's seconds between messages; None when no gateway asked lately."""
    now = now or clock.now()
    row = StationState.get_or_none(StationState.key == GATEWAY_STATE)
    if row is None or not row.value.get("seen_at"):
        return None
    seen = dt.datetime.fromisoformat(row.value["seen_at"])
    if abs((now - seen).total_seconds()) > GATEWAY_SILENT_SECONDS:
        return None
    return float(row.value.get("interval") or 0) or None


def _outgoing(row: SmsMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "mobile": row.mobile,
        "text": row.text,
        "priority": row.priority,
        "purpose": row.purpose,
        "attempts": row.attempts,
    }


def claim(limit: int = 1, interval: float | None = None) -> list[dict[str, Any]]:
    """Hand the gateway up to `limit` queued messages, most urgent first ("sending").

    An offer SMS whose offer closed while it waited is cancelled instead: the modem's time goes
    to offers still open. A message claimed long ago and never reported goes back in line.
    """
    limit = max(0, min(int(limit), 20))
    with db.writing():
        now = clock.now()
        _note_gateway(now, interval)
        stale = now - dt.timedelta(seconds=STALE_SENDING_SECONDS)
        SmsMessage.update(status=SmsStatus.QUEUED).where(
            (SmsMessage.direction == SmsDirection.OUT)
            & (SmsMessage.status == SmsStatus.SENDING)
            & (SmsMessage.claimed_at < stale)
        ).execute()
        claimed: list[dict[str, Any]] = []
        while len(claimed) < limit:
            rows = list(
                SmsMessage.select()
                .where(
                    (SmsMessage.direction == SmsDirection.OUT)
                    & (SmsMessage.status == SmsStatus.QUEUED)
                    & (SmsMessage.not_before.is_null() | (SmsMessage.not_before <= now))
                )
                .order_by(_urgency(now), SmsMessage.id)
                .limit(limit - len(claimed))
            )
            if not rows:
                break
            for row in rows:
                if _carries_closed_offer(row, now):
                    _set(row, status=SmsStatus.CANCELLED, error="派单已结束，未发送")
                    continue
                _set(row, status=SmsStatus.SENDING, attempts=row.attempts + 1, claimed_at=now)
                claimed.append(_outgoing(row))
    return claimed


def _urgency(now: dt.datetime) -> Any:
    """Sort key: the priority, except that an overdue code or notice ranks with the offers."""
    overdue = [
        (
            (SmsMessage.priority == priority)
            & (SmsMessage.created_at <= now - dt.timedelta(seconds=s)),
            int(SmsPriority.OFFER),
        )
        for priority, s in OVERDUE_SECONDS.items()
    ]
    return peewee.Case(None, overdue, SmsMessage.priority)


def _carries_closed_offer(row: SmsMessage, now: dt.datetime) -> bool:
    """An offer text whose offer can no longer be taken: not worth the modem's time."""
    if row.purpose != SmsPurpose.OFFER or row.offer_id is None:
        return False
    return not _offer_open(row.offer_id, now)


def _offer_open(offer_id: str, now: dt.datetime) -> bool:
    return (
        Offer.select(Offer.id)
        .where((Offer.id == offer_id) & (Offer.status == OfferStatus.PENDING))
        .where(Offer.expires_at > now)
        .exists()
    )


def _set(row: SmsMessage, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(row, name, value)
    SmsMessage.update(**changes).where(SmsMessage.id == row.id).execute()


def record_result(
    message_id: int,
    *,
    sent: bool,
    references: list[int] | None = None,
    error: str = "",
    retryable: bool = True,
) -> SmsMessage:
    """The gateway's report on one claimed message: sent, or failed (tried again while that
    still helps, else failed for good with its reason)."""
    with db.writing():
        now = clock.now()
        row = SmsMessage.get_or_none(
            (SmsMessage.id == message_id) & (SmsMessage.direction == SmsDirection.OUT)
        )
        if row is None:
            raise NotFound("短信", "SMS message")
        if row.status in (SmsStatus.SENT, SmsStatus.FAILED, SmsStatus.CANCELLED):
            return row  # a repeated report: the first one counted
        if sent:
            _set(row, status=SmsStatus.SENT, sent_at=now, references=list(references or []))
            return row
        reason = (error or "发送失败")[:200]
        worth_retrying = retryable and row.attempts < MAX_ATTEMPTS
        if worth_retrying:
            worth_retrying = not _carries_closed_offer(row, now)
        if worth_retrying:
            delay = RETRY_SECONDS.get(SmsPriority(row.priority), 60)
            _set(
                row,
                status=SmsStatus.QUEUED,
                error=reason,
                not_before=now + dt.timedelta(seconds=delay),
            )
        else:
            _set(row, status=SmsStatus.FAILED, error=reason)
    return row


# ---------------------------------------------------------------- the console


def queue_overview(limit: int = 50) -> dict[str, list[SmsMessage]]:
    """What the console shows: waiting (by priority), sending, recently sent, failed, and
    replies received."""
    out = SmsMessage.direction == SmsDirection.OUT

    def newest(condition: Any) -> list[SmsMessage]:
        query = SmsMessage.select().where(condition).order_by(SmsMessage.id.desc())
        return list(query.limit(limit))

    waiting = (
        SmsMessage.select()
        .where(out & (SmsMessage.status == SmsStatus.QUEUED))
        .order_by(SmsMessage.priority, SmsMessage.id)
        .limit(limit)
    )
    return {
        "waiting": list(waiting),
        "sending": newest(out & (SmsMessage.status == SmsStatus.SENDING)),
        "sent": newest(out & (SmsMessage.status == SmsStatus.SENT)),
        "failed": newest(out & SmsMessage.status.in_((SmsStatus.FAILED, SmsStatus.CANCELLED))),
        "received": newest(SmsMessage.direction == SmsDirection.IN),
    }


def counts() -> dict[str, int]:
    """Outbox messages by status."""
    query = (
        SmsMessage.select(SmsMessage.status, peewee.fn.COUNT(SmsMessage.id).alias("n"))
        .where(SmsMessage.direction == SmsDirection.OUT)
        .group_by(SmsMessage.status)
    )
    return {row.status: row.n for row in query}
