"""Verdicts at the receiver: apply, replay, fork, gap, and every typed rejection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sync_helpers import T0, entries, head, ring, seed_key, writer
from test_sync_canonical import ENTRY, MUTATIONS

from sync_protocol import (
    Apply,
    ChainHead,
    Fork,
    Gap,
    Hlc,
    Limits,
    Reason,
    Rejected,
    Replay,
    encode_entry,
    entry_hash,
    sign_checkpoint,
    verify_batch,
)

NOW = T0 + 10_000
KEY = seed_key("st-a")
KEYS = ring("st-a", KEY)


def _log(n: int) -> tuple[list[bytes], object]:
    w = writer("st-a", KEY)
    return entries(w, n), w


def test_next_batch_applies_and_moves_the_head() -> None:
    raws, w = _log(5)
    v = verify_batch(w.sign(raws, NOW), head("st-a"), KEYS, NOW)
    assert isinstance(v, Apply)
    assert [a.entry.seq for a in v.entries] == [1, 2, 3, 4, 5]
    assert [a.raw for a in v.entries] == raws
    assert v.head.seq == 5 and v.head.head == w.head and v.head.checkpoint is not None
    more = entries(w, 3, T0 + 100)
    v2 = verify_batch(w.sign(more, NOW), v.head, KEYS, NOW)
    assert isinstance(v2, Apply) and [a.entry.seq for a in v2.entries] == [6, 7, 8]


def test_replay_is_acknowledged_and_changes_nothing() -> None:
    raws, w = _log(5)
    batch = w.sign(raws, NOW)
    v = verify_batch(batch, head("st-a"), KEYS, NOW)
    assert isinstance(v, Apply)
    again = verify_batch(batch, v.head, KEYS, NOW)
    assert again == Replay(5, v.head)
    # an older part of the chain, resent: compared with the stored hash at its seq
    older = w.sign(raws[:3], NOW)
    stored = {(1, a.entry.seq): a.hash for a in v.entries}
    assert isinstance(
        verify_batch(older, v.head, KEYS, NOW, hash_at=lambda e, s: stored.get((e, s))), Replay
    )


def test_overlapping_batch_applies_only_the_new_part() -> None:
    raws, w = _log(6)
    v = verify_batch(w.sign(raws[:4], NOW), head("st-a"), KEYS, NOW)
    v2 = verify_batch(w.sign(raws, NOW), v.head, KEYS, NOW)
    assert isinstance(v2, Apply) and [a.entry.seq for a in v2.entries] == [5, 6]


def test_different_history_at_an_accepted_seq_is_a_fork_with_both_checkpoints() -> None:
    raws, w = _log(3)
    v = verify_batch(w.sign(raws, NOW), head("st-a"), KEYS, NOW)
    other = writer("st-a", KEY)  # a restored backup writing a different entry 3
    other_raws = entries(other, 2) + [other.append("job", "j9", "create", {"t": 1}, T0 + 50).raw]
    fork = verify_batch(other.sign(other_raws, NOW), v.head, KEYS, NOW)
    assert isinstance(fork, Fork)
    ev = fork.evidence
    assert (ev.station, ev.epoch, ev.seq) == ("st-a", 1, 3)
    assert ev.accepted_hash == v.head.head != ev.conflicting_hash
    assert ev.accepted_checkpoint == v.head.checkpoint and ev.conflicting_checkpoint.startswith(
        b"kg1/checkpoint "
    )
    # a fork that continues past the head is caught at the head too
    longer = other_raws + [other.append("job", "j9", "update", {"t": 2}, T0 + 60).raw]
    assert isinstance(verify_batch(other.sign(longer, NOW), v.head, KEYS, NOW), Fork)
    assert isinstance(verify_batch(other.sign(longer[3:], NOW), v.head, KEYS, NOW), Fork)


def test_batch_past_the_next_seq_is_a_gap_naming_the_missing_range() -> None:
    raws, w = _log(10)
    v = verify_batch(w.sign(raws[:3], NOW), head("st-a"), KEYS, NOW)
    gap = verify_batch(w.sign(raws[6:], NOW), v.head, KEYS, NOW)
    assert isinstance(gap, Gap) and (gap.missing_from, gap.missing_to) == (4, 6)


def _rejected(v, reason: Reason) -> None:
    assert isinstance(v, Rejected), v
    assert v.reason is reason, v


def test_bad_signature_unknown_revoked_and_retired_keys() -> None:
    raws, w = _log(3)
    batch = w.sign(raws, NOW)
    lines = batch.split(b"\n")
    sig = bytearray(lines[1])
    sig[-1] = ord("0") if sig[-1] != ord("0") else ord("1")
    _rejected(
        verify_batch(b"\n".join([lines[0], bytes(sig), *lines[2:]]), head("st-a"), KEYS, NOW),
        Reason.BAD_SIGNATURE,
    )
    _rejected(
        verify_batch(batch, head("st-a"), ring("st-a", seed_key("other")), NOW), Reason.UNKNOWN_KEY
    )
    _rejected(
        verify_batch(batch, head("st-a"), KEYS.revoked(KEY.key_id, (1, 2)), NOW), Reason.REVOKED_KEY
    )
    assert isinstance(
        verify_batch(batch, head("st-a"), KEYS.revoked(KEY.key_id, (1, 3)), NOW), Apply
    )
    retired = KEYS.rotated(KEY.key_id, seed_key("new").public_key, (1, 2))
    _rejected(verify_batch(batch, head("st-a"), retired, NOW), Reason.RETIRED_KEY)


def test_wrong_station_wrong_epoch_frozen() -> None:
    raws, w = _log(3)
    batch = w.sign(raws, NOW)
    _rejected(verify_batch(batch, head("st-b"), KEYS, NOW), Reason.WRONG_STATION)
    _rejected(verify_batch(batch, head("st-a"), ring("st-b", KEY), NOW), Reason.WRONG_STATION)
    _rejected(verify_batch(batch, ChainHead("st-a", epoch=2), KEYS, NOW), Reason.WRONG_EPOCH)
    _rejected(verify_batch(batch, ChainHead("st-a", frozen=True), KEYS, NOW), Reason.FROZEN)
    # entries of another station under a valid checkpoint of st-a
    b = writer("st-b", KEY)
    foreign = entries(b, 2)
    checkpoint = sign_checkpoint(
        station="st-a", epoch=1, seq=2, head=b.head, hlc=w.clock.send(T0 + 99), key=KEY
    )
    forged = checkpoint + b"".join(e + b"\n" for e in foreign)
    _rejected(verify_batch(forged, head("st-a"), KEYS, NOW), Reason.WRONG_STATION)


def test_oversized_and_malformed() -> None:
    raws, w = _log(5)
    batch = w.sign(raws, NOW)
    _rejected(
        verify_batch(batch, head("st-a"), KEYS, NOW, limits=Limits(max_entries=4)), Reason.OVERSIZED
    )
    _rejected(
        verify_batch(batch, head("st-a"), KEYS, NOW, limits=Limits(max_batch_bytes=100)),
        Reason.OVERSIZED,
    )
    _rejected(
        verify_batch(batch, head("st-a"), KEYS, NOW, limits=Limits(max_entry_bytes=50)),
        Reason.OVERSIZED,
    )
    _rejected(verify_batch(batch[:-1], head("st-a"), KEYS, NOW), Reason.MALFORMED)
    _rejected(verify_batch(b"", head("st-a"), KEYS, NOW), Reason.MALFORMED)
    _rejected(verify_batch(b"\n\n\n", head("st-a"), KEYS, NOW), Reason.MALFORMED)


def test_a_dropped_or_swapped_entry_breaks_the_chain() -> None:
    raws, w = _log(5)
    batch = w.sign(raws, NOW)
    lines = batch.split(b"\n")
    dropped = b"\n".join(lines[:3] + lines[4:])
    swapped = b"\n".join(lines[:2] + [lines[3], lines[2]] + lines[4:])
    _rejected(verify_batch(dropped, head("st-a"), KEYS, NOW), Reason.BROKEN_CHAIN)
    _rejected(verify_batch(swapped, head("st-a"), KEYS, NOW), Reason.BROKEN_CHAIN)


def test_hlc_beyond_the_drift_bound_is_refused() -> None:
    w = writer("st-a", KEY)
    year = 366 * 24 * 3600 * 1000
    raws = entries(w, 2, T0 + year)  # a station whose clock is a year ahead
    _rejected(verify_batch(w.sign(raws, T0 + year), head("st-a"), KEYS, NOW), Reason.CLOCK_DRIFT)
    limits = Limits(max_drift_ms=2 * year)
    assert isinstance(
        verify_batch(w.sign(raws, T0 + year), head("st-a"), KEYS, NOW, limits=limits), Apply
    )


@settings(max_examples=120, deadline=None)
@given(data=st.data())
def test_a_flipped_bit_anywhere_in_a_batch_is_always_detected(data) -> None:
    raws, w = _log(4)
    batch = w.sign(raws, NOW)
    good = verify_batch(batch, head("st-a"), KEYS, NOW)
    assert isinstance(good, Apply)
    bit = data.draw(st.integers(0, len(batch) * 8 - 1))
    flipped = bytearray(batch)
    flipped[bit // 8] ^= 1 << (bit % 8)
    v = verify_batch(bytes(flipped), head("st-a"), KEYS, NOW)
    assert isinstance(v, Rejected), (bit, v)


@settings(max_examples=200, deadline=None)
@given(junk=st.binary(max_size=400), cut=st.integers(0, 2000))
def test_hostile_bytes_get_a_verdict_never_an_exception(junk, cut) -> None:
    raws, w = _log(2)
    batch = w.sign(raws, NOW)
    for blob in (junk, batch[:cut] + junk, batch + junk, junk + batch):
        assert isinstance(verify_batch(blob, head("st-a"), KEYS, NOW), Rejected | Apply)


def test_hash_at_is_required_for_stale_batches() -> None:
    from sync_protocol import LocalProtocolError

    raws, w = _log(4)
    v = verify_batch(w.sign(raws, NOW), head("st-a"), KEYS, NOW)
    with pytest.raises(LocalProtocolError):
        verify_batch(w.sign(raws[:2], NOW), v.head, KEYS, NOW)


@pytest.mark.parametrize("index", range(len(MUTATIONS)))
def test_the_verifier_refuses_non_canonical_entries_even_when_signed(index: int) -> None:
    """A station that signs non-canonical bytes still gets MALFORMED (or another refusal)."""
    raw = MUTATIONS[index](encode_entry(ENTRY))
    checkpoint = sign_checkpoint(
        station="st-a", epoch=1, seq=1, head=entry_hash(raw), hlc=Hlc(NOW, 0), key=KEY
    )
    v = verify_batch(checkpoint + raw + b"\n", head("st-a"), KEYS, NOW)
    assert isinstance(v, Rejected), v
    assert v.reason in (
        Reason.MALFORMED,
        Reason.WRONG_STATION,
        Reason.WRONG_EPOCH,
        Reason.BROKEN_CHAIN,
    )
