"""A batch's entry lines read into checked entries, each linked to the one before it.

`link_entries` is the one door: a fast path judges a well-formed batch all at once, and any
doubt sends the batch through the slow path, which reads it entry by entry and names the first
problem. Both give the same entries for the same lines (tests/sync_protocol/
test_sync_batch_path.py); the verifier then decides what the chain means for the receiver.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from itertools import chain, compress, repeat
from operator import is_, methodcaller
from typing import Any, NamedTuple

from sync_protocol import canonical
from sync_protocol.entries import (
    _ENTITIES_SEEN,
    _HEX64,
    ENTRY_TAG,
    ENVELOPE,
    OPS,
    Entry,
    _entity_ok,
    envelope,
    from_json,
)
from sync_protocol.errors import Reason, RemoteProtocolError
from sync_protocol.hlc import COUNTER_MAX

_TAG_LEN = len(ENTRY_TAG)
_LINE = f"{ENTRY_TAG.decode()}{ENVELOPE}\n"  # one entry line, filled with validated values
_FIELDS_ENCODER = canonical.chunk_encoder()
_SCAN: Callable[[str, int], tuple[Any, int]]
_SCAN = canonical.FAST_DECODER.scan_once  # type: ignore[attr-defined]
_join, _hexdigest = "".join, methodcaller("hexdigest")


class AcceptedEntry(NamedTuple):
    """A verified entry with its exact bytes and hash, ready to store."""

    entry: Entry
    raw: bytes
    hash: str


def link_entries(
    data: bytes,
    lines: tuple[bytes, ...],
    station: str,
    epoch: int,
    last_seq: int,
    head: str,
    cp_hlc: tuple[int, int],
) -> list[AcceptedEntry]:
    """The entry `lines` (at the end of batch `data`) as entries seq ..`last_seq` whose hashes
    chain up to `head`, none stamped after `cp_hlc`; RemoteProtocolError on the first problem.
    """
    accepted = _chain_batch(data, lines, station, epoch, last_seq, head, cp_hlc)
    if accepted is None:  # something is wrong: find the first problem, entry by entry
        accepted = _chain(lines, station, epoch, last_seq, head, cp_hlc)
    return accepted


def _chain_batch(
    data: bytes,
    lines: tuple[bytes, ...],
    station: str,
    epoch: int,
    last_seq: int,
    head: str,
    cp_hlc: tuple[int, int],
) -> list[AcceptedEntry] | None:
    """Every entry line of a well-formed batch at once; None when anything is off.

    The C JSON scanner, run over the batch text line after line (no joined copy), proposes
    each entry's values. They are checked a column at a time, then every line is rebuilt from
    them in canonical form, with this batch's station, epoch, seq and hash links filled in, and
    the rebuilt text must equal the received text exactly. Everything the rebuild writes
    without escaping is checked first (names, entity, op, prev, integers), so a rebuilt line is
    the canonical encoding of the Entry returned for it, and an accepted line is exactly that
    entry's canonical bytes. Any doubt returns None: `_chain` then judges the batch entry by
    entry and names the first bad one.
    """
    n = len(lines)
    first_seq = last_seq - n + 1
    if first_seq < 1:
        return None
    try:
        region = data[len(data) - sum(map(len, lines)) - n :]
        text = region.decode("utf-8")
        objs = _scan_lines(text, n)
        # dict.values refuses a non-object; a key count other than 10 fails the unpacking or the
        # strict zip
        entities, ids, _, fields, hlcs, ops, origins, prevs, _, _ = zip(
            *map(dict.values, objs), strict=True
        )
        if set(map(type, hlcs)) != {list} or set(map(len, hlcs)) != {2}:
            return None
        # walls and counters: compared with ints here (TypeError for anything but int or bool) and
        # written with %d below, where a bool prints as 1 or 0 and cannot match its received text
        walls, counters = zip(*hlcs, strict=True)
        if (
            min(walls) < 0
            or not 0 <= min(counters) <= max(counters) <= COUNTER_MAX
            or max(zip(walls, counters, strict=True)) > cp_hlc
            or set(map(type, fields)) != {dict}
            or not OPS.issuperset(ops)
            or not (_ENTITIES_SEEN.issuperset(entities) or all(map(_entity_ok, set(entities))))
            or not _names(ids)
            or not (set(origins) == {station} or _names(origins))
            or type(prevs[0]) is not str
            or not _HEX64.fullmatch(prevs[0])
        ):
            return None
        hashes = list(map(_hexdigest, map(hashlib.sha256, lines)))
        if hashes[-1] != head:
            return None
        links = [prevs[0], *hashes[:-1]]
        seqs, stations, epochs = range(first_seq, last_seq + 1), repeat(station), repeat(epoch)
        field_texts = map(_join, map(_FIELDS_ENCODER, fields, repeat(0)))
        values = chain.from_iterable(
            zip(
                entities, ids, field_texts, walls, counters, ops, origins, links, seqs, strict=False
            )
        )
        if (_line_template(station, epoch) * n) % tuple(values) != text:  # one format for the batch
            return None
        if region.translate(_NUMBER_CLASSES).find(_LONG_NUMBER) >= 0 and not _ints_in_range(fields):
            return None
    except (
        ValueError,
        TypeError,
        AttributeError,
        KeyError,
        IndexError,
        RecursionError,
        StopIteration,
    ):
        return None
    entries = map(
        tuple.__new__,
        repeat(Entry),
        zip(
            stations,
            epochs,
            seqs,
            links,
            walls,
            counters,
            entities,
            ids,
            ops,
            fields,
            origins,
            strict=False,
        ),
    )
    return list(map(tuple.__new__, repeat(AcceptedEntry), zip(entries, lines, hashes, strict=True)))


def _scan_lines(text: str, n: int) -> list[Any]:
    """The JSON value at the start of each of the `n` entry lines of `text`, scanned in place.

    Each value is read where the previous one ended plus a newline and a tag; what lies there
    is only proposed: the rebuilt text must still equal `text` exactly. StopIteration or
    ValueError when there is no value to read.
    """
    scan, skip, end = _SCAN, _TAG_LEN + 1, -1
    objs: list[Any] = []
    append = objs.append
    for _ in range(n):
        obj, end = scan(text, end + skip)
        append(obj)
    return objs


def _line_template(station: str, epoch: int) -> str:
    """`_LINE` with this batch's station and epoch written in: 9 values per entry are left.

    The station is a checked name (no quote or backslash); a "%" in it is doubled so the
    template still takes exactly the per-entry values.
    """
    return _LINE.replace('"epoch":%d', f'"epoch":{epoch:d}').replace(
        '"station":"%s"', '"station":"' + station.replace("%", "%%") + '"'
    )


def _number_classes() -> bytes:
    """A bytes.translate table: digits to 0, what may come right before a JSON number to +."""
    table = bytearray(b"x" * 256)
    for c in b"0123456789":
        table[c] = ord("0")
    for c in b":[,-":
        table[c] = ord("+")
    return bytes(table)


# A JSON number starts after ":", "[", "," or "-"; one of 18 digits or fewer fits in 64 bits.
# Finding no such run of 19 digits in the translated bytes proves every integer is in range.
_NUMBER_CLASSES, _LONG_NUMBER = _number_classes(), b"+" + b"0" * 19


def _ints_in_range(objects: Sequence[dict[str, Any]]) -> bool:
    """True when every integer inside `objects` (decoded JSON) is within 64 bits."""
    values = list(chain.from_iterable(map(dict.values, objects)))
    while values:
        kinds = list(map(type, values))
        present = set(kinds)
        if int in present:
            ints = list(compress(values, map(is_, kinds, repeat(int))))
            if min(ints) < canonical.INT_MIN or max(ints) > canonical.INT_MAX:
                return False
        nested: list[Any] = []
        if dict in present:
            dicts = compress(values, map(is_, kinds, repeat(dict)))
            nested.extend(chain.from_iterable(map(dict.values, dicts)))
        if list in present:
            nested.extend(chain.from_iterable(compress(values, map(is_, kinds, repeat(list)))))
        values = nested
    return True


def _names(names: Sequence[str]) -> bool:
    """`is_name` for every item, with a few calls over all of them joined by spaces."""
    joined = " ".join(names)  # TypeError when one is not a string
    return (
        joined.isascii()
        and joined.isprintable()
        and joined.count(" ") == len(names) - 1
        and '"' not in joined
        and "\\" not in joined
        and 0 < min(map(len, names))
        and max(map(len, names)) <= 64
    )


def _chain(
    lines: tuple[bytes, ...],
    station: str,
    epoch: int,
    last_seq: int,
    head: str,
    cp_hlc: tuple[int, int],
) -> list[AcceptedEntry]:
    """Decode, hash and link every entry line; RemoteProtocolError on the first problem."""
    tag_len = len(ENTRY_TAG)
    sha256 = hashlib.sha256
    decode, encode = canonical.FAST_DECODER.decode, canonical.ENCODER.encode
    check_scalars = canonical.check_scalars
    out: list[AcceptedEntry] = []
    prev_hash = None
    expected_seq = last_seq - len(lines) + 1
    for raw in lines:
        if raw[:tag_len] != ENTRY_TAG:
            raise RemoteProtocolError(
                Reason.MALFORMED, f"line for seq {expected_seq} is not an entry"
            )
        try:  # decode once; the canonical check re-encodes only `fields` (see entries.envelope)
            text = raw[tag_len:].decode("utf-8")
            obj = decode(text)
        except (ValueError, RecursionError):
            raise RemoteProtocolError(
                Reason.MALFORMED, f"entry for seq {expected_seq} is not JSON"
            ) from None
        if type(obj) is not dict:
            raise RemoteProtocolError(
                Reason.MALFORMED, f"entry for seq {expected_seq} is not an object"
            )
        entry = from_json(obj)  # checks the envelope's integer ranges
        try:
            check_scalars(entry.fields, "fields")  # and the fields' (no float, 64-bit ints)
            canonical_form = envelope(entry, encode(entry.fields)) == text
        except (ValueError, RecursionError):
            canonical_form = False
        if not canonical_form:
            raise RemoteProtocolError(
                Reason.MALFORMED, f"entry {entry.seq} is not in canonical form"
            )
        if entry.station != station:
            raise RemoteProtocolError(
                Reason.WRONG_STATION, f"entry {entry.seq} names station {entry.station!r}"
            )
        if entry.epoch != epoch:
            raise RemoteProtocolError(
                Reason.WRONG_EPOCH, f"entry {entry.seq} is in epoch {entry.epoch}"
            )
        if entry.seq != expected_seq:
            raise RemoteProtocolError(
                Reason.BROKEN_CHAIN, f"expected seq {expected_seq}, got {entry.seq}"
            )
        if prev_hash is not None and entry.prev != prev_hash:
            raise RemoteProtocolError(
                Reason.BROKEN_CHAIN, f"entry {entry.seq} does not follow entry {entry.seq - 1}"
            )
        if (entry.hlc_wall, entry.hlc_counter) > cp_hlc:
            raise RemoteProtocolError(
                Reason.CLOCK_DRIFT, f"entry {entry.seq} is stamped after its checkpoint"
            )
        prev_hash = sha256(raw).hexdigest()
        out.append(AcceptedEntry(entry, raw, prev_hash))
        expected_seq += 1
    if prev_hash != head:
        raise RemoteProtocolError(
            Reason.BROKEN_CHAIN, "last entry's hash is not the checkpoint head"
        )
    return out
