"""What the hub signs for a station: receipts, epoch resets and rejections.

A receipt is the station's proof of what the hub holds; the hub sends one only after the batch
it acknowledges is durably stored. Hub-signed messages are checked against the hub's key ring
(pinned at enrolment) at position (1, hub_seq) of the hub's own log. A receipt is two lines
(the first is shown wrapped)::

    kg1/receipt {"epoch":1,"head":"<64 hex>","hub":"hub","hub_seq":42,
                 "hub_time":1732800000000,"key":"<32 hex>","seq":500,"station":"st-a"}
    kg1/sig <128 hex>
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from sync_protocol.entries import MAX_EPOCH, MAX_SEQ
from sync_protocol.errors import Reason, RemoteProtocolError
from sync_protocol.hlc import COUNTER_MAX, Hlc
from sync_protocol.keys import KeyRing, SigningKey
from sync_protocol.signed import check_signed, parse_signed, sign

HUB_EPOCH = 1  # the hub's own log has a single epoch
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Receipt:
    """The hub holds `station`'s log up to (`epoch`, `seq`) with head `head`."""

    station: str
    epoch: int
    seq: int
    head: str
    hub: str
    hub_seq: int  # the hub log's head when the receipt was made
    hub_time: int  # hub wall clock, ms; the station's HLC never falls below it


@dataclass(frozen=True)
class EpochReset:
    """The hub lets `station` append again in `epoch`, after (`base_seq`, `base_hash`)."""

    station: str
    hub: str
    epoch: int
    base_seq: int
    base_hash: str
    hlc_floor: Hlc  # the highest stamp the hub saw from the station: start above it
    hub_seq: int
    hub_time: int


@dataclass(frozen=True)
class Rejection:
    """The hub refused a message from `station` for `reason`."""

    station: str
    hub: str
    reason: Reason
    detail: str
    hub_seq: int
    hub_time: int


def sign_receipt(receipt: Receipt, key: SigningKey) -> bytes:
    """The signed receipt bytes."""
    return sign("receipt", asdict(receipt), key)


def sign_reset(reset: EpochReset, key: SigningKey) -> bytes:
    """The signed epoch-reset bytes."""
    obj = {**asdict(reset), "hlc_floor": list(reset.hlc_floor)}
    return sign("reset", obj, key)


def sign_rejection(rejection: Rejection, key: SigningKey) -> bytes:
    """The signed rejection bytes."""
    return sign("reject", {**asdict(rejection), "reason": rejection.reason.value}, key)


def verify_receipt(data: bytes, hub_keys: KeyRing, hub: str, station: str) -> Receipt:
    """The receipt in `data` if the pinned hub key signed it for `station`, else raise."""
    obj = _open("receipt", data, hub_keys, hub, station)
    _need(obj, ("epoch", "head", "hub", "hub_seq", "hub_time", "key", "seq", "station"))
    _ints(obj, epoch=(1, MAX_EPOCH), seq=(0, MAX_SEQ), hub_seq=(0, MAX_SEQ), hub_time=(0, MAX_SEQ))
    if type(obj["head"]) is not str or not _HEX64.fullmatch(obj["head"]):
        raise RemoteProtocolError(Reason.MALFORMED, "receipt: head must be 64 hex digits")
    return Receipt(
        station, obj["epoch"], obj["seq"], obj["head"], hub, obj["hub_seq"], obj["hub_time"]
    )


def verify_reset(data: bytes, hub_keys: KeyRing, hub: str, station: str) -> EpochReset:
    """The epoch reset in `data` if the pinned hub key signed it for `station`, else raise."""
    obj = _open("reset", data, hub_keys, hub, station)
    _need(
        obj,
        (
            "base_hash",
            "base_seq",
            "epoch",
            "hlc_floor",
            "hub",
            "hub_seq",
            "hub_time",
            "key",
            "station",
        ),
    )
    _ints(
        obj,
        epoch=(2, MAX_EPOCH),
        base_seq=(0, MAX_SEQ),
        hub_seq=(0, MAX_SEQ),
        hub_time=(0, MAX_SEQ),
    )
    floor = obj["hlc_floor"]
    if not (
        type(floor) is list
        and len(floor) == 2
        and all(type(x) is int for x in floor)
        and 0 <= floor[0] <= MAX_SEQ
        and 0 <= floor[1] <= COUNTER_MAX
    ):
        raise RemoteProtocolError(Reason.MALFORMED, "reset: hlc_floor must be [wall, counter]")
    if type(obj["base_hash"]) is not str or not _HEX64.fullmatch(obj["base_hash"]):
        raise RemoteProtocolError(Reason.MALFORMED, "reset: base_hash must be 64 hex digits")
    return EpochReset(
        station,
        hub,
        obj["epoch"],
        obj["base_seq"],
        obj["base_hash"],
        Hlc(*floor),
        obj["hub_seq"],
        obj["hub_time"],
    )


def verify_rejection(data: bytes, hub_keys: KeyRing, hub: str, station: str) -> Rejection:
    """The rejection in `data` if the pinned hub key signed it for `station`, else raise."""
    obj = _open("reject", data, hub_keys, hub, station)
    _need(obj, ("detail", "hub", "hub_seq", "hub_time", "key", "reason", "station"))
    _ints(obj, hub_seq=(0, MAX_SEQ), hub_time=(0, MAX_SEQ))
    try:
        reason = Reason(obj["reason"])
    except ValueError:
        raise RemoteProtocolError(Reason.MALFORMED, "reject: unknown reason") from None
    if type(obj["detail"]) is not str:
        raise RemoteProtocolError(Reason.MALFORMED, "reject: detail must be text")
    return Rejection(station, hub, reason, obj["detail"], obj["hub_seq"], obj["hub_time"])


def _open(kind: str, data: bytes, hub_keys: KeyRing, hub: str, station: str) -> dict[str, Any]:
    try:
        signed = parse_signed(kind, data)
    except (TypeError, ValueError) as exc:
        raise RemoteProtocolError(Reason.MALFORMED, f"{kind}: {exc}") from None
    obj = signed.obj
    if obj.get("hub") != hub:
        raise RemoteProtocolError(Reason.WRONG_STATION, f"{kind} is not from hub {hub!r}")
    if obj.get("station") != station:
        raise RemoteProtocolError(Reason.WRONG_STATION, f"{kind} is for another station")
    hub_seq = obj.get("hub_seq")
    if type(hub_seq) is not int or not 0 <= hub_seq <= MAX_SEQ:
        raise RemoteProtocolError(Reason.MALFORMED, f"{kind}: hub_seq must be an integer")
    refusal = check_signed(signed, hub_keys, hub, (HUB_EPOCH, hub_seq))
    if refusal is not None:
        raise RemoteProtocolError(refusal, f"{kind} signed by key {obj['key']}")
    return obj


def _need(obj: dict[str, Any], keys: tuple[str, ...]) -> None:
    if tuple(obj) != keys:
        raise RemoteProtocolError(Reason.MALFORMED, f"expected exactly the keys {', '.join(keys)}")


def _ints(obj: dict[str, Any], **ranges: tuple[int, int]) -> None:
    for name, (low, high) in ranges.items():
        value = obj[name]
        if type(value) is not int or not low <= value <= high:
            raise RemoteProtocolError(
                Reason.MALFORMED, f"{name} must be an integer in {low}..{high}"
            )


@dataclass(frozen=True)
class RestoreCheck:
    """Whether a station may append, judged from its head and its newest receipt."""

    may_append: bool
    reason: str  # "ok" | "behind_receipt" | "diverged" | "newer_epoch"


def check_restore(
    epoch: int, head_seq: int, head_hash: str, receipt: Receipt | None
) -> RestoreCheck:
    """On start: a head behind the hub's receipt means a restored backup; stop appending."""
    if receipt is None:
        return RestoreCheck(True, "ok")
    if receipt.epoch > epoch:
        return RestoreCheck(False, "newer_epoch")
    if receipt.epoch == epoch and receipt.seq > head_seq:
        return RestoreCheck(False, "behind_receipt")
    if receipt.epoch == epoch and receipt.seq == head_seq and receipt.head != head_hash:
        return RestoreCheck(False, "diverged")
    return RestoreCheck(True, "ok")
