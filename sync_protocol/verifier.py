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
from collections.abc import Callable
from dataclasses import dataclass, replace
from operator import attrgetter

from sync_protocol.batches import DEFAULT_LIMITS, Limits, parse_batch
from sync_protocol.chains import AcceptedEntry, link_entries
from sync_protocol.entries import GENESIS_HASH, ROTATION_ENTITY
from sync_protocol.errors import LocalProtocolError, Reason, RemoteProtocolError
from sync_protocol.keys import KeyRecord, KeyRing, key_id, verify_signature
from sync_protocol.signed import Signed, check_signed

__all__ = [
    "AcceptedEntry",  # built in sync_protocol.chains; the verdicts carry it
    "Apply",
    "ChainHead",
    "Fork",
    "ForkEvidence",
    "Gap",
    "HashAt",
    "Rejected",
    "Replay",
    "Verdict",
    "frozen",
    "verify_batch",
]

HashAt = Callable[[int, int], "str | None"]  # (epoch, seq) -> accepted entry hash
_op_of = attrgetter("entry.op")


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
        accepted = link_entries(data, batch.entries, cp.station, cp.epoch, cp.seq, cp.head, cp_hlc)
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
