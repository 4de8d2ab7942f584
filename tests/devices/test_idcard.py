"""The ID card reader driver against the simulated reader on a real pty, and its pure codec."""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devices.idcard import (
    ETHNICITIES,
    PREAMBLE,
    READ_BASE_MESSAGE,
    BadCardData,
    BadFrame,
    BadIdNumber,
    CardExpired,
    IdCard,
    IdCardError,
    IdCardReader,
    ReaderFailure,
    ReaderTimeout,
    Request,
    Response,
    decode_response,
    encode_base_message,
    encode_request,
    encode_response,
    encode_text,
    parse_base_message,
    parse_text,
)
from devices.simulated.idcard import SAMPLE_CARDS, SimulatedIdCardReader

ZHANG, AYIGULI, WANG_LONG_TERM, LI_EXPIRED = SAMPLE_CARDS


@pytest.fixture
def sim() -> Iterator[SimulatedIdCardReader]:
    with SimulatedIdCardReader() as reader:
        yield reader


@pytest.fixture
def reader(sim: SimulatedIdCardReader) -> Iterator[IdCardReader]:
    with IdCardReader(sim.port, timeout=1.0) as driver:
        yield driver


# --- on the pty -------------------------------------------------------------------------------


def test_reads_every_field_with_chinese_intact(sim, reader):
    sim.place(AYIGULI)
    card = reader.read()
    assert card == IdCard(
        name="样例·阿依古丽",
        sex="F",
        ethnicity="维吾尔",
        birth_date=date(1985, 4, 12),
        address="新疆维吾尔自治区乌鲁木齐市天山区样例路88号院3号楼2单元501室",
        id_number="650102198504120029",
        issuing_office="乌鲁木齐市公安局天山区分局",
        valid_from=date(2010, 5, 20),
        valid_until=date(2030, 5, 20),
    )


def test_reads_each_sample_card(sim, reader):
    for sample in SAMPLE_CARDS:
        sim.place(sample)
        assert reader.read() == sample


def test_no_card_is_none(sim, reader):
    assert reader.read() is None
    sim.place(ZHANG)
    assert reader.read() == ZHANG
    sim.remove()
    assert reader.read() is None


def test_corrupted_check_byte_is_a_bad_frame_and_the_next_read_recovers(sim, reader):
    sim.place(ZHANG)
    sim.corrupt_next_frame()
    with pytest.raises(BadFrame) as caught:
        reader.read()
    assert caught.value.problem == "check_byte"
    assert "校验字节" in caught.value.message_zh and "check byte" in caught.value.message_en
    assert reader.read() == ZHANG


def test_a_silent_reader_times_out(sim, reader):
    sim.place(ZHANG)
    sim.go_silent()
    started = time.monotonic()
    with pytest.raises(ReaderTimeout) as caught:
        reader.read(timeout=0.3)
    assert 0.25 < time.monotonic() - started < 1.0
    assert "没有应答" in caught.value.message_zh
    sim.go_silent(False)
    assert reader.read() == ZHANG


def test_wait_for_card_returns_the_card_once_placed(sim, reader):
    placing = threading.Timer(0.3, sim.place, args=(WANG_LONG_TERM,))
    placing.start()
    try:
        assert reader.wait_for_card(timeout=3.0, poll_interval=0.05) == WANG_LONG_TERM
    finally:
        placing.cancel()


def test_wait_for_card_gives_up_after_its_timeout(reader):
    started = time.monotonic()
    assert reader.wait_for_card(timeout=0.3, poll_interval=0.05) is None
    assert time.monotonic() - started < 1.0


def test_an_expired_card_is_refused_on_the_day_after_its_last(sim, reader):
    sim.place(LI_EXPIRED)
    card = reader.read()
    assert card is not None and card.valid_until == date(2020, 7, 1)
    card.check_valid(date(2020, 7, 1))  # the last day still counts
    with pytest.raises(CardExpired) as caught:
        card.check_valid(date(2020, 7, 2))
    assert caught.value.message_zh == "身份证已过有效期（有效期至 2020年7月1日），请使用有效证件"
    assert "2020-07-01" in caught.value.message_en
    assert str(caught.value).splitlines() == [caught.value.message_zh, caught.value.message_en]


def test_long_term_card_never_expires(sim, reader):
    sim.place(WANG_LONG_TERM)
    card = reader.read()
    assert card is not None and card.valid_until is None
    card.check_valid(date(2099, 12, 31))
    assert "长期".encode("utf-16-le") in encode_text(card)


def test_a_wrong_check_digit_is_refused(sim, reader):
    text = encode_text(ZHANG)
    right, wrong_number = "110101199003071233", "110101199003071234"
    wrong = text.replace(right.encode("utf-16-le"), wrong_number.encode("utf-16-le"))
    assert wrong != text
    sim.place_text(wrong)
    with pytest.raises(BadIdNumber) as caught:
        reader.read()
    assert "校验位" in caught.value.message_zh and "check digit" in caught.value.message_en


class _ScriptedPort:
    """A port that answers each write with the next scripted reply, for what a pty can't show."""

    def __init__(self, replies: list[bytes]) -> None:
        self.timeout: float | None = None
        self._replies = replies
        self._pending = b""
        self.written: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self.written.append(data)
        self._pending += self._replies.pop(0)
        return len(data)

    def read(self, size: int = 1, /) -> bytes:
        chunk, self._pending = self._pending[:size], self._pending[size:]
        return chunk

    def reset_input_buffer(self) -> None:
        self._pending = b""

    def close(self) -> None:
        pass


def test_a_failure_status_is_a_reader_failure_naming_it():
    found = encode_response(Response(0, 0, 0x9F, bytes(4)))
    selected = encode_response(Response(0, 0, 0x90, bytes(8)))
    port = _ScriptedPort([found, selected, encode_response(Response(0, 0, 0x41))])
    with pytest.raises(ReaderFailure) as caught:
        IdCardReader(port, timeout=0.2).read()
    assert caught.value.status == 0x41 and "读身份证失败" in caught.value.message_zh
    assert port.written == [
        bytes.fromhex("AAAAAA9669 0003 2001 22"),
        bytes.fromhex("AAAAAA9669 0003 2002 21"),
        bytes.fromhex("AAAAAA9669 0003 3001 32"),
    ]


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (bytes.fromhex("55AAAA9669 0004 000090 94"), "preamble"),
        (bytes.fromhex("AAAAAA9669 0001 00"), "short"),
    ],
)
def test_a_bad_header_from_the_port_is_named(reply, problem):
    with pytest.raises(BadFrame) as caught:
        IdCardReader(_ScriptedPort([reply]), timeout=0.2).read()
    assert caught.value.problem == problem


def test_a_frame_cut_short_times_out_rather_than_waiting_forever():
    cut = encode_response(Response(0, 0, 0x9F, bytes(4)))[:-2]
    with pytest.raises(ReaderTimeout):
        IdCardReader(_ScriptedPort([cut]), timeout=0.2).read()


# --- the pure codec ---------------------------------------------------------------------------


def test_requests_byte_for_byte():
    assert encode_request(Request(0x20, 0x01)) == bytes.fromhex("AAAAAA9669 0003 2001 22")
    assert encode_request(Request(0x20, 0x02)) == bytes.fromhex("AAAAAA9669 0003 2002 21")
    assert encode_request(Request(0x30, 0x01)) == bytes.fromhex("AAAAAA9669 0003 3001 32")


def test_responses_round_trip_and_the_base_message_layout():
    frame = encode_response(Response(0, 0, 0x90, encode_base_message(encode_text(ZHANG))))
    assert frame[:10] == bytes.fromhex("AAAAAA9669 0508 000090")  # 3 + 4 + 256 + 1024 + 1
    assert frame[10:14] == bytes.fromhex("0100 0400")
    assert frame[14:18] == "样例".encode("utf-16-le")
    response = decode_response(frame)
    assert (response.sw3, len(response.data)) == (0x90, 4 + 256 + 1024)
    assert parse_base_message(response.data) == ZHANG


def test_text_fields_sit_at_their_fixed_offsets():
    text = encode_text(ZHANG)
    assert len(text) == 256

    def field(start: int, size: int) -> str:
        return text[start : start + size].decode("utf-16-le").rstrip()

    assert field(0, 30) == "样例张三"
    assert field(30, 2) == "1"
    assert field(32, 4) == "01"
    assert field(36, 16) == "19900307"
    assert field(52, 70) == "北京市东城区样例胡同1号"
    assert field(122, 36) == "110101199003071233"
    assert field(158, 30) == "北京市公安局东城分局"
    assert field(188, 16) == "20150601"
    assert field(204, 16) == "20350601"
    assert field(220, 36) == ""


def test_the_ethnicity_table_has_all_56():
    assert len(ETHNICITIES) == 56 and len(set(ETHNICITIES.values())) == 56
    assert ETHNICITIES["01"] == "汉" and ETHNICITIES["56"] == "基诺"


@pytest.mark.parametrize(
    ("frame", "problem"),
    [
        (bytes.fromhex("AAAA"), "short"),
        (bytes.fromhex("AAAAAA6996 0004 000090 94"), "preamble"),
        (bytes.fromhex("AAAAAA9669 0002 0090"), "short"),
        (bytes.fromhex("AAAAAA9669 0004 000090"), "length"),
        (bytes.fromhex("AAAAAA9669 0004 000090 00"), "check_byte"),
    ],
)
def test_bad_frames_name_what_was_wrong(frame, problem):
    with pytest.raises(BadFrame) as caught:
        decode_response(frame)
    assert caught.value.problem == problem


def test_a_card_with_an_unknown_ethnicity_code_names_the_field():
    text = encode_text(ZHANG)
    bad = text[:32] + "99".encode("utf-16-le") + text[36:]
    with pytest.raises(BadCardData) as caught:
        parse_text(bad)
    assert caught.value.field == "ethnicity" and "民族" in caught.value.message_zh


def test_the_simulator_answers_a_frame_with_a_bad_check_byte_with_status_10(sim):
    request = encode_request(Request(*READ_BASE_MESSAGE))
    assert sim.answer(Request(*READ_BASE_MESSAGE)).sw3 == 0x80  # no card
    broken = request[:-1] + bytes([request[-1] ^ 1])
    with open(sim.port, "r+b", buffering=0) as port:
        port.write(broken)
        ready, _, _ = select.select([port], [], [], 2.0)
        assert ready
        assert decode_response(os.read(port.fileno(), 64)).sw3 == 0x10


# --- fuzzing: nothing but our own error class escapes -----------------------------------------


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64) | st.binary(max_size=64).map(lambda tail: PREAMBLE + tail))
def test_random_bytes_as_a_response_raise_only_our_error(frame):
    try:
        decode_response(frame)
    except IdCardError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1400))
def test_random_base_message_data_raises_only_our_error(data):
    try:
        parse_base_message(data)
    except IdCardError:
        pass


def _with_byte(position: int, value: int) -> bytes:
    """A sample card's text with one byte changed: close enough to valid to reach every field."""
    text = encode_text(ZHANG)
    return text[:position] + bytes([value]) + text[position + 1 :]


@settings(max_examples=300, deadline=None)
@given(
    st.binary(min_size=256, max_size=256)
    | st.builds(_with_byte, st.integers(0, 255), st.integers(0, 255))
)
def test_random_card_text_raises_only_our_error(text):
    try:
        parse_text(text)
    except IdCardError:
        pass
