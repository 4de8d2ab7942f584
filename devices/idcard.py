"""Second-generation resident ID card readers (GA 467 serial modules).

The reader speaks in frames: the preamble AA AA AA 96 69, a two-byte big-endian length counting
every byte after it, the body (CMD PARA for a request; SW1 SW2 SW3 status for a response), data,
and a check byte that XORs the length and body bytes together. A read is three exchanges: find
the card, select it, read its base message (256 bytes of UCS-2 text plus a 1024-byte photo that
we do not decode).

The byte formatting and parsing here are pure functions (the simulator and the tests use them
too); `IdCardReader` is the thin transport over a serial port. Every error the staff can act on
is an `IdCardError` with a Chinese message and an English one beside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from typing import Protocol

import serial
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, ValidationError

PREAMBLE = bytes.fromhex("AAAAAA9669")
HEADER_SIZE = len(PREAMBLE) + 2

FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_BASE_MESSAGE = (0x30, 0x01)

STATUS_OK = 0x90
STATUS_FOUND = 0x9F
STATUS_BAD_CHECK_BYTE = 0x10
STATUS_BAD_LENGTH = 0x11
STATUS_NO_CARD = 0x80
STATUS_SELECT_FAILED = 0x81
STATUS_READ_FAILED = 0x41

TEXT_SIZE = 256
PHOTO_SIZE = 1024
LONG_TERM = "长期"

# The reader's own status byte (SW3) when something went wrong, as the staff should hear it.
_FAILURES: dict[int, tuple[str, str]] = {
    0x10: ("读卡器收到的数据校验不对", "the reader received a frame with a bad check byte"),
    0x11: ("读卡器收到的数据长度不对", "the reader received a frame of the wrong length"),
    0x21: ("读卡器不认识这个命令", "the reader did not accept the command"),
    0x24: ("读卡器出现无法识别的错误", "the reader reported an unknown error"),
    0x31: ("身份证对读卡器认证失败", "the card refused to authenticate the reader"),
    0x32: ("读卡器对身份证认证失败", "the reader could not authenticate the card"),
    0x33: ("身份证信息验证错误", "the card's information failed verification"),
    0x40: ("这不是居民身份证", "the card on the reader is not a resident ID card"),
    0x41: ("读身份证失败，请把证件放稳后重试", "reading the card failed; hold it still and retry"),
    0x47: ("读卡器取随机数失败", "the reader could not get a random number from the card"),
    0x60: ("读卡器自检失败", "the reader failed its self-test"),
    0x66: ("读卡器未经授权，无法使用", "the reader is not authorised for use"),
}

# Ethnicity codes of GB/T 3304, as printed on the card (without the trailing 族).
ETHNICITIES: dict[str, str] = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝",
    "08": "壮", "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白",
    "15": "土家", "16": "哈尼", "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳",
    "21": "佤", "22": "畲", "23": "高山", "24": "拉祜", "25": "水", "26": "东乡", "27": "纳西",
    "28": "景颇", "29": "柯尔克孜", "30": "土", "31": "达斡尔", "32": "仫佬", "33": "羌",
    "34": "布朗", "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯", "39": "阿昌",
    "40": "普米", "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克",
    "46": "德昂", "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙",
    "52": "鄂伦春", "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺",
}  # fmt: skip
_ETHNICITY_CODES = {name: code for code, name in ETHNICITIES.items()}
_SEXES = {"1": "M", "2": "F"}
_SEX_CODES = {sex: code for code, sex in _SEXES.items()}

# The base message's fixed-width text fields (GA/T 490), in order, with their sizes in bytes.
_FIELDS: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("sex", 2),
    ("ethnicity", 4),
    ("birth_date", 16),
    ("address", 70),
    ("id_number", 36),
    ("issuing_office", 30),
    ("valid_from", 16),
    ("valid_until", 16),
    ("reserved", 36),
)
_FIELD_NAMES_ZH = {
    "name": "姓名",
    "sex": "性别",
    "ethnicity": "民族",
    "birth_date": "出生日期",
    "address": "住址",
    "id_number": "公民身份号码",
    "issuing_office": "签发机关",
    "valid_from": "有效期起始日期",
    "valid_until": "有效期截止日期",
    "reserved": "预留区",
}


class IdCardError(Exception):
    """Base of everything the ID card reader can go wrong with; carries Chinese and English."""

    code = "idcard_error"

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_zh, message_en)
        self.message_zh = message_zh
        self.message_en = message_en

    def __str__(self) -> str:
        return f"{self.message_zh}\n{self.message_en}"


class NoCard(IdCardError):
    """No card is on the reader (or it was taken away before it could be selected)."""

    code = "no_card"

    def __init__(self) -> None:
        super().__init__("读卡器上没有身份证，请放好证件", "No ID card is on the reader")


class BadFrame(IdCardError):
    """A frame from the reader (or to the simulator) was malformed; `problem` says how."""

    code = "bad_frame"

    def __init__(self, problem: str, message_zh: str, message_en: str) -> None:
        super().__init__(
            f"读卡器数据有误：{message_zh}", f"Bad frame from the reader: {message_en}"
        )
        self.problem = problem


class BadCardData(IdCardError):
    """The card's text could not be read as a resident ID card; `field` names the field."""

    code = "bad_card_data"

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(
            f"身份证信息有误（{_FIELD_NAMES_ZH.get(field, field)}）：{message_zh}",
            f"The card's {field.replace('_', ' ')} is not valid: {message_en}",
        )
        self.field = field


class BadIdNumber(IdCardError):
    """The ID number on the card fails its check (digit, birth date or region code)."""

    code = "bad_id_number"


class ReaderTimeout(IdCardError):
    """The reader did not answer in time."""

    code = "reader_timeout"

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"读卡器 {seconds:g} 秒内没有应答，请检查连接线和电源",
            f"The ID card reader did not answer within {seconds:g} s; check its cable and power",
        )


class ReaderFailure(IdCardError):
    """The reader answered with a failure status; `status` is its SW3 byte."""

    code = "reader_failure"

    def __init__(self, status: int) -> None:
        zh, en = _FAILURES.get(status, ("读卡器报告错误", "the reader reported an error"))
        super().__init__(f"{zh}（状态码 {status:02X}）", f"{en} (status {status:02X})")
        self.status = status


class CardExpired(IdCardError):
    """The card is past its validity date."""

    code = "card_expired"

    def __init__(self, valid_until: date) -> None:
        until = f"{valid_until.year}年{valid_until.month}月{valid_until.day}日"
        super().__init__(
            f"身份证已过有效期（有效期至 {until}），请使用有效证件",
            f"This ID card expired (valid until {valid_until.isoformat()}); use a valid card",
        )
        self.valid_until = valid_until


@dataclass(frozen=True)
class IdCard:
    """What the card's chip says about its holder. Refuses an ID number that fails its check."""

    name: str
    sex: str  # "M" or "F"
    ethnicity: str  # the name, as printed on the card: 汉, 蒙古, …
    birth_date: date
    address: str
    id_number: str
    issuing_office: str
    valid_from: date
    valid_until: date | None  # None: 长期 (valid for life)

    def __post_init__(self) -> None:
        if self.sex not in _SEX_CODES:
            raise BadCardData("sex", f"性别应为 M 或 F，不是“{self.sex}”", "must be M or F")
        if self.ethnicity not in _ETHNICITY_CODES:
            raise BadCardData("ethnicity", f"不认识的民族“{self.ethnicity}”", "unknown ethnicity")
        object.__setattr__(self, "id_number", _checked_id_number(self.id_number))

    def check_valid(self, today: date) -> None:
        """Raise CardExpired if the card was no longer valid on `today` (its last day counts)."""
        if self.valid_until is not None and today > self.valid_until:
            raise CardExpired(self.valid_until)


def _checked_id_number(number: str) -> str:
    try:
        return str(ric.validate(number))
    except InvalidChecksum:
        raise BadIdNumber(
            "身份证号码校验位不对，证件信息可能有误", "The ID number's check digit is wrong"
        ) from None
    except ValidationError:
        raise BadIdNumber(
            "身份证号码格式不对（位数、出生日期或地区码有误）",
            "The ID number is malformed (its length, birth date or region code is wrong)",
        ) from None


# --- frames -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    cmd: int
    para: int
    data: bytes = b""


@dataclass(frozen=True)
class Response:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""


def _xor(data: bytes) -> int:
    check = 0
    for byte in data:
        check ^= byte
    return check


def _frame(body: bytes) -> bytes:
    if len(body) + 1 > 0xFFFF:
        raise ValueError(f"frame body of {len(body)} bytes does not fit a 2-byte length")
    counted = (len(body) + 1).to_bytes(2, "big") + body
    return PREAMBLE + counted + bytes([_xor(counted)])


def _counted_length(header: bytes, minimum: int) -> int:
    """How many bytes follow a frame's header; BadFrame names what was wrong with it."""
    if len(header) < HEADER_SIZE:
        raise BadFrame(
            "short", f"帧只有 {len(header)} 字节，不够帧头", f"only {len(header)} bytes, no header"
        )
    if header[: len(PREAMBLE)] != PREAMBLE:
        raise BadFrame(
            "preamble",
            f"帧头应为 AA AA AA 96 69，收到 {header[:5].hex(' ').upper()}",
            f"the preamble should be AA AA AA 96 69, got {header[:5].hex(' ').upper()}",
        )
    length = int.from_bytes(header[len(PREAMBLE) : HEADER_SIZE], "big")
    if length < minimum:
        raise BadFrame(
            "short",
            f"长度字段为 {length}，至少应为 {minimum}",
            f"the length field says {length}, at least {minimum} expected",
        )
    return length


def _unframe(frame: bytes, minimum: int) -> bytes:
    """The body of one complete frame; BadFrame names what was wrong with it."""
    length = _counted_length(frame, minimum)
    if len(frame) != HEADER_SIZE + length:
        raise BadFrame(
            "length",
            f"长度字段为 {length}，实际有 {len(frame) - HEADER_SIZE} 字节",
            f"the length field says {length} but {len(frame) - HEADER_SIZE} bytes follow",
        )
    counted, check = frame[len(PREAMBLE) : -1], frame[-1]
    if _xor(counted) != check:
        raise BadFrame(
            "check_byte",
            f"校验字节应为 {_xor(counted):02X}，收到 {check:02X}",
            f"the check byte should be {_xor(counted):02X}, got {check:02X}",
        )
    return counted[2:]


def encode_request(request: Request) -> bytes:
    """The bytes the host sends for `request`."""
    return _frame(bytes([request.cmd, request.para]) + request.data)


def decode_request(frame: bytes) -> Request:
    """One complete request frame (the simulator's side)."""
    body = _unframe(frame, minimum=3)
    return Request(body[0], body[1], body[2:])


def encode_response(response: Response) -> bytes:
    """The bytes a reader sends for `response`."""
    return _frame(bytes([response.sw1, response.sw2, response.sw3]) + response.data)


def request_length(header: bytes) -> int:
    """How many bytes follow a request's 7-byte header (preamble and length)."""
    return _counted_length(header, minimum=3)


def response_length(header: bytes) -> int:
    """How many bytes follow a response's 7-byte header (preamble and length)."""
    return _counted_length(header, minimum=4)


def decode_response(frame: bytes) -> Response:
    """One complete response frame; BadFrame names what was wrong with it."""
    body = _unframe(frame, minimum=4)
    return Response(body[0], body[1], body[2], body[3:])


# --- the base message -------------------------------------------------------------------------


def encode_base_message(text: bytes, photo: bytes = bytes(PHOTO_SIZE)) -> bytes:
    """The data of a read-base-message response: both lengths, the text, then the photo."""
    return len(text).to_bytes(2, "big") + len(photo).to_bytes(2, "big") + text + photo


def parse_base_message(data: bytes) -> IdCard:
    """The card in a read-base-message response's data (the photo is skipped)."""
    if len(data) < 4:
        raise BadFrame(
            "short", f"基本信息只有 {len(data)} 字节", f"base message of {len(data)} bytes"
        )
    text_size = int.from_bytes(data[0:2], "big")
    photo_size = int.from_bytes(data[2:4], "big")
    if text_size != TEXT_SIZE:
        raise BadFrame(
            "length",
            f"文字信息应为 {TEXT_SIZE} 字节，长度字段为 {text_size}",
            f"the text should be {TEXT_SIZE} bytes, its length field says {text_size}",
        )
    if len(data) < 4 + text_size + photo_size:
        raise BadFrame(
            "short",
            f"基本信息应有 {4 + text_size + photo_size} 字节，只收到 {len(data)}",
            f"the base message should be {4 + text_size + photo_size} bytes, got {len(data)}",
        )
    return parse_text(data[4 : 4 + text_size])


def _split_text(text: bytes) -> dict[str, str]:
    fields: dict[str, str] = {}
    offset = 0
    for field, size in _FIELDS:
        raw = text[offset : offset + size]
        offset += size
        try:
            fields[field] = raw.decode("utf-16-le").strip(" \x00")
        except UnicodeDecodeError:
            raise BadCardData(field, "不是有效的 UCS-2 文字", "not valid UCS-2 text") from None
    return fields


def _date(field: str, value: str) -> date:
    if len(value) == 8 and value.isascii() and value.isdigit():
        try:
            return date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            pass
    raise BadCardData(field, f"“{value}”不是 YYYYMMDD 日期", f"{value!r} is not a YYYYMMDD date")


def parse_text(text: bytes) -> IdCard:
    """The card in the 256-byte text of a base message; BadCardData names the field."""
    if len(text) != TEXT_SIZE:
        raise BadFrame(
            "length",
            f"文字信息应为 {TEXT_SIZE} 字节，收到 {len(text)}",
            f"the text should be {TEXT_SIZE} bytes, got {len(text)}",
        )
    fields = _split_text(text)
    if fields["reserved"].startswith("I"):
        # The foreigner's permanent residence card shares the frame but not the layout.
        raise BadCardData(
            "reserved", "这是外国人永久居留身份证，不是居民身份证", "this is a foreigner's card"
        )
    sex = _SEXES.get(fields["sex"])
    if sex is None:
        raise BadCardData("sex", f"不认识的性别代码“{fields['sex']}”", "unknown sex code")
    ethnicity = ETHNICITIES.get(fields["ethnicity"])
    if ethnicity is None:
        raise BadCardData(
            "ethnicity", f"不认识的民族代码“{fields['ethnicity']}”", "unknown ethnicity code"
        )
    until = fields["valid_until"]
    return IdCard(
        name=fields["name"],
        sex=sex,
        ethnicity=ethnicity,
        birth_date=_date("birth_date", fields["birth_date"]),
        address=fields["address"],
        id_number=fields["id_number"],
        issuing_office=fields["issuing_office"],
        valid_from=_date("valid_from", fields["valid_from"]),
        valid_until=None if until == LONG_TERM else _date("valid_until", until),
    )


def _yyyymmdd(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def encode_text(card: IdCard) -> bytes:
    """The 256-byte text a card's chip holds for `card` (space-padded UCS-2 little endian)."""
    values = {
        "name": card.name,
        "sex": _SEX_CODES[card.sex],
        "ethnicity": _ETHNICITY_CODES[card.ethnicity],
        "birth_date": _yyyymmdd(card.birth_date),
        "address": card.address,
        "id_number": card.id_number,
        "issuing_office": card.issuing_office,
        "valid_from": _yyyymmdd(card.valid_from),
        "valid_until": LONG_TERM if card.valid_until is None else _yyyymmdd(card.valid_until),
        "reserved": "",
    }
    text = b""
    for field, size in _FIELDS:
        encoded = values[field].encode("utf-16-le")
        if len(encoded) > size:
            raise ValueError(f"{field} takes {len(encoded)} bytes, the card holds {size}")
        text += encoded + " ".encode("utf-16-le") * ((size - len(encoded)) // 2)
    return text


# --- the transport ----------------------------------------------------------------------------


class Port(Protocol):
    """The part of a pyserial `Serial` the reader uses."""

    timeout: float | None

    def write(self, data: bytes, /) -> int | None: ...

    def read(self, size: int = 1, /) -> bytes: ...

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class IdCardReader:
    """A GA 467 reader module on a serial port. Every call gives up after its timeout."""

    def __init__(self, port: str | Port, timeout: float = 2.0, baudrate: int = 115200) -> None:
        if isinstance(port, str):
            self._port: Port = serial.Serial(port, baudrate=baudrate, timeout=timeout)
        else:
            self._port = port
        self.timeout = timeout

    def close(self) -> None:
        self._port.close()

    def __enter__(self) -> IdCardReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, timeout: float | None = None) -> IdCard | None:
        """The card on the reader (find, select, read), or None when there is none."""
        seconds = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + seconds
        try:
            self._expect(FIND_CARD, deadline, seconds)
            self._expect(SELECT_CARD, deadline, seconds)
        except NoCard:
            return None
        return parse_base_message(self._expect(READ_BASE_MESSAGE, deadline, seconds))

    def wait_for_card(self, timeout: float, poll_interval: float = 0.2) -> IdCard | None:
        """Poll until a card is read, or None once `timeout` seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            card = self.read(min(self.timeout, remaining))
            if card is not None:
                return card
            time.sleep(max(0.0, min(poll_interval, deadline - time.monotonic())))

    def _expect(self, command: tuple[int, int], deadline: float, seconds: float) -> bytes:
        """Send `command`; its response's data if it succeeded."""
        response = self._exchange(Request(*command), deadline, seconds)
        if response.sw3 in (STATUS_OK, STATUS_FOUND):
            return response.data
        if response.sw3 in (STATUS_NO_CARD, STATUS_SELECT_FAILED):
            raise NoCard()
        raise ReaderFailure(response.sw3)

    def _exchange(self, request: Request, deadline: float, seconds: float) -> Response:
        # Bytes left over from an earlier broken exchange must not be taken for this answer.
        self._port.reset_input_buffer()
        self._port.write(encode_request(request))
        header = self._read_exactly(HEADER_SIZE, deadline, seconds)
        body = self._read_exactly(response_length(header), deadline, seconds)
        return decode_response(header + body)

    def _read_exactly(self, size: int, deadline: float, seconds: float) -> bytes:
        data = b""
        while len(data) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ReaderTimeout(seconds)
            self._port.timeout = remaining
            data += self._port.read(size - len(data))
        return data
