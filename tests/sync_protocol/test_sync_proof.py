"""Only the owner's key can prove anything against a log: covering checkpoints and signed calls."""

from __future__ import annotations

import dataclasses

import pytest
from sync_helpers import T0, entries, head, ring, seed_key, writer
from sync_vectors import VECTORS

from sync_protocol import (
    Apply,
    Reason,
    Rejected,
    RemoteProtocolError,
    parse_checkpoint,
    verify_batch,
)
from sync_protocol.calls import body_matches, check_call, parse_call, sign_call

NOW = T0 + 10_000
ST_A = seed_key("st-a")
KEYS = ring("st-a", ST_A)
PATH = "/stations/st-a/push"


def _v(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def test_covering_vector_applies_and_names_its_entries_digest() -> None:
    v = verify_batch(_v("covered.batch"), head("st-a"), KEYS, NOW)
    assert isinstance(v, Apply) and v.head.seq == 3
    cp = parse_checkpoint(b"".join(line + b"\n" for line in _v("covered.batch").split(b"\n")[:2]))
    assert cp.checkpoint.entries is not None and len(cp.checkpoint.entries) == 64
    assert (
        v.head.head == parse_checkpoint(_v("checkpoint.kg")).checkpoint.head
    )  # same entries as chain.batch


def test_altered_entries_of_a_signed_batch_are_unproven() -> None:
    for name in ("covered-altered.batch", "tampered.batch"):  # covering and version-1 checkpoints
        v = verify_batch(_v(name), head("st-a"), KEYS, NOW)
        assert isinstance(v, Rejected) and not v.proven, (name, v)


def test_a_signed_batch_whose_own_entries_break_the_chain_is_proven() -> None:
    v = verify_batch(_v("covered-broken.batch"), head("st-a"), KEYS, NOW)
    assert isinstance(v, Rejected) and v.reason is Reason.BROKEN_CHAIN and v.proven


def test_every_flipped_bit_of_a_covering_batch_is_refused_unproven_or_proven_only_when_signed() -> (
    None
):
    data = _v("covered.batch")
    for pos in range(0, len(data), 7):
        flipped = bytearray(data)
        flipped[pos] ^= 0x01
        v = verify_batch(bytes(flipped), head("st-a"), KEYS, NOW)
        assert isinstance(v, Rejected), pos
        assert not v.proven, (pos, v)  # nothing but the owner's key makes a proven refusal


def test_dropped_leading_entries_of_a_covering_batch_are_altered() -> None:
    w = writer("st-a", ST_A)
    raws = entries(w, 3)
    lines = w.sign(raws, T0 + 100).split(b"\n")
    shortened = b"\n".join(lines[:2] + lines[3:])  # chain still links to the head
    v = verify_batch(shortened, head("st-a"), KEYS, NOW)
    assert isinstance(v, Rejected) and v.reason is Reason.ALTERED and not v.proven


def test_refusals_of_the_checkpoint_itself_are_proven_only_with_a_valid_signature() -> None:
    w = writer("st-a", ST_A)
    batch = w.sign(entries(w, 2), T0 + 100)
    wrong_epoch = verify_batch(batch, dataclasses.replace(head("st-a"), epoch=2), KEYS, NOW)
    assert (
        isinstance(wrong_epoch, Rejected)
        and wrong_epoch.reason is Reason.WRONG_EPOCH
        and wrong_epoch.proven
    )
    revoked = verify_batch(batch, head("st-a"), KEYS.revoked(ST_A.key_id, (1, 0)), NOW)
    assert isinstance(revoked, Rejected) and revoked.reason is Reason.REVOKED_KEY and revoked.proven
    forged = bytearray(batch)
    forged[batch.index(b"kg1/sig ") + 8] ^= 0x01  # a damaged signature by the revoked key
    forged_v = verify_batch(bytes(forged), head("st-a"), KEYS.revoked(ST_A.key_id, (1, 0)), NOW)
    assert (
        isinstance(forged_v, Rejected)
        and forged_v.reason is Reason.REVOKED_KEY
        and not forged_v.proven
    )
    other = verify_batch(batch, head("st-a"), ring("st-a", seed_key("st-b")), NOW)
    assert isinstance(other, Rejected) and other.reason is Reason.UNKNOWN_KEY and not other.proven


def _check(header: str, **over: object) -> tuple[Reason, str] | None:
    args: dict = {
        "station": "st-a",
        "method": "POST",
        "path": PATH,
        "now_ms": T0 + 3000,
        "window_ms": 600_000,
        "position": (1, 1),
        **over,
    }
    keys = args.pop("keys", KEYS)
    return check_call(parse_call(header), keys, **args)


def test_call_vector_verifies_and_binds_its_body() -> None:
    raw = _v("call.kg")
    header = raw.hex()
    assert _check(header) is None
    call = parse_call(header).call
    assert (call.station, call.method, call.path, call.body_bytes) == (
        "st-a",
        "POST",
        PATH,
        len(_v("covered.batch")),
    )
    assert body_matches(call, _v("covered.batch"))
    assert not body_matches(call, _v("covered-altered.batch"))
    assert not body_matches(call, _v("covered.batch") + b"\n")
    assert (
        sign_call("st-a", "POST", PATH, _v("covered.batch"), T0 + 3000, "0f" * 16, ST_A) == header
    )


def test_a_call_is_refused_for_another_station_path_time_or_key() -> None:
    header = sign_call("st-a", "POST", PATH, b"body", T0, "ab" * 16, ST_A)
    assert _check(header, now_ms=T0) is None
    assert _check(header, station="st-b", now_ms=T0)[0] is Reason.WRONG_STATION  # type: ignore[index]
    assert _check(header, path="/stations/st-a/alerts", now_ms=T0)[0] is Reason.NOT_ALLOWED  # type: ignore[index]
    assert _check(header, method="GET", now_ms=T0)[0] is Reason.NOT_ALLOWED  # type: ignore[index]
    assert _check(header, now_ms=T0 + 600_001)[0] is Reason.CLOCK_DRIFT  # type: ignore[index]
    assert _check(header, now_ms=T0 - 600_001)[0] is Reason.CLOCK_DRIFT  # type: ignore[index]
    assert _check(header, now_ms=T0, keys=ring("st-a", seed_key("st-b")))[0] is Reason.UNKNOWN_KEY  # type: ignore[index]
    stolen = sign_call("st-a", "POST", PATH, b"body", T0, "ab" * 16, seed_key("st-b"))
    assert (
        _check(
            stolen,
            now_ms=T0,
            keys=ring("st-a", ST_A).with_key(
                dataclasses.replace(ring("st-b", seed_key("st-b"))[seed_key("st-b").key_id])
            ),
        )[0]
        is Reason.WRONG_STATION
    )  # type: ignore[index]


def test_every_flipped_bit_of_a_call_is_refused() -> None:
    raw = _v("call.kg")
    for pos in range(len(raw)):
        flipped = bytearray(raw)
        flipped[pos] ^= 0x01
        try:
            refusal = _check(bytes(flipped).hex())
        except RemoteProtocolError:
            continue
        assert refusal is not None, pos


@pytest.mark.parametrize("header", ["", "zz", "00" * 2000, "6b67312f63616c6c207b7d0a"])
def test_malformed_call_headers_are_refused_as_malformed(header: str) -> None:
    with pytest.raises(RemoteProtocolError) as exc:
        parse_call(header)
    assert exc.value.reason is Reason.MALFORMED
