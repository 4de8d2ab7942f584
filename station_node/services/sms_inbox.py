"""What an SMS from a worker does: "1" takes the offer the station last texted them, "2" turns
it down, a late "1" is told the place is gone, anything else gets a short help text.

Each incoming message is stored first, in its own transaction, so it is never lost; handling it
(the dispatch answer, the outcome, the automatic answer) is one transaction after that.
Numbers no worker has are logged and never answered, and the station never answers twice in a
row without a message of its own in between, so two machines cannot text each other forever.
"""

from __future__ import annotations

import datetime as dt
import unicodedata

from kuaigong import clock
from kuaigong.errors import Conflict, FieldError, InvalidInput, KuaigongError
from kuaigong.states import OfferStatus
from station_node import db
from station_node.models import Offer, SmsMessage, Worker
from station_node.services import dispatch, sms
from station_node.sms_states import SmsDirection, SmsOutcome, SmsPriority, SmsPurpose, SmsStatus

ACCEPT_WORDS = frozenset({"1", "接", "接单", "接受", "要", "好", "同意", "是", "y", "yes", "ok"})
DECLINE_WORDS = frozenset({"2", "放弃", "不", "不要", "不接", "拒绝", "否", "n", "no"})
_PUNCTUATION = " \t\r\n.,!?;:~。，！？；：、…“”\"'"

LATE_TEXT = sms.PREFIX + "名额已满或已过期，感谢您的回复。请留意下一条派单。"
HELP_TEXT = sms.PREFIX + "收到派单短信后，回复1接单，回复2放弃。其他问题请到驿站咨询。"
MAX_INCOMING_CHARS = 1000


def meaning(text: str) -> str | None:
    """ "accept", "decline" or None for a reply, forgiving full-width digits and punctuation."""
    word = unicodedata.normalize("NFKC", text or "").strip(_PUNCTUATION).lower()
    if word in ACCEPT_WORDS:
        return "accept"
    if word in DECLINE_WORDS:
        return "decline"
    return None


def receive(mobile: str, text: str, received_at: dt.datetime | None = None) -> SmsMessage:
    """Store an SMS the gateway received, then act on it; returns the stored message."""
    problems = []
    if not (mobile or "").strip():
        problems.append(FieldError("number", "required", "缺少来信号码", "number is required"))
    if text is None or len(text) > MAX_INCOMING_CHARS:
        problems.append(
            FieldError("text", "invalid", "短信内容缺失或过长", "text is missing or too long")
        )
    if problems:
        raise InvalidInput(problems)
    with db.writing():
        worker = _worker_for(mobile)
        row = SmsMessage.create(
            direction=SmsDirection.IN,
            mobile=mobile.strip()[:32],
            text=text,
            priority=int(SmsPriority.NOTICE),
            purpose=SmsPurpose.REPLY,
            worker=worker.id if worker else None,
            status=SmsStatus.RECEIVED,
            created_at=clock.now(),
            sent_at=received_at,
        )
    return handle(row)


def handle(row: SmsMessage) -> SmsMessage:
    """Act on one stored incoming message (once: a handled one is left alone)."""
    with db.writing():
        row = SmsMessage.get_by_id(row.id)
        if row.status != SmsStatus.RECEIVED:
            return row
        outcome, offer_id, answer = _act(row)
        if answer and _answered_last(row.mobile):
            outcome, answer = SmsOutcome.IGNORED, None
        if answer:
            sms.queue_message(
                row.mobile,
                answer,
                priority=SmsPriority.NOTICE,
                # A confirmation answers a real "1" (no loop can start there); help and
                # "too late" texts are the automatic answers the loop guard looks for.
                purpose=SmsPurpose.NOTICE if outcome == SmsOutcome.ACCEPTED else SmsPurpose.REPLY,
                worker_id=row.worker_id,
                offer_id=offer_id,
            )
        changes = {"status": SmsStatus.HANDLED, "outcome": outcome, "offer": offer_id}
        SmsMessage.update(**changes).where(SmsMessage.id == row.id).execute()
        row.status, row.outcome, row.offer = SmsStatus.HANDLED, outcome, offer_id
    return row


def _worker_for(mobile: str) -> Worker | None:
    number = sms.normalise_mobile(mobile)
    if len(number) != 11:
        return None
    query = Worker.select().where(Worker.mobile == number)
    return query.order_by(Worker.updated_at.desc()).first()


def _newest_sms_offer(worker_id: str) -> Offer | None:
    """The offer in the last offer SMS the station queued for this worker."""
    message = (
        SmsMessage.select(SmsMessage.offer)
        .where(
            (SmsMessage.direction == SmsDirection.OUT)
            & (SmsMessage.purpose == SmsPurpose.OFFER)
            & (SmsMessage.worker == worker_id)
            & SmsMessage.offer.is_null(False)
        )
        .order_by(SmsMessage.id.desc())
        .first()
    )
    return None if message is None else Offer.get_or_none(Offer.id == message.offer_id)


def _act(row: SmsMessage) -> tuple[SmsOutcome, str | None, str | None]:
    """(outcome, offer answered, automatic answer or None)."""
    if row.worker_id is None:
        return SmsOutcome.UNKNOWN_NUMBER, None, None
    wants = meaning(row.text)
    offer = _newest_sms_offer(row.worker_id)
    if wants is None or offer is None:
        return SmsOutcome.HELP, offer.id if offer else None, HELP_TEXT
    now = clock.now()
    open_now = offer.status == OfferStatus.PENDING and offer.expires_at > now
    if wants == "decline":
        if open_now:
            dispatch.decline_offer(offer.id, row.worker_id, None)
            return SmsOutcome.DECLINED, offer.id, None
        return SmsOutcome.IGNORED, offer.id, None  # nothing to turn down any more
    if offer.status == OfferStatus.ACCEPTED:
        return SmsOutcome.IGNORED, offer.id, None  # a repeated "1": they have the place
    if not open_now:
        return SmsOutcome.LATE, offer.id, LATE_TEXT
    try:
        dispatch.accept_offer(offer.id, row.worker_id, None)
    except Conflict:
        return SmsOutcome.LATE, offer.id, LATE_TEXT
    except KuaigongError:
        return SmsOutcome.HELP, offer.id, HELP_TEXT
    return SmsOutcome.ACCEPTED, offer.id, _accepted_text(offer)


def _accepted_text(offer: Offer) -> str:
    job = offer.job
    title, place = sms.clip(job.title, 20), sms.clip(job.community + job.address, 30)
    return sms.PREFIX + f"接单成功：{title}，地点{place}。请按时到岗。"


def _answered_last(mobile: str) -> bool:
    """Whether the station's last message to this number was itself an automatic answer."""
    last = (
        SmsMessage.select(SmsMessage.purpose)
        .where((SmsMessage.direction == SmsDirection.OUT) & (SmsMessage.mobile == mobile))
        .order_by(SmsMessage.id.desc())
        .first()
    )
    return last is not None and last.purpose == SmsPurpose.REPLY
