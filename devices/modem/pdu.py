"""SMS PDUs (3GPP TS 23.040): the bytes a modem sends and stores, as pure functions.

Encoding SMS-SUBMIT and decoding what the modem hands back is done by `gsmmodem.pdu`
(python-gsmmodem-new), which handles GSM-7 packing, UCS2 and the concatenation header. What we
add: checks that give a clear error before the modem sees a bad message, rejoining UTF-16
surrogate pairs (the library decodes UCS2 one 16-bit unit at a time), reassembling
concatenated parts, and encoding SMS-DELIVER so the simulated modem can store incoming texts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import gsmmodem.pdu as gsmmodem_pdu
from gsmmodem.pdu import (
    Concatenation,
    decodeSmsPdu,
    encodeGsm7,
    encodeSemiOctets,
    encodeSmsSubmitPdu,
    packSeptets,
)

from devices.modem.errors import InvalidMessage, MalformedPdu

_library_unpack = gsmmodem_pdu.unpackSeptets


def _unpack_septets(
    septets: Any, numberOfSeptets: int | None = None, prevOctet: int | None = None, shift: int = 7
) -> bytearray:
    """python-gsmmodem-new's septet unpacking, but a last septet of 0 ("@") is kept.

    The library drops a final septet left in the last octet's top bits when its value is 0, so
    a GSM-7 text whose septets end an octet exactly and whose last character is "@" lost it.
    The user-data length says how many septets there are; a missing last one was that "@".
    """
    result: bytearray = _library_unpack(septets, numberOfSeptets, prevOctet, shift)
    if numberOfSeptets is not None and len(result) == numberOfSeptets - 1:
        result.append(0)
    return result


gsmmodem_pdu.unpackSeptets = _unpack_septets  # the decoder looks it up at call time

_NUMBER = re.compile(r"^\+?\d{3,20}$")
MAX_PARTS = 10  # a notice longer than ten SMS (about 670 Chinese characters) is a bug upstream
_UCS2_SINGLE, _UCS2_PART = 70, 67  # UTF-16 units per SMS, alone / with a concatenation header
_GSM7_SINGLE, _GSM7_PART = 160, 153  # septets per SMS, alone / with a concatenation header


@dataclass(frozen=True)
class SubmitPdu:
    """One SMS-SUBMIT ready for `AT+CMGS=<tpdu_length>`."""

    hex: str
    tpdu_length: int


@dataclass(frozen=True)
class Concat:
    """Where a part sits in a concatenated message."""

    reference: int
    total: int
    seq: int


@dataclass(frozen=True)
class SmsPart:
    """One decoded PDU: an incoming SMS-DELIVER, or an SMS-SUBMIT (seen by the simulator)."""

    kind: str  # "SMS-DELIVER" or "SMS-SUBMIT"
    number: str
    text: str
    sent_at: datetime | None = None  # the service centre's timestamp, for SMS-DELIVER
    concat: Concat | None = None


@dataclass(frozen=True)
class IncomingSms:
    """A whole received text message, parts already joined."""

    number: str
    text: str
    sent_at: datetime | None


def encode_submit(number: str, text: str, reference: int) -> list[SubmitPdu]:
    """The SMS-SUBMIT PDUs for `text`: GSM-7 when it fits that alphabet, else UCS2, in parts."""
    if not _NUMBER.match(number):
        raise InvalidMessage(
            f"手机号码格式不对：{number!r}", f"not a phone number we can dial: {number!r}"
        )
    if not text:
        raise InvalidMessage("短信内容为空", "empty message text")
    if any(ch < " " and ch not in "\r\n" for ch in text):
        # ESC (0x1B) would be read as GSM-7's switch to its extension table and the text cut
        # short; no control character belongs in a message a person reads.
        raise InvalidMessage(
            "短信含有控制字符，请删去后重试", "text has control characters an SMS must not carry"
        )
    if any(ord(ch) > 0xFFFF for ch in text):
        raise InvalidMessage(
            "短信含有表情等无法发送的字符，请删去后重试",
            "text has characters outside UCS2 (emoji?) that the SMS cannot carry",
        )
    pdus = encodeSmsSubmitPdu(number, text, reference=reference & 0xFF, requestStatusReport=False)
    if len(pdus) > MAX_PARTS:
        raise InvalidMessage(
            f"短信太长（要拆成 {len(pdus)} 条），最多 {MAX_PARTS} 条",
            f"text needs {len(pdus)} SMS parts; at most {MAX_PARTS}",
        )
    return [SubmitPdu(str(p), int(p.tpduLength)) for p in pdus]


def decode(pdu_hex: str) -> SmsPart:
    """Decode one PDU as `AT+CMGR`/`AT+CMGL`/`AT+CMGS` carry it (SMSC address first)."""
    try:
        fields: dict[str, Any] = decodeSmsPdu(pdu_hex.strip())
    except Exception as exc:  # the library raises whatever its byte iterator hit
        raise MalformedPdu(pdu_hex, f"{type(exc).__name__}: {exc}") from exc
    if fields.get("type") not in ("SMS-DELIVER", "SMS-SUBMIT"):
        raise MalformedPdu(pdu_hex, f"not a text message: {fields.get('type')}")
    concat = None
    for element in fields.get("udh", []):
        if isinstance(element, Concatenation):
            concat = Concat(int(element.reference), int(element.parts), int(element.number))
    sent_at = fields.get("time")
    if isinstance(sent_at, datetime):  # a plain fixed offset rather than the library's tzinfo
        sent_at = sent_at.replace(tzinfo=timezone(sent_at.utcoffset() or timedelta(0)))
    return SmsPart(
        kind=fields["type"],
        number=str(fields.get("number") or ""),
        text=str(fields.get("text") or ""),
        sent_at=sent_at,
        concat=concat,
    )


def join_utf16(text: str) -> str:
    """Turn surrogate pairs decoded one unit at a time back into the characters they encode."""
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


@dataclass
class Reassembler:
    """Collects the parts of concatenated messages until each message is whole."""

    _parts: dict[tuple[str, int, int], dict[int, SmsPart]] = field(default_factory=dict)

    def add(self, part: SmsPart) -> IncomingSms | None:
        """The whole message once `part` completes it, else None (the part is kept)."""
        if part.concat is None or part.concat.total <= 1:
            return IncomingSms(part.number, join_utf16(part.text), part.sent_at)
        key = (part.number, part.concat.reference, part.concat.total)
        parts = self._parts.setdefault(key, {})
        parts[part.concat.seq] = part
        if len(parts) < part.concat.total:
            return None
        del self._parts[key]
        ordered = [parts[seq] for seq in sorted(parts)]
        text = join_utf16("".join(p.text for p in ordered))
        return IncomingSms(part.number, text, ordered[0].sent_at)

    def pending(self) -> int:
        """How many messages are waiting for more parts."""
        return len(self._parts)


def encode_deliver(
    number: str, text: str, sent_at: datetime, reference: int, smsc: str = "+8613800100500"
) -> list[str]:
    """SMS-DELIVER PDUs (hex, SMSC first) as a modem stores an incoming `text` from `number`."""
    try:
        septets = encodeGsm7(text)
    except ValueError:
        septets = None
    if septets is not None:
        chunks = [text] if len(septets) <= _GSM7_SINGLE else _split_gsm7(text)
    else:
        units = text.encode("utf-16-be")
        chunks = [text] if len(units) <= 2 * _UCS2_SINGLE else _split_ucs2(text)
    pdus = []
    for seq, chunk in enumerate(chunks, start=1):
        udh = bytearray()
        if len(chunks) > 1:
            udh = bytearray([5, 0x00, 3, reference & 0xFF, len(chunks), seq])
        tpdu = bytearray([0x44 if udh else 0x04])  # SMS-DELIVER, no more messages, UDHI
        tpdu += _address(number)
        tpdu += bytes([0x00, 0x00 if septets is not None else 0x08])
        tpdu += _timestamp(sent_at)
        if septets is not None:
            encoded = encodeGsm7(chunk)
            header_septets = (len(udh) * 8 + 6) // 7
            # packSeptets counts its padding as the bit shift the header leaves behind
            shift = (len(udh) * 8) % 7
            tpdu.append(len(encoded) + header_septets)
            tpdu += udh + packSeptets(encoded, padBits=shift)
        else:
            body = chunk.encode("utf-16-be")
            tpdu.append(len(udh) + len(body))
            tpdu += udh + body
        pdus.append((_smsc_field(smsc) + tpdu).hex().upper())
    return pdus


def _split_gsm7(text: str) -> list[str]:
    chunks, current, size = [], "", 0
    for ch in text:
        width = len(encodeGsm7(ch))  # 2 for characters from the extension table
        if size + width > _GSM7_PART:
            chunks.append(current)
            current, size = "", 0
        current += ch
        size += width
    return chunks + [current]


def _split_ucs2(text: str) -> list[str]:
    chunks, current, size = [], "", 0
    for ch in text:
        width = 2 if ord(ch) > 0xFFFF else 1  # never split a surrogate pair across parts
        if size + width > _UCS2_PART:
            chunks.append(current)
            current, size = "", 0
        current += ch
        size += width
    return chunks + [current]


def _address(number: str) -> bytes:
    digits = number.lstrip("+")
    kind = 0x91 if number.startswith("+") else 0x81
    return bytes([len(digits), kind]) + bytes(encodeSemiOctets(digits))


def _smsc_field(number: str) -> bytes:
    digits = number.lstrip("+")
    octets = bytes(encodeSemiOctets(digits))
    return bytes([len(octets) + 1, 0x91]) + octets


def _timestamp(moment: datetime) -> bytes:
    offset = moment.utcoffset() or timedelta(0)
    quarters = int(offset.total_seconds() // 900)
    stamp = bytearray(encodeSemiOctets(moment.strftime("%y%m%d%H%M%S")))
    zone = encodeSemiOctets(f"{abs(quarters):02d}")[0] | (0x08 if quarters < 0 else 0)
    return bytes(stamp) + bytes([zone])
