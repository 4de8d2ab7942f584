"""ID card reads from the station's readers, held in memory for a minute and never stored.

A reader's device process posts each card it reads; the console's registration form and the
kiosk's sign-in page pick the latest read up. An ID number is personal data: a read lives only
in this process's memory, for `KEEP` at most, and is never written to the database or a log.
A card past its validity is refused with the reason, and only that reason is kept.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
from dataclasses import dataclass
from typing import Any

from flask import current_app

from devices.idcard import IdCard, IdCardError
from kuaigong import clock
from kuaigong.errors import Conflict, FieldError, InvalidInput
from station_node.services import local_today

KEEP = dt.timedelta(seconds=60)
_KEY = "kuaigong.idcard_reads"
_lock = threading.Lock()
_ids = itertools.count(1)

NO_CARD_ZH, NO_CARD_EN = "请把身份证放在读卡器上", "Place the ID card on the reader"


@dataclass(frozen=True)
class CardRead:
    """One card read by one reader: the card, or why it was refused."""

    read_id: int
    reader: str  # the reader's device id
    reader_name: str  # and the name it was paired under
    address: str | None  # the network address the reader posted from
    at: dt.datetime
    card: IdCard | None
    refused_zh: str = ""
    refused_en: str = ""

    def public(self) -> dict[str, Any]:
        """What the console form fills in (no photo was ever sent)."""
        if self.card is None:
            return {"read": self.read_id, "refused": self.refused_zh, "refused_en": self.refused_en}
        card = self.card
        return {
            "read": self.read_id,
            "name": card.name,
            "id_number": card.id_number,
            "address": card.address,
            "sex": card.sex,
            "birth_date": card.birth_date.isoformat(),
        }


class CardRefused(Conflict):
    """The card cannot be used (past its validity)."""

    def __init__(self, error: IdCardError) -> None:
        super().__init__("card_expired", error.message_zh, error.message_en)


def _reads() -> dict[str, CardRead]:
    return current_app.extensions.setdefault(_KEY, {})


def _date(body: dict[str, Any], name: str, label: str) -> dt.date:
    value = body.get(name)
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            [FieldError(name, "invalid", f"{label}不是日期（YYYY-MM-DD）", f"{name}: not a date")]
        ) from None


def card_from_json(body: dict[str, Any]) -> IdCard:
    """The card a reader posted, checked as the driver checks one (ID number, sex, ethnicity)."""
    texts = {}
    for name, label in (
        ("name", "姓名"),
        ("sex", "性别"),
        ("ethnicity", "民族"),
        ("address", "住址"),
        ("id_number", "身份证号"),
        ("issuing_office", "签发机关"),
    ):
        value = body.get(name)
        if not isinstance(value, str) or not value.strip() or len(value) > 100:
            raise InvalidInput([FieldError(name, "required", f"缺少{label}", f"{name} is missing")])
        texts[name] = value.strip()
    try:
        return IdCard(
            birth_date=_date(body, "birth_date", "出生日期"),
            valid_from=_date(body, "valid_from", "有效期起"),
            # None or blank: 长期, valid for life
            valid_until=_date(body, "valid_until", "有效期止") if body.get("valid_until") else None,
            **texts,
        )
    except IdCardError as exc:
        # The message names the field, never repeats the number.
        raise InvalidInput(
            [FieldError("card", "invalid", exc.message_zh, exc.message_en)]
        ) from None


def record(
    reader: str, card: IdCard, reader_name: str = "", address: str | None = None
) -> CardRead:
    """Keep a reader's latest card; an expired card is kept only as its refusal, then raised."""
    now = clock.now()
    name = reader_name or reader
    try:
        card.check_valid(local_today())
    except IdCardError as exc:
        refused = CardRead(
            next(_ids), reader, name, address, now, None, exc.message_zh, exc.message_en
        )
        _keep(refused)
        raise CardRefused(exc) from None
    read = CardRead(next(_ids), reader, name, address, now, card)
    _keep(read)
    return read


def _keep(read: CardRead) -> None:
    with _lock:
        reads = _reads()
        reads[read.reader] = read
        for reader, old in list(reads.items()):
            if read.at - old.at > KEEP:
                del reads[reader]


def latest(reader: str | None = None, address: str | None = None) -> CardRead | None:
    """The newest read still fresh, from `reader` (its device id or name) or (None) any reader;
    with `address`, only a reader posting from that network address."""
    now = clock.now()
    with _lock:
        fresh = [
            read
            for read in _reads().values()
            if now - read.at <= KEEP
            and reader in (None, read.reader, read.reader_name)
            and (address is None or read.address == address)
        ]
    return max(fresh, key=lambda read: read.read_id, default=None)


def take(read_id: int, reader: str | None = None, address: str | None = None) -> CardRead | None:
    """Use a read once (a kiosk sign-in): it is forgotten as it is handed out."""
    found = latest(reader, address)
    if found is None or found.read_id != read_id or found.card is None:
        return None
    with _lock:
        reads = _reads()
        if reads.get(found.reader) is found:
            del reads[found.reader]
            return found
    return None


def kiosk_reader() -> str | None:
    """The reader that serves the kiosk (IDCARD_READER_FOR_KIOSK, a device id or name; unset:
    any reader)."""
    return current_app.config.get("IDCARD_READER_FOR_KIOSK") or None


def kiosk_address(remote_addr: str | None) -> str | None:
    """The address a kiosk's reader must post from: the kiosk's own, unless
    IDCARD_KIOSK_SAME_ADDRESS is off (a reader wired to another machine).

    The kiosk pages need no sign-in, so without this any phone on the station's network could
    watch for a card and sign in as whoever placed it; the reader's runner and the kiosk's
    browser normally run on the same machine.
    """
    if not current_app.config.get("IDCARD_KIOSK_SAME_ADDRESS", True):
        return None
    return remote_addr or ""


def forget_all() -> None:
    """Drop every read (the app is stopping, or a test starts clean)."""
    with _lock:
        _reads().clear()
