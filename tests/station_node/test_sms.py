"""SMS at the station: the outbox and its priorities, offers texted to workers reachable only by
SMS (paced to the modem), replies that take or turn down an offer, late replies, the gateway's
API and the console page. Real SQLite files; the clock is always pinned."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from dispatch_conftest import T0, add_job, add_worker, clock_at_t0, engine_app
from flask import Flask
from web_helpers import ADMIN_PASSWORD, Api, console_client, create_staff

from kuaigong import clock
from kuaigong.errors import InvalidInput
from kuaigong.states import AssignmentStatus, OfferStatus
from station_node import db
from station_node.matching import CascadeJob, CascadeSettings, plan
from station_node.matching.cascade import PHONE, SMS, STATION, UNREACHABLE
from station_node.models import Assignment, Job, Offer, SmsMessage, Staff, Worker
from station_node.services import devices, dispatch, sms, sms_inbox
from station_node.sms_states import SmsOutcome, SmsPriority, SmsStatus

__all__ = ["clock_at_t0", "engine_app"]  # fixtures used by name

NOW = dt.datetime(2025, 5, 6, 1, 0, 0)


def outbox(purpose: str | None = None) -> list[SmsMessage]:
    query = SmsMessage.select().where(SmsMessage.direction == "out").order_by(SmsMessage.id)
    if purpose:
        query = query.where(SmsMessage.purpose == purpose)
    return list(query)


def offer_to(worker: Worker) -> Offer:
    return Offer.select().where(Offer.worker == worker.id).order_by(Offer.sent_at.desc()).get()


def gateway_polling(interval: float = 4.0) -> None:
    """A gateway asked for work just now (claims nothing: the queue is empty or it is a probe)."""
    sms.claim(0, interval)


# ---------------------------------------------------------------- texts


def test_segments_follow_the_gsm_alphabet_and_ucs2() -> None:
    assert sms.segments("a" * 160) == 1 and sms.segments("a" * 161) == 2
    assert sms.segments("a" * 306) == 2 and sms.segments("a" * 307) == 3
    assert sms.segments("€" * 80) == 1 and sms.segments("€" * 81) == 2  # escape: two septets
    assert sms.segments("快" * 70) == 1 and sms.segments("快" * 71) == 2
    assert sms.segments("快" * 134) == 2 and sms.segments("快" * 135) == 3


def test_offer_text_says_what_where_when_pay_and_how_to_answer(clock_at_t0) -> None:
    job = add_job(start=False, title="小区保洁")
    text = sms.offer_text(job, T0 + dt.timedelta(seconds=44))
    assert text.startswith("【快工】小区保洁，5月7日08:00开工，团结湖社区团结湖北里3号楼")
    assert "25元/小时" in text
    assert text.endswith("请于09:00:44前回复1接单，回复2放弃")
    assert sms.segments(text) <= 2
    long = add_job(start=False, title="长" * 60, address="很长的地址" * 20)
    shortened = sms.offer_text(long, T0)
    assert sms.segments(shortened) <= 2 and "…" in shortened
    assert shortened.endswith("回复1接单，回复2放弃")


def test_queue_message_refuses_what_cannot_be_sent(clock_at_t0) -> None:
    with pytest.raises(InvalidInput) as no_number:
        sms.queue_message(" ", "你好", priority=SmsPriority.NOTICE, purpose="notice")
    assert no_number.value.fields[0].field == "mobile"
    with pytest.raises(InvalidInput) as emoji:
        sms.queue_message("13800000000", "好😀", priority=SmsPriority.NOTICE, purpose="notice")
    assert "表情" in emoji.value.message_zh
    assert outbox() == []


# ---------------------------------------------------------------- the pure plan


def _job(headcount: int = 3) -> CascadeJob:
    return CascadeJob("j", "offer", "open", headcount, 0, NOW)


PACED = CascadeSettings(
    sms_send_interval_seconds=5, sms_answer_seconds=40, sms_max_queue_seconds=20
)


def test_plan_reaches_workers_by_channel_and_paces_sms_to_the_modem() -> None:
    channels = {"a": SMS, "b": SMS, "c": STATION, "d": UNREACHABLE, "e": PHONE}
    step = plan(_job(3), [], list(channels), NOW, PACED, channels=channels, sms_queued=2)
    # 2 texts already wait: a goes 3rd (15 s), b 4th (20 s); the unreachable d is passed over.
    assert step.offer_to == ("a", "b", "c")
    assert step.deadline("a") == NOW + dt.timedelta(seconds=15 + 40)
    assert step.deadline("b") == NOW + dt.timedelta(seconds=20 + 40)
    assert step.deadline("c") == NOW + dt.timedelta(seconds=20) == step.expires_at
    full = plan(_job(3), [], list(channels), NOW, PACED, channels=channels, sms_queued=4)
    assert full.offer_to == ("c", "e") and full.by_sms == ()  # a 5th text would wait 25 s


def test_a_job_waiting_only_for_the_modem_is_not_escalated_as_exhausted() -> None:
    channels = {"a": SMS, "b": UNREACHABLE}
    waiting = plan(_job(1), [], ["a", "b"], NOW, PACED, channels=channels, sms_queued=4)
    assert waiting.offer_to == () and not waiting.escalate
    nobody = plan(_job(1), [], ["b"], NOW, PACED, channels=channels, sms_queued=4)
    assert nobody.offer_to == () and nobody.escalate  # no one left who can be told


def test_plan_without_channels_offers_in_rank_order_as_before() -> None:
    step = plan(_job(2), [], ["a", "b", "c"], NOW, PACED)
    assert step.offer_to == ("a", "b") and step.by_sms == ()


# ---------------------------------------------------------------- dispatch


def test_an_sms_only_worker_gets_the_offer_as_an_sms_in_the_same_transaction(clock_at_t0):
    texted = add_worker("短信")
    present = add_worker("在站", present=True)
    job = add_job(headcount=2)
    assert {o.worker_id for o in Offer.select()} == {texted.id, present.id}
    [message] = outbox()
    assert message.worker_id == texted.id and message.offer_id == offer_to(texted).id
    assert message.mobile == texted.mobile and message.priority == SmsPriority.OFFER
    assert message.status == SmsStatus.QUEUED and "回复1接单" in message.text
    assert job.title in message.text
    # Without a gateway polling, offers keep the usual timeout (the text waits in the outbox).
    assert offer_to(texted).expires_at == T0 + dt.timedelta(seconds=20)


def test_with_a_gateway_sms_offers_wait_for_the_modem_and_pass_to_reachable_workers(
    clock_at_t0, engine_app: Flask
):
    engine_app.config.update(SMS_ANSWER_SECONDS=30, SMS_MAX_QUEUE_SECONDS=8)
    gateway_polling(4.0)
    texted = [add_worker(f"短信{i}") for i in range(3)]
    present = add_worker("在站", present=True)  # ranked last: registered last, equal points
    add_job(headcount=4)
    offers = {o.worker_id: o for o in Offer.select()}
    # Two texts fit in 8 s of queue (4 s each); the third SMS-only worker waits for the queue.
    assert set(offers) == {texted[0].id, texted[1].id, present.id}
    assert offers[texted[0].id].expires_at == T0 + dt.timedelta(seconds=4 + 30)
    assert offers[texted[1].id].expires_at == T0 + dt.timedelta(seconds=8 + 30)
    assert offers[present.id].expires_at == T0 + dt.timedelta(seconds=20)
    assert len(outbox("offer")) == 2
    # The modem takes one: the queue has room again and the next beat texts the third worker.
    [claimed] = sms.claim(1, 4.0)
    sms.record_result(claimed["id"], sent=True, references=[7])
    clock_at_t0.advance(1)
    dispatch.tick()
    assert offer_to(texted[2]).status == OfferStatus.PENDING
    assert len(outbox("offer")) == 3


# ---------------------------------------------------------------- the gateway's queue


def test_claim_hands_out_offers_first_and_cancels_texts_of_closed_offers(clock_at_t0):
    notice = sms.queue_message("13900000001", "通知", priority=SmsPriority.NOTICE, purpose="notice")
    code = sms.queue_message(
        "13900000002", "验证码 1234", priority=SmsPriority.CODE, purpose="code"
    )
    worker = add_worker("短信")
    add_job(headcount=1)
    offer_sms = outbox("offer")[0]
    claimed = sms.claim(2, 4.0)
    assert [m["id"] for m in claimed] == [offer_sms.id, code.id]
    assert claimed[0]["mobile"] == worker.mobile and claimed[0]["attempts"] == 1
    assert SmsMessage.get_by_id(offer_sms.id).status == SmsStatus.SENDING
    assert [m["id"] for m in sms.claim(5)] == [notice.id]
    assert sms.claim(5) == []
    # An offer that closes while its text waits: the text is never sent.
    other = add_worker("又一个")
    job2 = add_job(headcount=1)
    text = SmsMessage.get(SmsMessage.worker == other.id)
    dispatch.assign(job2.id, add_worker("现场", present=True).id, None)
    assert sms.claim(5) == []
    assert SmsMessage.get_by_id(text.id).status == SmsStatus.CANCELLED


def test_a_code_or_notice_waiting_too_long_goes_before_new_offers(clock_at_t0):
    notice = sms.queue_message(
        "13900000001", "接单成功", priority=SmsPriority.NOTICE, purpose="notice"
    )
    code = sms.queue_message(
        "13900000002", "验证码 1234", priority=SmsPriority.CODE, purpose="code"
    )
    clock_at_t0.advance(sms.OVERDUE_SECONDS[SmsPriority.CODE])
    offers = [
        sms.queue_message(f"1390000001{i}", "派单", priority=SmsPriority.OFFER, purpose="offer")
        for i in range(3)
    ]
    assert [m["id"] for m in sms.claim(2)] == [code.id, offers[0].id]
    clock_at_t0.advance(sms.OVERDUE_SECONDS[SmsPriority.NOTICE])
    assert [m["id"] for m in sms.claim(2)] == [notice.id, offers[1].id]


def test_results_retry_a_failed_send_then_give_up_with_the_reason(clock_at_t0):
    code = sms.queue_message(
        "13900000002", "验证码 1234", priority=SmsPriority.CODE, purpose="code"
    )
    for attempt in range(1, sms.MAX_ATTEMPTS + 1):
        [claimed] = sms.claim(1)
        assert claimed["attempts"] == attempt
        row = sms.record_result(code.id, sent=False, error="+CMS ERROR: 500 未知错误")
        if attempt < sms.MAX_ATTEMPTS:
            assert row.status == SmsStatus.QUEUED and sms.claim(1) == []  # waits before retrying
            clock_at_t0.advance(sms.RETRY_SECONDS[SmsPriority.CODE])
    final = SmsMessage.get_by_id(code.id)
    assert final.status == SmsStatus.FAILED and final.error == "+CMS ERROR: 500 未知错误"
    sent = sms.queue_message("13900000003", "你好", priority=SmsPriority.NOTICE, purpose="notice")
    sms.claim(1)
    assert sms.record_result(sent.id, sent=True, references=[3, 4]).status == SmsStatus.SENT
    assert SmsMessage.get_by_id(sent.id).references == [3, 4]
    not_retryable = sms.queue_message("139", "你好", priority=SmsPriority.NOTICE, purpose="notice")
    sms.claim(1)
    assert sms.record_result(not_retryable.id, sent=False, retryable=False).status == "failed"


# ---------------------------------------------------------------- replies


def _texted_offer(clock_at_t0) -> tuple[Worker, Job, Offer]:
    worker = add_worker("短信")
    job = add_job(headcount=1)
    return worker, job, offer_to(worker)


@pytest.mark.parametrize("reply", ["1", "１", "接单", " 接 ", "1。"])
def test_a_reply_of_1_takes_the_offer(clock_at_t0, reply: str) -> None:
    worker, job, offer = _texted_offer(clock_at_t0)
    clock_at_t0.advance(5)
    row = sms_inbox.receive("+86" + worker.mobile, reply, T0)
    assert row.status == SmsStatus.HANDLED and row.outcome == SmsOutcome.ACCEPTED
    assert row.worker_id == worker.id and row.offer_id == offer.id
    assignment = Assignment.get(Assignment.job == job.id)
    assert assignment.worker_id == worker.id and assignment.status == AssignmentStatus.CONFIRMED
    assert Offer.get_by_id(offer.id).status == OfferStatus.ACCEPTED
    [answer] = outbox("notice")
    assert answer.text.startswith("【快工】接单成功：小区保洁")


def test_a_reply_of_2_declines_and_the_next_worker_is_offered(clock_at_t0) -> None:
    worker = add_worker("短信")
    second = add_worker("下一个")  # ranked after: registered later, equal points
    add_job(headcount=1)
    offer = offer_to(worker)
    row = sms_inbox.receive(worker.mobile, "放弃")
    assert row.outcome == SmsOutcome.DECLINED
    assert Offer.get_by_id(offer.id).status == OfferStatus.DECLINED
    assert offer_to(second).status == OfferStatus.PENDING
    assert outbox("reply") == []  # a decline needs no answer


def test_a_late_reply_is_told_the_place_is_gone(clock_at_t0) -> None:
    worker, job, offer = _texted_offer(clock_at_t0)
    clock_at_t0.advance(21)
    dispatch.tick()
    row = sms_inbox.receive(worker.mobile, "1")
    assert row.outcome == SmsOutcome.LATE
    assert not Assignment.select().exists()
    [answer] = outbox("reply")
    assert "名额已满或已过期" in answer.text and answer.mobile == worker.mobile
    assert answer.priority == SmsPriority.NOTICE


def test_a_reply_to_a_filled_job_is_told_too(clock_at_t0) -> None:
    worker, job, offer = _texted_offer(clock_at_t0)
    dispatch.assign(job.id, add_worker("现场", present=True).id, None)
    assert sms_inbox.receive(worker.mobile, "接").outcome == SmsOutcome.LATE
    assert "名额已满或已过期" in outbox("reply")[0].text


def test_unknown_numbers_are_logged_and_never_answered(clock_at_t0) -> None:
    row = sms_inbox.receive("10086", "您的话费余额为 12 元")
    assert row.outcome == SmsOutcome.UNKNOWN_NUMBER and row.status == SmsStatus.HANDLED
    assert outbox() == []


def test_anything_else_gets_help_but_never_twice_in_a_row(clock_at_t0) -> None:
    worker = add_worker("短信")
    first = sms_inbox.receive(worker.mobile, "你好，请问有活吗")
    assert first.outcome == SmsOutcome.HELP
    [help_text] = outbox("reply")
    assert "回复1接单" in help_text.text
    # An automatic reply to our help text is not answered again: no SMS ping-pong.
    again = sms_inbox.receive(worker.mobile, "【自动回复】我正在开会")
    assert again.outcome == SmsOutcome.IGNORED and len(outbox("reply")) == 1


def test_an_incoming_message_is_handled_once(clock_at_t0) -> None:
    worker, job, offer = _texted_offer(clock_at_t0)
    row = sms_inbox.receive(worker.mobile, "1")
    assert sms_inbox.handle(row).outcome == SmsOutcome.ACCEPTED
    assert Assignment.select().count() == 1 and len(outbox("notice")) == 1


# ---------------------------------------------------------------- the API and the console


@pytest.fixture
def web(tmp_path) -> Any:
    from web_helpers import make_web_app

    app = make_web_app(tmp_path)
    clock.install(app, clock.ManualClock(T0))
    token = create_staff(app, "admin", "admin", ADMIN_PASSWORD)
    with app.app_context(), db.database.connection_context():
        staff = Staff.get(Staff.username == "admin")
        shown = devices.start_pairing(staff)
        _, device_token = devices.pair(shown.code, "sms", "短信网关")
    client = app.test_client()
    return app, Api(client, device_token), Api(client, token)


def test_the_gateway_claims_reports_and_hands_in_replies(web) -> None:
    app, gateway, staff_api = web
    with app.app_context(), db.database.connection_context():
        worker = add_worker("短信")
        add_job(headcount=1)
        sms.queue_message("13900000009", "通知", priority=SmsPriority.NOTICE, purpose="notice")
    claimed = gateway.post("/sms/claim", json={"limit": 1, "interval": 4})
    assert claimed.status_code == 200, claimed.get_json()
    [message] = claimed.get_json()["messages"]
    assert message["purpose"] == "offer" and message["mobile"] == worker.mobile
    assert "回复1接单" in message["text"]
    done = gateway.post(f"/sms/{message['id']}/result", json={"sent": True, "references": [1]})
    assert done.get_json()["message"]["status"] == "sent"
    reply = gateway.post(
        "/sms/incoming",
        json={"number": worker.mobile, "text": "1", "received_at": "2025-05-06T09:00:10+08:00"},
    )
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["message"]["outcome"] == "accepted"
    assert reply.get_json()["message"]["received_at"] == "2025-05-06T01:00:10Z"
    with app.app_context(), db.database.connection_context():
        assert Assignment.select().where(Assignment.worker == worker.id).exists()
        assert sms.gateway_interval() == 4.0


def test_the_gateway_api_refuses_other_callers_and_bad_input(web) -> None:
    app, gateway, staff_api = web
    assert staff_api.post("/sms/claim", json={}).status_code == 401
    assert gateway.as_(None).post("/sms/claim", json={}).status_code == 401
    bad = gateway.post("/sms/claim", json={"limit": "all"})
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"][0]["field"] == "limit"
    wrong = gateway.post("/sms/1/result", json={"sent": "yes", "references": [-1]})
    fields = {f["field"] for f in wrong.get_json()["error"]["fields"]}
    assert wrong.status_code == 422 and fields == {"sent", "references"}
    assert gateway.post("/sms/999/result", json={"sent": True}).status_code == 404
    empty = gateway.post("/sms/incoming", json={"number": "", "received_at": "昨天"})
    fields = {f["field"] for f in empty.get_json()["error"]["fields"]}
    assert empty.status_code == 422 and fields == {"number", "text", "received_at"}
    with app.app_context(), db.database.connection_context():
        assert not SmsMessage.select().exists()


def test_the_console_shows_the_queue_and_the_replies(web) -> None:
    app, gateway, staff_api = web
    with app.app_context(), db.database.connection_context():
        worker = add_worker("王短信")
        add_job(headcount=1)
        code = sms.queue_message(
            "13900000009", "验证码 5678", priority=SmsPriority.CODE, purpose="code"
        )
        sms.claim(1, 4.0)
        sms.record_result(1, sent=False, error="信号太弱", retryable=False)
        sms_inbox.receive("10086", "余额提醒")
    client = app.test_client()
    page = client.get("/console/sms")
    assert page.status_code == 302  # staff only
    console = console_client(app)
    html = console.get("/console/sms").get_data(as_text=True)
    assert "短信网关在线，每 4.0 秒发送一条" in html
    assert "验证码 5678" in html and "信号太弱" in html and "王短信" in html
    assert worker.mobile not in html and worker.mobile[:3] + "****" in html
    assert "陌生号码，未回复" in html and "余额提醒" in html
    assert 'href="/console/sms"' in html and code.status == SmsStatus.QUEUED


def test_the_console_page_in_english(web) -> None:
    app, gateway, staff_api = web
    with app.app_context(), db.database.connection_context():
        sms_inbox.receive("10086", "余额提醒")
    console = console_client(app)
    console.get("/lang/en?next=/console/sms")
    html = console.get("/console/sms").get_data(as_text=True)
    assert "SMS gateway not connected" in html and "Unknown number, not answered" in html
    assert "Replies received" in html
