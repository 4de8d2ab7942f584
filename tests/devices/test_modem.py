"""The GSM modem driver and the sending loop against the simulated modem on a real pty."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from devices.modem import (
    GsmModem,
    InvalidMessage,
    ModemCommandError,
    ModemDisconnected,
    ModemNotReady,
    ModemTimeout,
    at,
)
from devices.modem.pdu import IncomingSms, Reassembler, decode, encode_deliver, encode_submit
from devices.simulated.modem import CHINA, SimulatedModem
from devices.sms_sender import Outcome, Priority, SmsSender

OFFER = "【快工】保洁 明早8点 150元/天，回复1接单，回复2放弃"
LONG = ("【快工】通知：明天上午八点在驿站门口集合，带好身份证和手套，中午管饭，工钱当天结清。" * 5)[
    :200
]
PHONE = "+8613800138000"
NOW = datetime(2026, 3, 5, 7, 30, tzinfo=CHINA)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimulatedModem]:
    modem = SimulatedModem(str(tmp_path), clock=lambda: NOW)
    modem.start()
    try:
        yield modem
    finally:
        modem.stop()


@pytest.fixture
def modem(sim: SimulatedModem) -> Iterator[GsmModem]:
    driver = GsmModem(sim.path, timeout=0.5, send_timeout=2, reconnect_delays=(0.05, 0.1, 0.2))
    driver.connect()
    try:
        yield driver
    finally:
        driver.close()


@pytest.fixture
def outcomes() -> queue.Queue[tuple[float, Outcome]]:
    return queue.Queue()


def _sender(
    modem: GsmModem, outcomes: queue.Queue[tuple[float, Outcome]], **kw: object
) -> SmsSender:
    options: dict = {"interval": 0.05, "retry_delays": (0.05,), **kw}
    return SmsSender(modem, lambda o: outcomes.put((time.monotonic(), o)), **options)


def _wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


# Pure pieces, byte for byte.


def test_gsm7_and_ucs2_submit_pdus_byte_for_byte() -> None:
    # SMSC from the SIM, SMS-SUBMIT, ref 5, national number, GSM-7 "hi" packed into E8 34.
    [pdu] = encode_submit("13800138000", "hi", reference=5)
    assert pdu.hex == "0001050BA13108108300F0000002E834"
    assert pdu.tpdu_length == 15
    # UCS2 (DCS 08): 快 is U+5FEB.
    [pdu] = encode_submit(PHONE, "快", reference=6)
    assert pdu.hex == "0001060D91683108108300F00008025FEB"


def test_pdus_carry_chinese_and_long_texts_both_ways() -> None:
    for text in (OFFER, LONG, "1", "a{€}" * 60):
        parts = encode_submit(PHONE, text, reference=9)
        joined = Reassembler()
        wholes = [joined.add(decode(p.hex)) for p in parts]
        assert wholes[-1] is not None and wholes[-1].text == text
        delivered = [decode(h) for h in encode_deliver(PHONE, text, NOW, reference=9)]
        joined = Reassembler()
        wholes = [joined.add(p) for p in delivered]
        assert wholes[-1] is not None
        assert (wholes[-1].number, wholes[-1].text, wholes[-1].sent_at) == (PHONE, text, NOW)
    assert len(encode_submit(PHONE, LONG, reference=1)) == 3  # 67 characters a part


_GSM7_TEXT = st.text(alphabet="abcXYZ 0123@$\n{}[]~^|\\€èé", min_size=1, max_size=500)
_BMP_TEXT = st.text(
    alphabet=st.characters(max_codepoint=0xFFFF, blacklist_categories=("Cs", "Cc")),
    max_size=600,
).filter(bool)


@settings(max_examples=100, deadline=None)
@given(st.one_of(_GSM7_TEXT, _BMP_TEXT))
@example("000000000[[[@")  # last septet "@" ending an octet exactly
def test_any_text_survives_submit_and_deliver_encoding(text: str) -> None:
    parts = encode_submit(PHONE, text, reference=3)
    joined = Reassembler()
    assert [joined.add(decode(p.hex)) for p in parts][-1] == IncomingSms(PHONE, text, None)
    joined = Reassembler()
    wholes = [joined.add(decode(h)) for h in encode_deliver(PHONE, text + "😀", NOW, 7)]
    assert wholes[-1] is not None and wholes[-1].text == text + "😀"


def test_bad_numbers_and_texts_are_refused_before_the_modem() -> None:
    with pytest.raises(InvalidMessage, match="phone number"):
        encode_submit("138-0013", "hi", reference=1)
    with pytest.raises(InvalidMessage) as excinfo:
        encode_submit(PHONE, "好的👍", reference=1)
    assert "表情" in excinfo.value.message_zh


def test_at_replies_are_parsed() -> None:
    assert at.new_message_index('+CMTI: "SM",12') == 12
    assert at.error_code("+CMS ERROR: 500") == (True, 500)
    assert at.error_code("ERROR") == (True, None)
    assert at.number_field(["+CREG: 0,5"], "+CREG", 1) == 5
    [stored] = at.parse_list(["+CMGL: 3,0,,24", "0791AB"])
    assert (stored.index, stored.status, stored.pdu) == (3, 0, "0791AB")


# The driver on a real pty.


def test_chinese_offer_goes_out_intact(sim: SimulatedModem, modem: GsmModem) -> None:
    references = modem.send("13800138000", OFFER)
    [sent] = sim.wait_for_sent(1, timeout=2)
    assert (sent.number, sent.text, list(sent.references)) == ("13800138000", OFFER, references)


def test_long_chinese_text_goes_out_in_parts_and_is_reassembled(
    sim: SimulatedModem, modem: GsmModem
) -> None:
    assert len(LONG) == 200
    references = modem.send(PHONE, LONG)
    assert len(references) == 3 and len(set(references)) == 3
    [sent] = sim.wait_for_sent(1, timeout=2)
    assert sent.text == LONG and list(sent.references) == references


def test_chinese_reply_arrives_intact_and_long_one_reassembled(
    sim: SimulatedModem, modem: GsmModem
) -> None:
    sim.deliver(PHONE, OFFER)
    received = modem.incoming(timeout=2)
    assert received is not None
    assert (received.number, received.text, received.sent_at) == (PHONE, OFFER, NOW)
    assert len(sim.deliver(PHONE, LONG)) == 3
    received = modem.incoming(timeout=2)
    assert received is not None and received.text == LONG
    assert sim.wait_until_stored(0, timeout=2) == []


def test_reply_1_is_read_then_deleted_from_the_sim(sim: SimulatedModem) -> None:
    replies: queue.Queue = queue.Queue()
    driver = GsmModem(sim.path, timeout=0.5, on_message=replies.put)
    driver.connect()
    try:
        _wait_for(lambda: "AT+CMGL=4" in sim.commands)  # the sweep on connecting has listed
        [index] = sim.deliver("13912345678", "1")
        received = replies.get(timeout=2)
        assert (received.number, received.text) == ("13912345678", "1")
        assert sim.wait_until_stored(0, timeout=2) == []
        commands = sim.commands
        read = commands.index(f"AT+CMGR={index}")
        assert f"AT+CMGD={index}" in commands[read:]
    finally:
        driver.close()


def test_cms_error_names_the_failure_and_the_modem_stays_usable(
    sim: SimulatedModem, modem: GsmModem
) -> None:
    sim.fail_next_send(331)
    with pytest.raises(ModemCommandError) as excinfo:
        modem.send(PHONE, OFFER)
    assert excinfo.value.cms == 331 and "没有网络信号" in excinfo.value.message_zh
    assert excinfo.value.retryable
    assert modem.send(PHONE, OFFER)
    assert [s.text for s in sim.wait_for_sent(1, timeout=2)] == [OFFER]


def test_silent_modem_times_out_instead_of_hanging(sim: SimulatedModem, modem: GsmModem) -> None:
    sim.answering = False
    started = time.monotonic()
    with pytest.raises(ModemTimeout) as excinfo:
        modem.send(PHONE, OFFER)
    assert time.monotonic() - started < 1.5
    assert "没有回应" in excinfo.value.message_zh
    sim.deliver("13912345678", "2")  # announced to nobody while the modem is silent
    sim.answering = True
    assert modem.send(PHONE, "ok")
    assert [s.text for s in sim.wait_for_sent(1, timeout=2)] == ["ok"]
    received = modem.incoming(timeout=2)  # found by listing storage after the silence
    assert received is not None and received.text == "2"


def test_modem_plugged_in_after_start_is_picked_up(sim: SimulatedModem) -> None:
    sim.unplug()
    driver = GsmModem(sim.path, timeout=0.5, reconnect_delays=(0.05,))
    try:
        driver.connect(keep_trying=True)
        assert not driver.connected and "not connected" in (driver.status().last_error or "")
        sim.replug()
        _wait_for(lambda: driver.connected)
        assert driver.status().signal == 21
    finally:
        driver.close()


def test_sim_missing_is_a_clear_error(sim: SimulatedModem) -> None:
    sim.sim_ready = False
    driver = GsmModem(sim.path, timeout=0.5)
    with pytest.raises(ModemNotReady) as excinfo:
        driver.connect()
    assert "SIM" in excinfo.value.message_zh
    driver.close()


def test_unplug_and_replug_delivers_what_was_queued_meanwhile(
    sim: SimulatedModem, modem: GsmModem, outcomes: queue.Queue[tuple[float, Outcome]]
) -> None:
    sender = _sender(modem, outcomes)
    sender.start()
    try:
        sim.unplug()
        _wait_for(lambda: not modem.connected)
        with pytest.raises(ModemDisconnected):
            modem.send(PHONE, "x")
        sender.submit(41, PHONE, OFFER, Priority.OFFER)
        sim.deliver("13912345678", "1")  # a reply waits at the network meanwhile
        time.sleep(0.3)
        [queued] = sender.snapshot()
        assert (queued.message_id, queued.attempts) == (41, 0) and outcomes.empty()

        sim.replug()
        _, outcome = outcomes.get(timeout=3)
        assert outcome.message_id == 41 and outcome.sent and outcome.references
        assert [s.text for s in sim.sent] == [OFFER]
        received = modem.incoming(timeout=2)  # swept from storage after reconnecting
        assert received is not None and received.text == "1"
    finally:
        sender.stop()


# The sending loop.


def test_sender_keeps_the_pace_and_sends_offers_first(
    sim: SimulatedModem, modem: GsmModem, outcomes: queue.Queue[tuple[float, Outcome]]
) -> None:
    sender = _sender(modem, outcomes, interval=0.3)
    sender.submit("n1", PHONE, "notice one", Priority.NOTICE)
    sender.submit("c1", PHONE, "code 4321", Priority.SIGNIN_CODE)
    sender.submit("o1", PHONE, OFFER, Priority.OFFER)
    sender.submit("n2", PHONE, "notice two", Priority.NOTICE)
    assert not sender.submit("o1", PHONE, OFFER, Priority.OFFER)  # already queued
    assert [q.message_id for q in sender.snapshot()] == ["o1", "c1", "n1", "n2"]
    sender.start()
    try:
        results = [outcomes.get(timeout=3) for _ in range(4)]
    finally:
        sender.stop()
    assert [o.message_id for _, o in results] == ["o1", "c1", "n1", "n2"]
    assert all(o.sent for _, o in results)
    gaps = [b - a for (a, _), (b, _) in zip(results, results[1:], strict=False)]
    assert min(gaps) >= 0.27, gaps
    assert [s.text for s in sim.sent] == [OFFER, "code 4321", "notice one", "notice two"]


def test_submit_never_blocks_even_when_the_modem_hangs(
    sim: SimulatedModem, modem: GsmModem, outcomes: queue.Queue[tuple[float, Outcome]]
) -> None:
    sender = _sender(modem, outcomes, max_attempts=1)
    sender.start()
    try:
        sim.answering = False
        sender.submit(0, PHONE, "first")
        time.sleep(0.1)  # the loop is now stuck waiting for the modem's reply
        started = time.monotonic()
        for n in range(1, 50):
            sender.submit(n, PHONE, f"message {n}")
        assert time.monotonic() - started < 0.1
        assert len(sender.snapshot()) == 50
        _, outcome = outcomes.get(timeout=3)
        assert outcome.message_id == 0 and not outcome.sent
        assert "没有回应" in outcome.reason_zh
        # Still silent on the next try: taken as unplugged, so the rest wait unharmed.
        _wait_for(lambda: not modem.connected)
        assert outcomes.empty() and all(q.attempts == 0 for q in sender.snapshot())
        sim.answering = True
        _wait_for(lambda: modem.connected)
        _, outcome = outcomes.get(timeout=3)
        assert outcome.message_id == 1 and outcome.sent
    finally:
        sender.stop()


def test_sender_retries_a_failure_then_gives_up_on_a_hopeless_message(
    sim: SimulatedModem, modem: GsmModem, outcomes: queue.Queue[tuple[float, Outcome]]
) -> None:
    sender = _sender(modem, outcomes, max_attempts=3)
    sim.fail_next_send(332)
    sender.submit("retry", PHONE, OFFER, Priority.OFFER)
    sender.submit("bad", "not-a-number", "hi", Priority.NOTICE)
    sender.start()
    try:
        first = outcomes.get(timeout=3)[1]
        second = outcomes.get(timeout=3)[1]
    finally:
        sender.stop()
    by_id = {o.message_id: o for o in (first, second)}
    assert by_id["retry"].sent and by_id["retry"].attempts == 2
    assert not by_id["bad"].sent and by_id["bad"].attempts == 1
    assert "手机号码" in by_id["bad"].reason_zh
    assert [s.text for s in sim.sent] == [OFFER]
