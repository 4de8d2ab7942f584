"""Session objects: "what I have / what you have" in, the next message and verdict out.

The station client and the hub's ingest stay thin: they read and write rows and move bytes;
these objects decide what to send and what a reply means. Nothing here is stored; the caller
persists `receipt`, `hub_head`, `head`, `keys` and the clock's `last` where it likes.
Rule kept from PouchDB's lesson: the hub signs a receipt only after `commit`, which the caller
calls once the batch is durably stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from sync_protocol.batches import DEFAULT_LIMITS, Limits, parse_batch, sign_batch
from sync_protocol.errors import LocalProtocolError, Reason, RemoteProtocolError
from sync_protocol.hlc import Hlc, HybridClock
from sync_protocol.keys import KeyRing, SigningKey
from sync_protocol.messages import Hello, Pull, encode_hello, encode_pull, parse_hello, parse_pull
from sync_protocol.receipts import (
    EpochReset,
    Receipt,
    Rejection,
    RestoreCheck,
    check_restore,
    sign_receipt,
    sign_rejection,
    sign_reset,
    verify_receipt,
    verify_rejection,
    verify_reset,
)
from sync_protocol.verifier import (
    Apply,
    ChainHead,
    Fork,
    Gap,
    HashAt,
    Replay,
    Verdict,
    frozen,
    verify_batch,
)


class StationSession:
    """The station's side: plans pushes from its last receipt, checks replies and hub batches."""

    def __init__(
        self,
        station: str,
        hub: str,
        key: SigningKey,
        hub_keys: KeyRing,
        clock: HybridClock,
        *,
        receipt: Receipt | None = None,
        hub_head: ChainHead | None = None,
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.station, self.hub, self.key = station, hub, key
        self.hub_keys = hub_keys
        self.clock = clock
        self.receipt = receipt
        self.reset: EpochReset | None = None
        self.hub_head = hub_head or ChainHead(hub)
        self.limits = limits

    # -- what I have ------------------------------------------------------------------------
    def check(self, epoch: int, head_seq: int, head_hash: str) -> RestoreCheck:
        """May the station append? Not when its head is behind the hub's receipt (a backup)."""
        return check_restore(epoch, head_seq, head_hash, self.receipt)

    def hello(self, epoch: int, head_seq: int) -> bytes:
        """A hello stating our head and how far we have read the hub's log."""
        return encode_hello(Hello(self.station, epoch, head_seq, self.hub_head.seq))

    def next_push(self, epoch: int, head_seq: int) -> tuple[int, int] | None:
        """The seq range (inclusive) to send next, within the limits; None when the hub has all."""
        accepted = self._accepted(epoch)
        if accepted is None or accepted >= head_seq:
            return None
        return accepted + 1, min(head_seq, accepted + self.limits.max_entries)

    def build_push(self, entries: Sequence[bytes], wall_ms: int) -> bytes:
        """Sign a batch of our entries (exact stored bytes of the planned range)."""
        return sign_batch(entries, self.key, self.clock.send(wall_ms))

    def receive_reply(self, data: bytes, wall_ms: int) -> Receipt | Rejection:
        """Check a hub reply (receipt or rejection); a newer receipt advances what the hub holds."""
        if bytes(data).startswith(b"kg1/reject "):
            rejection = verify_rejection(data, self.hub_keys, self.hub, self.station)
            self.clock.receive(Hlc(rejection.hub_time), wall_ms, trusted=True)
            return rejection
        receipt = verify_receipt(data, self.hub_keys, self.hub, self.station)
        self.clock.receive(Hlc(receipt.hub_time), wall_ms, trusted=True)
        old = self.receipt
        if old is None or (receipt.epoch, receipt.seq, receipt.hub_seq) >= (
            old.epoch,
            old.seq,
            old.hub_seq,
        ):
            self.receipt = receipt  # replies can arrive late and out of order: keep the newest
        return receipt

    def accept_reset(
        self, data: bytes, epoch: int, head_seq: int, head_hash: str, wall_ms: int
    ) -> EpochReset:
        """Check a hub-signed epoch reset naming our current head; then append in `reset.epoch`."""
        reset = verify_reset(data, self.hub_keys, self.hub, self.station)
        if reset.epoch <= epoch or (reset.base_seq, reset.base_hash) != (head_seq, head_hash):
            raise RemoteProtocolError(
                Reason.WRONG_EPOCH, "the reset does not continue from our head"
            )
        self.clock.receive(reset.hlc_floor, wall_ms, trusted=True)
        self.clock.receive(Hlc(reset.hub_time), wall_ms, trusted=True)
        self.reset = reset
        self.receipt = Receipt(
            self.station,
            reset.epoch,
            reset.base_seq,
            reset.base_hash,
            self.hub,
            reset.hub_seq,
            reset.hub_time,
        )
        return reset

    # -- what the hub has -------------------------------------------------------------------
    def pull(self, limit: int | None = None) -> bytes:
        """Ask for the hub's log after what we hold."""
        return encode_pull(Pull(self.station, self.hub_head.seq, limit or self.limits.max_entries))

    def receive_hub_batch(
        self, data: bytes, wall_ms: int, *, hash_at: HashAt | None = None
    ) -> Verdict:
        """Verify a batch of the hub's log; apply an Apply's entries, then call `commit_hub`."""
        return verify_batch(
            data, self.hub_head, self.hub_keys, wall_ms, hash_at=hash_at, limits=self.limits
        )

    def commit_hub(self, verdict: Apply, wall_ms: int) -> None:
        """Record that the hub entries of `verdict` are durably applied."""
        self.hub_head, self.hub_keys = verdict.head, verdict.keys
        if verdict.entries:
            top = max(item.entry.hlc for item in verdict.entries)
            self.clock.receive(top, wall_ms, trusted=True)

    def _accepted(self, epoch: int) -> int | None:
        r = self.receipt
        if r is None:
            return 0 if epoch == 1 else None  # a new station; after a reset we know the base
        if r.epoch == epoch:
            return r.seq
        return None  # the receipt is from another epoch: say hello first


class HubSession:
    """The hub's side for one station: verdicts on pushes, held gaps, signed replies."""

    def __init__(
        self,
        hub: str,
        key: SigningKey,
        head: ChainHead,
        keys: KeyRing,
        *,
        limits: Limits = DEFAULT_LIMITS,
        max_held: int = 16,
    ) -> None:
        self.hub, self.key = hub, key
        self.head, self.keys = head, keys
        self.limits = limits
        self.max_held = max_held
        self.held: dict[int, bytes] = {}  # first seq -> batch bytes waiting for a gap to fill

    @property
    def station(self) -> str:
        """The station this session is for."""
        return self.head.station

    def receive_batch(self, data: bytes, now_ms: int, *, hash_at: HashAt | None = None) -> Verdict:
        """The verdict on pushed batch bytes; Gap batches are held, a Fork freezes the station."""
        verdict = verify_batch(
            data, self.head, self.keys, now_ms, hash_at=hash_at, limits=self.limits
        )
        if isinstance(verdict, Gap):
            first = verdict.missing_to + 1
            if first in self.held or len(self.held) < self.max_held:
                self.held[first] = verdict.batch
        elif isinstance(verdict, Fork):
            self.head = frozen(self.head)
        return verdict

    def commit(self, verdict: Apply) -> None:
        """Record that `verdict`'s entries and head are durably stored (then send the receipt)."""
        if verdict.head.seq <= self.head.seq and verdict.entries:
            raise LocalProtocolError(Reason.NOT_ALLOWED, "commit of a verdict older than the head")
        self.head, self.keys = verdict.head, verdict.keys

    def next_held(self) -> bytes | None:
        """A held batch that now continues the head (verify it with receive_batch), if any."""
        for first in sorted(self.held):
            if first <= self.head.seq + 1:
                return self.held.pop(first)
        return None

    def reply(self, verdict: Verdict, hub_seq: int, now_ms: int) -> bytes:
        """The signed answer: a receipt for Apply (after commit), Replay and Gap; else rejection."""
        if isinstance(verdict, Apply | Replay | Gap):
            return self.receipt(hub_seq, now_ms)
        if isinstance(verdict, Fork):
            return self._reject(Reason.FORK, f"fork at seq {verdict.evidence.seq}", hub_seq, now_ms)
        return self._reject(verdict.reason, verdict.detail, hub_seq, now_ms)

    def receipt(self, hub_seq: int, now_ms: int) -> bytes:
        """A signed receipt for what the hub holds of this station now."""
        h = self.head
        return sign_receipt(
            Receipt(h.station, h.epoch, h.seq, h.head, self.hub, hub_seq, now_ms), self.key
        )

    def receive_hello(self, data: bytes) -> Hello:
        """Parse a hello from this station (answer it with `receipt`)."""
        hello = parse_hello(data)
        if hello.station != self.station:
            raise RemoteProtocolError(Reason.WRONG_STATION, f"hello from {hello.station!r}")
        return hello

    def receive_pull(self, data: bytes) -> Pull:
        """Parse a pull from this station; serve hub-log entries after `pull.after`."""
        pull = parse_pull(data)
        if pull.station != self.station:
            raise RemoteProtocolError(Reason.WRONG_STATION, f"pull from {pull.station!r}")
        return pull

    def reset_epoch(
        self,
        base_seq: int,
        base_hash: str,
        hlc_floor: Hlc,
        hub_seq: int,
        now_ms: int,
        *,
        hash_at: HashAt | None = None,
    ) -> bytes:
        """An admin's epoch reset: the station goes on after (base_seq, base_hash), held here."""
        held = (
            self.head.head
            if base_seq == self.head.seq
            else (
                hash_at(self.head.epoch, base_seq)
                if hash_at is not None and base_seq < self.head.seq
                else None
            )
        )
        if base_seq == 0 and base_hash == self.head.head and self.head.seq == 0:
            held = base_hash
        if held != base_hash:
            raise LocalProtocolError(
                Reason.BROKEN_CHAIN, f"we do not hold {base_hash} at seq {base_seq}"
            )
        epoch = self.head.epoch + 1
        self.head = self.head.reset(epoch, base_seq, base_hash)
        self.held.clear()
        reset = EpochReset(
            self.station, self.hub, epoch, base_seq, base_hash, hlc_floor, hub_seq, now_ms
        )
        return sign_reset(reset, self.key)

    def _reject(self, reason: Reason, detail: str, hub_seq: int, now_ms: int) -> bytes:
        return sign_rejection(
            Rejection(self.station, self.hub, reason, detail, hub_seq, now_ms), self.key
        )


def batch_range(data: bytes) -> tuple[int, int]:
    """The (first, last) seq of a well-formed batch, e.g. to name a bundle's range."""
    batch = parse_batch(data)
    last = batch.checkpoint.checkpoint.seq
    return last - len(batch.entries) + 1, last
