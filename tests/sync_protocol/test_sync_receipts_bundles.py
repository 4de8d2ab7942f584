"""Hub-signed receipts, restore-from-backup detection, epoch resets and bundle files."""

from __future__ import annotations

import pytest
from sync_helpers import HUB, T0, entries, head, ring, seed_key, writer

from sync_protocol import (
    Apply,
    BundleError,
    Gap,
    HubSession,
    Reason,
    Receipt,
    Rejection,
    RemoteProtocolError,
    Replay,
    StationSession,
    read_bundle,
    sign_receipt,
    verify_receipt,
    write_bundle,
)

NOW = T0 + 10_000
HUB_KEY = seed_key(HUB)
HUB_KEYS = ring(HUB, HUB_KEY)


def _pair(station: str = "st-a"):
    w = writer(station)
    hub = HubSession(HUB, HUB_KEY, head(station), ring(station, w.key))
    client = StationSession(station, HUB, w.key, HUB_KEYS, w.clock)
    return w, hub, client


def _push(hub: HubSession, data: bytes, now: int = NOW) -> bytes:
    v = hub.receive_batch(data, now)
    if isinstance(v, Apply):
        hub.commit(v)
    return hub.reply(v, 0, now)


def test_receipt_round_trip_and_pinned_hub_key() -> None:
    r = Receipt("st-a", 1, 5, "ab" * 32, HUB, 42, NOW)
    data = sign_receipt(r, HUB_KEY)
    assert verify_receipt(data, HUB_KEYS, HUB, "st-a") == r
    with pytest.raises(RemoteProtocolError) as info:
        verify_receipt(data, ring(HUB, seed_key("impostor")), HUB, "st-a")
    assert info.value.reason is Reason.UNKNOWN_KEY
    with pytest.raises(RemoteProtocolError) as info:
        verify_receipt(sign_receipt(r, seed_key("impostor")), HUB_KEYS, HUB, "st-a")
    assert info.value.reason is Reason.UNKNOWN_KEY
    with pytest.raises(RemoteProtocolError) as info:
        verify_receipt(data, HUB_KEYS, HUB, "st-b")
    assert info.value.reason is Reason.WRONG_STATION
    forged = data.replace(b'"seq":5', b'"seq":6')
    with pytest.raises(RemoteProtocolError) as info:
        verify_receipt(forged, HUB_KEYS, HUB, "st-a")
    assert info.value.reason is Reason.BAD_SIGNATURE


def test_receipts_resume_a_chunked_push_and_take_the_hub_time() -> None:
    w, hub, client = _pair()
    raws = entries(w, 12)
    client.limits = hub.limits = type(hub.limits)(max_entries=5)
    sent = 0
    while (plan := client.next_push(1, w.seq)) is not None:
        first, last = plan
        reply = _push(hub, client.build_push(raws[first - 1 : last], NOW), NOW)
        receipt = client.receive_reply(reply, NOW)
        assert isinstance(receipt, Receipt) and receipt.seq == last
        sent += 1
    assert sent == 3 and hub.head.seq == 12 and hub.head.head == w.head
    assert client.clock.last.wall >= NOW  # never below the hub's time


def test_a_rejection_is_signed_and_typed() -> None:
    w, hub, client = _pair()
    raws = entries(w, 2)
    reply = _push(hub, client.build_push(raws, NOW)[:-3] + b"}\n", NOW)
    rejection = client.receive_reply(reply, NOW)
    assert isinstance(rejection, Rejection) and rejection.reason is Reason.MALFORMED


def test_restored_backup_may_not_append_until_a_hub_signed_reset() -> None:
    w, hub, client = _pair()
    raws = entries(w, 8)
    client.receive_reply(_push(hub, client.build_push(raws, NOW)), NOW)
    # the station's disk dies; a backup holding entries 1..5 (and older state) is restored
    backup = writer("st-a", w.key)
    entries(backup, 5)
    restored = StationSession("st-a", HUB, w.key, HUB_KEYS, backup.clock)
    assert restored.check(1, backup.seq, backup.head).may_append  # no receipt yet: ask the hub
    hub.receive_hello(restored.hello(1, backup.seq))
    restored.receive_reply(hub.receipt(0, NOW), NOW)
    check = restored.check(1, backup.seq, backup.head)
    assert not check.may_append and check.reason == "behind_receipt"
    assert restored.next_push(1, backup.seq) is None
    # an admin resets the epoch at the hub, continuing from the backup's head (which the hub holds)
    stored = {(1, i + 1): h for i, h in enumerate(_hashes(raws))}
    lost_floor = w.clock.last  # the highest stamp the hub saw from the station
    reset_bytes = hub.reset_epoch(
        backup.seq, backup.head, lost_floor, 0, NOW + 1, hash_at=lambda e, s: stored.get((e, s))
    )
    reset = restored.accept_reset(reset_bytes, 1, backup.seq, backup.head, NOW + 1)
    assert reset.epoch == 2 and restored.check(2, backup.seq, backup.head).may_append
    assert restored.clock.last > lost_floor  # new stamps sort after everything lost
    client = restored
    backup.epoch = 2
    new = entries(backup, 2, NOW + 2)
    assert client.next_push(2, backup.seq) == (6, 7)
    v = hub.receive_batch(client.build_push(new, NOW + 3), NOW + 3)
    assert isinstance(v, Apply) and [a.entry.seq for a in v.entries] == [6, 7]
    assert all(a.entry.epoch == 2 for a in v.entries)


def _hashes(raws: list[bytes]) -> list[str]:
    import hashlib

    return [hashlib.sha256(r).hexdigest() for r in raws]


def test_a_reset_that_does_not_name_our_head_is_refused() -> None:
    w, hub, client = _pair()
    raws = entries(w, 3)
    client.receive_reply(_push(hub, client.build_push(raws, NOW)), NOW)
    reset_bytes = hub.reset_epoch(3, w.head, w.clock.last, 0, NOW)
    with pytest.raises(RemoteProtocolError):
        client.accept_reset(reset_bytes, 1, 2, "00" * 32, NOW)


def test_bundle_round_trip_and_import_twice_changes_nothing() -> None:
    w, hub, client = _pair()
    raws = entries(w, 7)
    batches = [client.build_push(raws[:4], NOW), client.build_push(raws[4:], NOW)]
    data = write_bundle(
        station="st-a",
        hub=HUB,
        direction="to_hub",
        epoch=1,
        first=1,
        last=7,
        parts=[("batch", b) for b in batches],
    )
    bundle = read_bundle(data)
    assert bundle.header.station == "st-a" and (bundle.header.first, bundle.header.last) == (1, 7)
    assert [p.data for p in bundle.parts] == batches
    verdicts, stored = [], {}
    for _ in range(2):
        for part in read_bundle(data).parts:
            v = hub.receive_batch(part.data, NOW, hash_at=lambda e, s: stored.get((e, s)))
            if isinstance(v, Apply):
                stored.update({(a.entry.epoch, a.entry.seq): a.hash for a in v.entries})
                hub.commit(v)
            verdicts.append(type(v))
    assert verdicts == [Apply, Apply, Replay, Replay]


def test_truncated_or_altered_bundles_raise_typed_errors() -> None:
    w, _, client = _pair()
    data = write_bundle(
        station="st-a",
        hub=HUB,
        direction="to_hub",
        epoch=1,
        first=1,
        last=3,
        parts=[("batch", client.build_push(entries(w, 3), NOW))],
    )
    for cut in range(len(data)):
        with pytest.raises(BundleError) as info:
            read_bundle(data[:cut])
        assert info.value.reason in (Reason.TRUNCATED, Reason.ALTERED)
    for i in range(0, len(data) - 1, 7):
        altered = bytearray(data)
        altered[i] ^= 0x20
        with pytest.raises(BundleError):
            read_bundle(bytes(altered))


def test_hub_holds_a_batch_past_a_gap_and_applies_it_once_the_gap_fills() -> None:
    w, hub, client = _pair()
    raws = entries(w, 6)
    first, second = client.build_push(raws[:3], NOW), client.build_push(raws[3:], NOW)
    gap = hub.receive_batch(second, NOW)
    assert isinstance(gap, Gap) and (gap.missing_from, gap.missing_to) == (1, 3)
    receipt = client.receive_reply(hub.reply(gap, 0, NOW), NOW)
    assert isinstance(receipt, Receipt) and receipt.seq == 0  # resend from here
    assert hub.next_held() is None
    v = hub.receive_batch(first, NOW)
    hub.commit(v)
    held = hub.next_held()
    assert held == second
    v2 = hub.receive_batch(held, NOW)
    assert isinstance(v2, Apply) and [a.entry.seq for a in v2.entries] == [4, 5, 6]
