"""The receiver's verdict on a batch, keyed on the head it has accepted from that log.

Rules (docs/sync-protocol.md, "Verdicts"): next seq with matching prev -> Apply; everything
already held with the same hash -> Replay; a different hash at a held seq -> Fork (with both
signed checkpoints); a batch starting past the next seq -> Gap (hold it, ask for the range);
anything else -> Rejected with a Reason. `verify_batch` returns a verdict for any bytes and
raises only LocalProtocolError, for mistakes of its caller.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import chain, compress, repeat
from operator import attrgetter, is_, methodcaller
from typing import Any, NamedTuple

from sync_protocol import canonical
from sync_protocol.batches import DEFAULT_LIMITS, Limits, parse_batch
from sync_protocol.entries import (
    _ENTITIES_SEEN,
    _HEX64,
    ENTRY_TAG,
    ENVELOPE,
    GENESIS_HASH,
    OPS,
    ROTATION_ENTITY,
    Entry,
    _entity_ok,
    envelope,
    from_json,
)
from sync_protocol.errors import LocalProtocolError, Reason, RemoteProtocolError
from sync_protocol.hlc import COUNTER_MAX
from sync_protocol.keys import KeyRecord, KeyRing, key_id, verify_signature
from sync_protocol.signed import Signed, check_signed

HashAt = Callable[[int, int], "str | None"]  # (epoch, seq) -> accepted entry hash
_TAG_LEN = len(ENTRY_TAG)
_LINE = f"{ENTRY_TAG.decode()}{ENVELOPE}\n"  # one entry line, filled with validated values
_FIELDS_ENCODER = canonical.chunk_encoder()
_SCAN: Callable[[str, int], tuple[Any, int]] = canonical.FAST_DECODER.scan_once  # type: ignore[attr-defined]
_join, _hexdigest, _op_of = "".join, methodcaller("hexdigest"), attrgetter("entry.op")


@dataclass(frozen=True)
class ChainHead:
    """What a receiver has accepted from one log: the head and the checkpoint that signed it."""

    station: str
    epoch: int = 1
    seq: int = 0
    head: str = GENESIS_HASH
    checkpoint: bytes | None = None
    frozen: bool = False

    def reset(self, epoch: int, base_seq: int, base_hash: str) -> ChainHead:
        """The head after a hub-signed epoch reset: the new epoch continues from the base."""
        return ChainHead(self.station, epoch, base_seq, base_hash, None, False)


class AcceptedEntry(NamedTuple):
    """A verified entry with its exact bytes and hash, ready to store."""

    entry: Entry
    raw: bytes
    hash: str


@dataclass(frozen=True)
class Apply:
    """Store these entries and the new head in one transaction, then send a receipt."""

    entries: tuple[AcceptedEntry, ...]
    head: ChainHead
    keys: KeyRing  # the ring after any rotation entry in this batch
    rotations: tuple[KeyRecord, ...] = ()
    clock_skew_ms: int = 0  # the sender's checkpoint HLC minus our wall clock


@dataclass(frozen=True)
class Replay:
    """Already held: acknowledge, change nothing."""

    seq: int
    head: ChainHead


@dataclass(frozen=True)
class ForkEvidence:
    """Two signed histories of one log that disagree at `seq`."""

    station: str
    epoch: int
    seq: int
    accepted_hash: str
    conflicting_hash: str
    accepted_checkpoint: bytes | None
    conflicting_checkpoint: bytes
    conflicting_batch: bytes


@dataclass(frozen=True)
class Fork:
    """Reject, keep the evidence, freeze the log and show it to an admin."""

    evidence: ForkEvidence


@dataclass(frozen=True)
class Gap:
    """Starts past the next seq: hold `batch`, ask for `missing_from`..`missing_to`."""

    missing_from: int
    missing_to: int
    batch: bytes


@dataclass(frozen=True)
class Rejected:
    """Refused; `reason` is machine-readable, `detail` says what exactly.

    `proven` is True only when the refused bytes are provably the log owner's: the checkpoint's
    signature verifies with a key of that log and, for a problem in the entries, the checkpoint
    covers their exact bytes. Only a proven refusal may count against the owner (freeze it,
    keep evidence); anyone can send an unproven one.
    """

    reason: Reason
    detail: str
    proven: bool = False


Verdict = Apply | Replay | Fork | Gap | Rejected


def verify_batch(
    data: bytes,
    head: ChainHead,
    keys: KeyRing,
    now_ms: int,
    *,
    hash_at: HashAt | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Verdict:
    """Verify batch bytes from `head.station`'s log against what the receiver holds."""
    # One bounded batch (Limits) makes thousands of small containers and no cycles: the cyclic
    # collector is held off while it is verified, then put back as the caller had it.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verify(bytes(data), head, keys, now_ms, hash_at, limits)
    except RemoteProtocolError as exc:
        return Rejected(exc.reason, exc.detail)
    except LocalProtocolError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as exc:
        return Rejected(Reason.MALFORMED, f"unreadable batch ({type(exc).__name__})")
    finally:
        if collecting:
            gc.enable()


def _verify(
    data: bytes, head: ChainHead, keys: KeyRing, now_ms: int, hash_at: HashAt | None, limits: Limits
) -> Verdict:
    batch = parse_batch(data, limits)
    signed_cp = batch.checkpoint
    cp = signed_cp.checkpoint
    if cp.station != head.station:
        return Rejected(
            Reason.WRONG_STATION, f"batch is from {cp.station!r}, expected {head.station!r}"
        )
    if head.frozen:
        return Rejected(Reason.FROZEN, f"{head.station} is frozen after a fork")
    refusal = check_signed(signed_cp.signed, keys, head.station, (cp.epoch, cp.seq))
    if refusal is not None:
        return Rejected(
            refusal,
            f"checkpoint {cp.epoch}/{cp.seq} signed by key {cp.key}",
            _signed_by_owner(signed_cp.signed, keys, head.station),
        )
    if cp.epoch != head.epoch:
        return Rejected(
            Reason.WRONG_EPOCH, f"batch epoch {cp.epoch}, accepted epoch {head.epoch}", True
        )
    if cp.hlc.wall > now_ms + limits.max_drift_ms:
        return Rejected(
            Reason.CLOCK_DRIFT, f"checkpoint HLC is {cp.hlc.wall - now_ms} ms ahead", True
        )
    # Proven: the checkpoint signs these exact entry bytes (a covering checkpoint). A batch whose
    # entries are not the signed ones is anyone's; one whose signed entries break the chain is
    # the owner's own.
    proven = cp.entries is not None and _entry_region(data, batch.entries) == cp.entries
    cp_hlc = (cp.hlc.wall, cp.hlc.counter)
    try:
        accepted = _chain_batch(data, batch.entries, cp.station, cp.epoch, cp.seq, cp.head, cp_hlc)
        if accepted is None:  # something is wrong: find the first problem, entry by entry
            accepted = _chain(batch.entries, cp.station, cp.epoch, cp.seq, cp.head, cp_hlc)
    except RemoteProtocolError as exc:
        return Rejected(exc.reason, exc.detail, proven)
    if cp.entries is not None and not proven:
        return Rejected(Reason.ALTERED, "the entries are not the ones the checkpoint signs")
    first = accepted[0].entry

    if cp.seq <= head.seq:  # everything already held: replay or fork
        held = head.head if cp.seq == head.seq else _held(hash_at, cp.epoch, cp.seq)
        if held == cp.head:
            return Replay(cp.seq, head)
        return _fork(head, cp.seq, held, cp.head, signed_cp.to_bytes(), data)
    if first.seq > head.seq + 1:
        return Gap(head.seq + 1, first.seq - 1, data)
    if first.seq <= head.seq:  # overlaps the head: the entry at head.seq must be ours
        ours = accepted[head.seq - first.seq]
        if ours.hash != head.head:
            return _fork(head, head.seq, head.head, ours.hash, signed_cp.to_bytes(), data)
        new = accepted[head.seq - first.seq + 1 :]
    else:  # first.seq == head.seq + 1
        if first.prev != head.head:
            return _fork(head, head.seq, head.head, first.prev, signed_cp.to_bytes(), data)
        new = accepted
    try:
        new_keys, rotations = _rotations(new, keys, cp.key)
    except RemoteProtocolError as exc:
        return Rejected(exc.reason, exc.detail, True)  # the chain holds: the signer's own entries
    new_head = ChainHead(head.station, cp.epoch, cp.seq, cp.head, signed_cp.to_bytes())
    return Apply(tuple(new), new_head, new_keys, rotations, cp.hlc.wall - now_ms)


def _entry_region(data: bytes, lines: tuple[bytes, ...]) -> str:
    """SHA-256 hex of the entry lines at the end of `data` (each with its newline)."""
    return hashlib.sha256(data[len(data) - sum(map(len, lines)) - len(lines) :]).hexdigest()


def _signed_by_owner(signed: Signed, keys: KeyRing, owner: str) -> bool:
    """True when a key of `owner` (even one retired or revoked) made this signature."""
    record = keys.get(signed.obj["key"])
    return (
        record is not None
        and record.owner == owner
        and verify_signature(record.public_key, signed.signature, signed.body)
    )


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


def _held(hash_at: HashAt | None, epoch: int, seq: int) -> str:
    held = hash_at(epoch, seq) if hash_at is not None else None
    if held is None:
        raise LocalProtocolError(
            Reason.NOT_ALLOWED, f"hash_at must give the held hash of {epoch}/{seq}"
        )
    return held


def _fork(
    head: ChainHead, seq: int, held: str, theirs: str, checkpoint: bytes, data: bytes
) -> Fork:
    return Fork(
        ForkEvidence(head.station, head.epoch, seq, held, theirs, head.checkpoint, checkpoint, data)
    )


def _rotations(
    new: list[AcceptedEntry], keys: KeyRing, signer: str
) -> tuple[KeyRing, tuple[KeyRecord, ...]]:
    """Apply a key rotation entry: it must end its batch, signed by the key it replaces."""
    if "rotate" not in set(map(_op_of, new)):
        return keys, ()
    for i, item in enumerate(new):
        e = item.entry
        if e.entity != ROTATION_ENTITY or e.op != "rotate":
            continue
        public_hex = e.fields.get("public_key")
        if i != len(new) - 1:
            raise RemoteProtocolError(
                Reason.MALFORMED, "a key rotation must be the last entry of its batch"
            )
        if type(public_hex) is not str or len(public_hex) != 64:
            raise RemoteProtocolError(
                Reason.MALFORMED, "rotation: public_key must be 64 hex digits"
            )
        try:
            public = bytes.fromhex(public_hex)
        except ValueError:
            raise RemoteProtocolError(Reason.MALFORMED, "rotation: public_key is not hex") from None
        if key_id(public) != e.entity_id:
            raise RemoteProtocolError(
                Reason.MALFORMED, "rotation: entity_id is not the new key's id"
            )
        rotated = keys.rotated(signer, public, (e.epoch, e.seq))
        return rotated, (rotated[e.entity_id],)
    return keys, ()


def frozen(head: ChainHead) -> ChainHead:
    """`head`, frozen (after a fork) until an admin resets the log's epoch."""
    return replace(head, frozen=True)
