"""Key rotation and revocation; the hybrid logical clock and bad wall clocks."""

from __future__ import annotations

import pytest
from sync_helpers import T0, entries, head, ring, seed_key, writer

from sync_protocol import (
    Apply,
    Hlc,
    HybridClock,
    Reason,
    Rejected,
    RemoteProtocolError,
    compare,
    verify_batch,
)
from sync_protocol.merge import Version, lww

NOW = T0 + 10_000
YEAR = 366 * 24 * 3600 * 1000


def test_rotation_old_key_signs_the_new_then_only_the_new_key_signs() -> None:
    old, new = seed_key("st-a"), seed_key("st-a-2")
    w = writer("st-a", old)
    raws = entries(w, 2) + [w.rotate(new, T0 + 5).raw]
    v = verify_batch(w.sign(raws, NOW), head("st-a"), ring("st-a", old), NOW)
    assert isinstance(v, Apply)
    assert [r.key_id for r in v.rotations] == [new.key_id]
    keys = v.keys
    assert keys[old.key_id].valid_until == (1, 3) and keys[new.key_id].valid_from == (1, 4)

    w.key = new
    after = entries(w, 2, T0 + 10)
    v2 = verify_batch(w.sign(after, NOW), v.head, keys, NOW)
    assert isinstance(v2, Apply) and v2.head.seq == 5
    # the old key can no longer sign anything after the rotation
    w2 = writer("st-a", old)
    w2.epoch, w2.seq, w2.head = 1, 3, v.head.head
    stolen = entries(w2, 1, T0 + 20)
    v3 = verify_batch(w2.sign(stolen, NOW), v.head, keys, NOW)
    assert isinstance(v3, Rejected) and v3.reason is Reason.RETIRED_KEY


def test_rotation_must_end_its_batch() -> None:
    old, new = seed_key("st-a"), seed_key("st-a-2")
    w = writer("st-a", old)
    raws = [w.rotate(new, T0).raw] + entries(w, 1, T0 + 1)
    v = verify_batch(w.sign(raws, NOW), head("st-a"), ring("st-a", old), NOW)
    assert isinstance(v, Rejected) and v.reason is Reason.MALFORMED


def test_revocation_rejects_only_what_comes_after_the_point() -> None:
    key = seed_key("st-a")
    w = writer("st-a", key)
    raws = entries(w, 6)
    keys = ring("st-a", key).revoked(key.key_id, (1, 3))
    v = verify_batch(w.sign(raws[:3], NOW), head("st-a"), keys, NOW)
    assert isinstance(v, Apply)
    v2 = verify_batch(w.sign(raws[3:], NOW), v.head, keys, NOW)
    assert isinstance(v2, Rejected) and v2.reason is Reason.REVOKED_KEY


def test_hlc_send_is_monotonic_even_when_the_wall_clock_goes_back() -> None:
    c = HybridClock("st-a")
    a = c.send(T0)
    b = c.send(T0)
    d = c.send(0)  # clock reset to 1970
    assert a < b < d and d.wall == T0
    assert c.send(T0 + 5) == Hlc(T0 + 5, 0)


def test_hlc_receive_takes_the_max_and_refuses_too_far_ahead() -> None:
    c = HybridClock("st-a", max_drift_ms=1000)
    c.send(T0)
    assert c.receive(Hlc(T0 + 500, 7), T0) == Hlc(T0 + 500, 8)
    assert c.receive(Hlc(T0 + 100, 1), T0 + 50) == Hlc(T0 + 500, 9)
    with pytest.raises(RemoteProtocolError) as info:
        c.receive(Hlc(T0 + YEAR), T0)
    assert info.value.reason is Reason.CLOCK_DRIFT
    assert c.last == Hlc(T0 + 500, 9)  # untouched by the refused stamp


def test_compare_breaks_ties_on_node_id() -> None:
    assert compare(Hlc(5, 1), "st-a", Hlc(5, 1), "st-b") == -1
    assert compare(Hlc(5, 2), "st-a", Hlc(5, 1), "st-b") == 1
    assert compare(Hlc(5, 1), "st-a", Hlc(5, 1), "st-a") == 0


def test_a_clock_at_1970_or_a_year_ahead_does_not_win_every_conflict() -> None:
    hub_time = T0
    # st-old's wall clock says 1970, but it took the hub's time from its last receipt
    old = HybridClock("st-old")
    old.receive(Hlc(hub_time), 0, trusted=True)
    old_edit = old.send(0)
    # st-good edits the same field a minute later, on a correct clock
    good_edit = HybridClock("st-good").send(hub_time + 60_000)
    winner, loser = lww(
        Version("old", *old_edit, "st-old"), Version("good", *good_edit, "st-good"), "hub"
    )
    assert winner.value == "good" and loser.value == "old"
    # and the 1970 station's later edit still beats an older one: it is not locked out either
    later = old.send(0)
    assert later > old_edit
    # st-ahead (a year ahead) cannot even deliver: its batches are refused for drift
    w = writer("st-ahead")
    raws = entries(w, 1, hub_time + YEAR)
    v = verify_batch(
        w.sign(raws, hub_time + YEAR), head("st-ahead"), ring("st-ahead", w.key), hub_time
    )
    assert isinstance(v, Rejected) and v.reason is Reason.CLOCK_DRIFT
