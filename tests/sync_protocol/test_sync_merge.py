"""Merge rules: per-field LWW with losers kept, owner-only records, hub first, conflicts."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol import (
    BookingConflict,
    Change,
    MergeProposal,
    MergeState,
    Version,
    identity_duplicates,
    lww,
    overlapping_bookings,
)

HUB = "hub"


def ch(
    origin: str, wall: int, entity: str, eid: str, op: str = "update", counter: int = 0, **fields
) -> Change:
    return Change(origin, wall, counter, entity, eid, op, fields)


def test_lww_returns_winner_and_loser_hub_first_then_hlc_then_origin() -> None:
    a, b = Version("a", 10, 0, "st-a"), Version("b", 11, 0, "st-b")
    assert lww(a, b, HUB) == (b, a) == lww(b, a, HUB)
    tie_a, tie_b = Version("a", 10, 0, "st-a"), Version("b", 10, 0, "st-b")
    assert lww(tie_a, tie_b, HUB)[0] is tie_b
    hub = Version("hub", 1, 0, HUB)
    assert lww(hub, b, HUB) == (hub, b)


def test_per_field_lww_keeps_the_loser_visible() -> None:
    s = MergeState(HUB)
    s.apply(ch("st-a", 10, "worker", "w1", "create", name="张三", mobile="138"))
    s.apply(ch("st-b", 20, "worker", "w1", name="张叁"))
    s.apply(ch("st-a", 30, "worker", "w1", mobile="139"))
    v = s.view("worker", "w1")
    assert v.fields == {"name": "张叁", "mobile": "139"}
    assert [x.value for x in v.losers["name"]] == ["张三"]


def test_jobs_change_only_by_their_owner_or_the_hub() -> None:
    s = MergeState(HUB)
    s.apply(ch("st-a", 10, "job", "j1", "create", status="open", headcount=2))
    s.apply(ch("st-b", 50, "job", "j1", status="cancelled"))  # not the owner
    s.apply(ch("st-a", 20, "job", "j1", headcount=3))
    v = s.view("job", "j1")
    assert v.owner == "st-a" and v.fields == {"status": "open", "headcount": 3}
    assert v.ignored == ("st-b",)
    s.apply(ch(HUB, 15, "job", "j1", status="held"))  # a hub decision wins even when older
    assert s.view("job", "j1").fields["status"] == "held"


def test_delete_and_recreate_follow_lww() -> None:
    s = MergeState(HUB)
    s.apply(ch("st-a", 10, "worker", "w1", "create", name="x"))
    s.apply(ch("st-b", 20, "worker", "w1", "delete"))
    assert s.view("worker", "w1").deleted
    s.apply(ch("st-a", 30, "worker", "w1", "create", name="y"))
    assert not s.view("worker", "w1").deleted


def test_a_change_takes_effect_once() -> None:
    s = MergeState(HUB)
    c = ch("st-a", 10, "worker", "w1", name="x")
    assert s.apply(c) and not s.apply(c) and s.apply_all([c, c]) == 0


def test_same_id_hash_twice_is_a_merge_proposal() -> None:
    s = MergeState(HUB)
    s.apply(ch("st-a", 1, "worker", "a-1", "create", id_hash="h1"))
    s.apply(ch("st-b", 2, "worker", "b-7", "create", id_hash="h1"))
    s.apply(ch("st-b", 3, "worker", "b-8", "create", id_hash="h2"))
    assert identity_duplicates(s.views()) == [MergeProposal("worker", "h1", ("a-1", "b-7"))]


def test_one_person_booked_at_two_stations_at_once_is_a_conflict() -> None:
    s = MergeState(HUB)
    s.apply(ch("st-a", 1, "worker", "a-1", "create", id_hash="h1"))
    s.apply(ch("st-b", 1, "worker", "b-7", "create", id_hash="h1"))
    s.apply(
        ch(
            "st-a",
            2,
            "assignment",
            "asg-a",
            "create",
            worker_id="a-1",
            status="confirmed",
            starts_at="2025-06-01T08:00:00Z",
            ends_at="2025-06-01T12:00:00Z",
        )
    )
    s.apply(
        ch(
            "st-b",
            2,
            "assignment",
            "asg-b",
            "create",
            worker_id="b-7",
            status="confirmed",
            starts_at="2025-06-01T11:00:00Z",
            ends_at="2025-06-01T15:00:00Z",
        )
    )
    s.apply(
        ch(
            "st-b",
            3,
            "assignment",
            "asg-c",
            "create",
            worker_id="b-7",
            status="confirmed",
            starts_at="2025-06-01T12:00:00Z",
            ends_at="2025-06-01T13:00:00Z",
        )
    )  # touches, same station
    assert overlapping_bookings(s.views()) == [
        BookingConflict("h1", ("st-a", "asg-a"), ("st-b", "asg-b"))
    ]
    s.apply(ch(HUB, 4, "assignment", "asg-b", status="cancelled"))  # the admin's decision
    assert overlapping_bookings(s.views()) == []


changes = st.lists(
    st.builds(
        lambda origin, wall, counter, kind, eid, op, field, value: Change(
            origin, wall, counter, kind, eid, op, {field: value}
        ),
        st.sampled_from(["st-a", "st-b", "st-c", HUB]),
        st.integers(0, 5),
        st.integers(0, 2),
        st.sampled_from(["worker", "job"]),
        st.sampled_from(["1", "2"]),
        st.sampled_from(["create", "update", "delete"]),
        st.sampled_from(["f", "g"]),
        st.integers(0, 3),
    ),
    max_size=25,
    unique_by=lambda c: c.change_id,
)


@settings(max_examples=100, deadline=None)
@given(changes=changes, seed=st.integers(0, 2**32))
def test_any_order_and_duplication_gives_the_same_state(changes, seed) -> None:
    a, b = MergeState(HUB), MergeState(HUB)
    a.apply_all(changes)
    shuffled = changes * 2
    random.Random(seed).shuffle(shuffled)
    b.apply_all(shuffled)
    assert a.snapshot() == b.snapshot()
    assert identity_duplicates(a.views()) == identity_duplicates(b.views())


def test_the_decisions_the_hub_calls() -> None:
    from sync_protocol.merge import DELETED, is_conflict, takes, wins, written

    old, new = Version("a", 10, 0, "st-a"), Version("b", 11, 0, "st-b")
    assert wins(new, old, HUB) and not wins(old, new, HUB) and wins(old, None, HUB)
    assert wins(Version("h", 1, 0, HUB), new, HUB)  # a hub decision outranks a newer station value
    assert written(ch("st-a", 1, "worker", "w", "create", name="x")) == {
        "name": "x",
        DELETED: False,
    }
    assert written(ch("st-a", 1, "worker", "w", "delete")) == {DELETED: True}
    assert written(ch("st-a", 1, "worker", "w", name="x")) == {"name": "x"}
    assert takes("worker", "st-b", "st-a", HUB) and takes("job", HUB, "st-a", HUB)
    assert takes("job", "st-a", "st-a", HUB) and not takes("job", "st-b", "st-a", HUB)
    assert is_conflict(new, old, HUB)
    assert not is_conflict(new, Version("b", 1, 0, "st-a"), HUB)  # the same value
    assert not is_conflict(new, Version("z", 1, 0, "st-b"), HUB)  # a station replaced itself
    hub_later, hub_older = Version("h", 20, 0, HUB), Version("h", 5, 0, HUB)
    assert not is_conflict(hub_later, new, HUB)  # the hub replaced an older value
    assert is_conflict(hub_older, new, HUB)  # the hub's older value outranks a newer station's
    assert not is_conflict(hub_older, new, HUB, decided=True)  # a city block: never a conflict
