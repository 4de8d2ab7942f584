"""Change entries: one per local change, hashed and chained by the previous entry's hash.

Canonical bytes (see docs/sync-protocol.md)::

    kg1/entry {"entity":"worker","entity_id":"w1","epoch":1,"fields":{...},"hlc":[1732800000000,0],
               "op":"update","origin":"st-a","prev":"<64 hex>","seq":7,"station":"st-a"}

(on one line). The entry hash is SHA-256 of exactly those bytes, tag included, as 64 lowercase
hex digits. The first entry of a log has ``prev`` = 64 zeros (`GENESIS_HASH`).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any, NamedTuple

from sync_protocol import canonical
from sync_protocol.errors import LocalProtocolError, Reason, RemoteProtocolError
from sync_protocol.hlc import COUNTER_MAX, Hlc

GENESIS_HASH = "0" * 64
OPS = frozenset({"create", "update", "delete", "rotate", "revoke"})
ROTATION_ENTITY = "station_key"  # op "rotate": entity_id = new key id, fields {"public_key": hex}
MAX_SEQ = 2**63 - 1
MAX_EPOCH = 2**31 - 1
ENTRY_TAG = canonical.tag("entry")
_KEYS = ("entity", "entity_id", "epoch", "fields", "hlc", "op", "origin", "prev", "seq", "station")
_ENTITY = re.compile(r"[a-z][a-z0-9_]{0,31}")
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Entry(NamedTuple):
    """One change in one log; field names follow the station's ChangeEntry row."""

    station: str
    epoch: int
    seq: int
    prev: str
    hlc_wall: int
    hlc_counter: int
    entity: str
    entity_id: str
    op: str
    fields: dict[str, Any]
    origin: str

    @property
    def hlc(self) -> Hlc:
        """The entry's HLC stamp."""
        return Hlc(self.hlc_wall, self.hlc_counter)


def make_entry(
    *,
    station: str,
    epoch: int,
    seq: int,
    prev_hash: str | None,
    hlc: Hlc | tuple[int, int],
    entity: str,
    entity_id: str | int,
    op: str,
    fields: dict[str, Any],
    origin: str | None = None,
) -> Entry:
    """A checked Entry; `prev_hash` None means the first entry of the log."""
    wall, counter = hlc
    entry = Entry(
        station,
        epoch,
        seq,
        GENESIS_HASH if prev_hash is None else prev_hash,
        wall,
        counter,
        entity,
        str(entity_id),
        op,
        fields,
        station if origin is None else origin,
    )
    try:
        _validate(entry)
    except RemoteProtocolError as exc:
        raise LocalProtocolError(exc.reason, exc.detail) from None
    return entry


def encode_entry(entry: Entry) -> bytes:
    """The canonical bytes of `entry` (build it with make_entry so it is checked)."""
    try:
        canonical.check_scalars(entry.fields, "fields")
        return ENTRY_TAG + envelope(entry, canonical.encode_body(entry.fields)).encode("utf-8")
    except (ValueError, TypeError, UnicodeEncodeError, RecursionError) as exc:
        raise LocalProtocolError(Reason.MALFORMED, f"cannot encode entry: {exc}") from None


# The canonical JSON of an entry, to be filled with its *validated* values in key order (below).
ENVELOPE = (
    '{"entity":"%s","entity_id":"%s","epoch":%d,"fields":%s,"hlc":[%d,%d],"op":"%s",'
    '"origin":"%s","prev":"%s","seq":%d,"station":"%s"}'
)


def envelope(e: Entry, fields_json: str) -> str:
    """The canonical JSON text of a *validated* entry, given its fields' canonical JSON.

    Exactly what the sorted-key encoder writes: validated names, entity, op and prev hold no
    character JSON escapes, and integers print as themselves. Building it directly saves
    re-encoding the whole entry on the hot path.
    """
    return ENVELOPE % (
        e.entity,
        e.entity_id,
        e.epoch,
        fields_json,
        e.hlc_wall,
        e.hlc_counter,
        e.op,
        e.origin,
        e.prev,
        e.seq,
        e.station,
    )


def entry_hash(data: bytes) -> str:
    """SHA-256 of the exact entry bytes, 64 lowercase hex digits."""
    return hashlib.sha256(data).hexdigest()


def decode_entry(data: bytes) -> Entry:
    """The Entry in canonical bytes; RemoteProtocolError(MALFORMED) for anything else."""
    obj = canonical.decode("entry", data)
    return from_json(obj)


def from_json(obj: dict[str, Any]) -> Entry:
    """The Entry in a decoded canonical object; RemoteProtocolError(MALFORMED) if it is not one."""
    if tuple(obj) != _KEYS:
        raise RemoteProtocolError(
            Reason.MALFORMED, f"entry keys must be exactly {', '.join(_KEYS)}"
        )
    hlc = obj["hlc"]
    if type(hlc) is not list or len(hlc) != 2:
        raise RemoteProtocolError(Reason.MALFORMED, "entry hlc must be [wall_ms, counter]")
    entry = Entry(
        obj["station"],
        obj["epoch"],
        obj["seq"],
        obj["prev"],
        hlc[0],
        hlc[1],
        obj["entity"],
        obj["entity_id"],
        obj["op"],
        obj["fields"],
        obj["origin"],
    )
    _validate(entry)
    return entry


def is_name(value: object) -> bool:
    """A station id, origin or entity id: 1-64 printable ASCII, no space, quote or backslash."""
    return (
        type(value) is str
        and 0 < len(value) <= 64
        and value.isascii()
        and value.isprintable()
        and " " not in value
        and '"' not in value
        and "\\" not in value
    )


def _valid(e: Entry) -> bool:
    """Every check of `_validate` in one expression (the hot path); False sends it there."""
    station, prev, entity, op = e.station, e.prev, e.entity, e.op
    return (
        type(station) is str
        and (station in _NAMES_SEEN or _name_ok(station))
        and (e.origin == station or is_name(e.origin))
        and type(e.epoch) is int
        and 1 <= e.epoch <= MAX_EPOCH
        and type(e.seq) is int
        and 1 <= e.seq <= MAX_SEQ
        and type(prev) is str
        and len(prev) == 64
        and not prev.strip(_HEX_DIGITS)
        and type(e.hlc_wall) is int
        and 0 <= e.hlc_wall <= MAX_SEQ
        and type(e.hlc_counter) is int
        and 0 <= e.hlc_counter <= COUNTER_MAX
        and type(entity) is str
        and (entity in _ENTITIES_SEEN or _entity_ok(entity))
        and is_name(e.entity_id)
        and type(op) is str
        and op in OPS
        and type(e.fields) is dict
    )


def _validate(e: Entry) -> None:
    if _valid(e):
        return
    problem = None
    if not is_name(e.station):
        problem = "station must be 1-64 printable ASCII characters"
    elif e.origin != e.station and not is_name(e.origin):
        problem = "origin must be 1-64 printable ASCII characters"
    elif type(e.epoch) is not int or not 1 <= e.epoch <= MAX_EPOCH:
        problem = "epoch must be an integer >= 1"
    elif type(e.seq) is not int or not 1 <= e.seq <= MAX_SEQ:
        problem = "seq must be an integer >= 1"
    elif type(e.prev) is not str or not _HEX64.fullmatch(e.prev):
        problem = "prev must be 64 lowercase hex digits"
    elif type(e.hlc_wall) is not int or not 0 <= e.hlc_wall <= MAX_SEQ:
        problem = "hlc wall must be an integer >= 0 (milliseconds)"
    elif type(e.hlc_counter) is not int or not 0 <= e.hlc_counter <= COUNTER_MAX:
        problem = "hlc counter must be an integer >= 0"
    elif type(e.entity) is not str or (e.entity not in _ENTITIES_SEEN and not _entity_ok(e.entity)):
        problem = "entity must match [a-z][a-z0-9_]{0,31}"
    elif not is_name(e.entity_id):
        problem = "entity_id must be 1-64 printable ASCII characters"
    elif type(e.op) is not str or e.op not in OPS:
        problem = f"op must be one of {', '.join(sorted(OPS))}"
    elif type(e.fields) is not dict:
        problem = "fields must be an object"
    if problem is not None:
        raise RemoteProtocolError(Reason.MALFORMED, f"entry: {problem}")


_ENTITIES_SEEN: set[str] = set()
_NAMES_SEEN: set[str] = set()  # station ids: few, and checked on every entry
_HEX_DIGITS = "0123456789abcdef"


def _name_ok(name: str) -> bool:
    if not is_name(name):
        return False
    if len(_NAMES_SEEN) < 256:
        _NAMES_SEEN.add(name)
    return True


def _entity_ok(entity: str) -> bool:
    if not _ENTITY.fullmatch(entity):
        return False
    if len(_ENTITIES_SEEN) < 256:  # remember a few valid names: the check runs per entry
        _ENTITIES_SEEN.add(entity)
    return True
