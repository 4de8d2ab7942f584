"""The one-pass batch check agrees with the entry-by-entry one and never accepts what it refuses."""

from __future__ import annotations

import gc
import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st
from sync_helpers import T0, head, seed_key, writer
from test_sync_canonical import ENTRY, MUTATIONS, json_values
from test_sync_verifier import KEY, KEYS, NOW

from sync_protocol import (
    Apply,
    Hlc,
    LocalProtocolError,
    Reason,
    Rejected,
    RemoteProtocolError,
    encode_entry,
    sign_checkpoint,
    verify_batch,
)
from sync_protocol.batches import parse_batch
from sync_protocol.chains import _chain, _chain_batch


def _both(data: bytes) -> tuple[object, object]:
    """(one-pass result, entry-by-entry result or the error it raised) for signed batch bytes."""
    batch = parse_batch(data)
    cp = batch.checkpoint.checkpoint
    args = (batch.entries, cp.station, cp.epoch, cp.seq, cp.head, (cp.hlc.wall, cp.hlc.counter))
    fast = _chain_batch(data, *args)
    try:
        precise: object = _chain(*args)
    except RemoteProtocolError as exc:
        precise = exc
    return fast, precise


def _signed(lines: list[bytes], seq: int, wall: int = NOW) -> bytes:
    """Lines under a valid st-a checkpoint whose head is the last line's hash."""
    checkpoint = sign_checkpoint(
        station="st-a",
        epoch=1,
        seq=seq,
        head=hashlib.sha256(lines[-1]).hexdigest(),
        hlc=Hlc(wall, 0),
        key=KEY,
    )
    return checkpoint + b"".join(line + b"\n" for line in lines)


def test_a_well_formed_batch_takes_the_one_pass_path_with_the_same_result() -> None:
    w = writer("st-a", KEY)
    raws = [
        w.append(
            "worker",
            f"w{i}",
            "update",
            {"name": f"工人{i}", "n": i, "tags": ["a", {"b": [i]}]},
            T0 + i,
        ).raw
        for i in range(30)
    ]
    fast, precise = _both(w.sign(raws, NOW))
    assert fast is not None and fast == precise
    assert [a.raw for a in fast] == raws


@settings(max_examples=80, deadline=None)
@given(
    fields=st.lists(
        st.dictionaries(st.text(max_size=10), json_values, max_size=5), min_size=1, max_size=6
    ),
    origin=st.sampled_from(["st-a", "hub", "st-b"]),
)
def test_random_fields_give_the_same_entries_on_both_paths(fields, origin) -> None:
    w = writer("st-a", KEY)
    raws = []
    for i, f in enumerate(fields):
        try:
            raws.append(w.append("worker", f"w{i}", "update", f, T0 + i, origin=origin).raw)
        except LocalProtocolError:
            return  # lone surrogates have no UTF-8 form
    fast, precise = _both(w.sign(raws, NOW))
    assert fast == precise


def test_every_mutation_is_refused_by_both_paths() -> None:
    for mutate in MUTATIONS:
        raw = mutate(encode_entry(ENTRY))
        fast, precise = _both(_signed([raw], 1))
        assert fast is None and isinstance(precise, RemoteProtocolError), mutate


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_a_flipped_bit_never_passes_the_one_pass_check(data) -> None:
    w = writer("st-a", KEY)
    raws = [
        w.append("job", f"j{i}", "update", {"pay_fen": 100 * i, "title": "搬家"}, T0 + i).raw
        for i in range(4)
    ]
    lines = list(raws)
    i = data.draw(st.integers(0, len(lines) - 1))
    bit = data.draw(st.integers(0, len(lines[i]) * 8 - 1))
    flipped = bytearray(lines[i])
    flipped[bit // 8] ^= 1 << (bit % 8)
    if b"\n" in flipped:
        return  # a new line changes the line count; verify_batch covers that
    lines[i] = bytes(flipped)
    fast, precise = _both(
        _signed(lines, 4)
    )  # re-signed: only the canonical checks stand in the way
    assert fast is None or fast == precise
    if isinstance(precise, RemoteProtocolError):
        assert fast is None


def test_lines_that_only_parse_when_joined_are_refused() -> None:
    """Line 1 and 2 are halves of one entry, line 3 holds two: joined, they are 3 valid objects."""
    w = writer("st-a", KEY)
    e1 = w.append("worker", "w1", "update", {"x": [1, 2]}, T0).raw
    e2 = w.append("worker", "w2", "update", {"n": 2}, T0 + 1).raw
    e3 = w.append("worker", "w3", "update", {"n": 3}, T0 + 2).raw
    tag = b"kg1/entry "
    cut = e1.index(b"[1,2]") + 2
    lines = [e1[:cut], tag + e1[cut + 1 :], e2 + b"," + e3[len(tag) :]]
    data = _signed(lines, 3)
    fast, precise = _both(data)
    assert fast is None and isinstance(precise, RemoteProtocolError)
    v = verify_batch(data, head("st-a"), KEYS, NOW)
    assert isinstance(v, Rejected) and v.reason is Reason.MALFORMED


def test_integers_at_the_64_bit_edges() -> None:
    for value, ok in [(2**63 - 1, True), (-(2**63), True), (2**63, False), (-(2**63) - 1, False)]:
        raw = encode_entry(ENTRY._replace(fields={"n": 0})).replace(b'"n":0', b'"n":%d' % value)
        fast, precise = _both(_signed([raw], 1))
        if ok:
            assert fast is not None and fast == precise and fast[0].entry.fields == {"n": value}
        else:
            assert fast is None and isinstance(precise, RemoteProtocolError)
    # digits after a comma inside a string look like a long number: still accepted, exactly
    w = writer("st-a", seed_key("st-a"))
    raws = [
        w.append("worker", "w1", "update", {"s": "a,12345678901234567890", "n": [-5, 7]}, T0).raw
    ]
    fast, precise = _both(w.sign(raws, NOW))
    assert fast is not None and fast == precise
    assert isinstance(verify_batch(w.sign(raws, NOW), head("st-a"), KEYS, NOW), Apply)


def test_envelope_values_of_other_json_types_are_refused_by_both_paths() -> None:
    """Booleans, strings and nulls where the envelope holds integers, and a key more or less."""
    w = writer("st-a", KEY)
    raws = [w.append("worker", f"w{i}", "update", {"n": i}, T0 + i).raw for i in range(3)]
    hlc = b'"hlc":[%d,0]' % (T0 + 1)
    for old, new in [
        (hlc, b'"hlc":[%d,false]' % (T0 + 1)),
        (b'"hlc":[%d,' % (T0 + 1), b'"hlc":[true,'),
        (hlc, b'"hlc":["%d",0]' % (T0 + 1)),
        (hlc, b'"hlc":[null,0]'),
        (b'"epoch":1', b'"epoch":true'),
        (b'"seq":2', b'"seq":"2"'),
        (b'{"entity"', b'{"a":1,"entity"'),
        (b',"station":"st-a"}', b"}"),
        (b'"fields":{"n":1}', b'"fields":"n"'),
        (b'"fields":{"n":1}', b'"fields":[1]'),
    ]:
        lines = [raws[0], raws[1].replace(old, new), raws[2]]
        assert lines[1] != raws[1], old
        fast, precise = _both(_signed(lines, 3))
        assert fast is None and isinstance(precise, RemoteProtocolError), new
    lines = [raws[0], b"kg1/entry [1,2]", raws[2]]
    fast, precise = _both(_signed(lines, 3))
    assert fast is None and isinstance(precise, RemoteProtocolError)


def test_a_percent_sign_in_the_station_name_is_written_as_itself() -> None:
    w = writer("st%d", seed_key("st%d"))
    raws = [w.append("worker", f"w{i}", "update", {"n": i}, T0 + i).raw for i in range(3)]
    batch = parse_batch(w.sign(raws, NOW))
    cp = batch.checkpoint.checkpoint
    args = (batch.entries, cp.station, cp.epoch, cp.seq, cp.head, (cp.hlc.wall, cp.hlc.counter))
    fast = _chain_batch(w.sign(raws, NOW), *args)
    assert fast is not None and fast == _chain(*args) and fast[0].entry.station == "st%d"


def test_text_after_an_entry_object_or_before_it_is_refused() -> None:
    """The one-pass scan reads each line's object in place: anything around it must not pass."""
    w = writer("st-a", KEY)
    raws = [w.append("worker", f"w{i}", "update", {"n": i}, T0 + i).raw for i in range(3)]
    tag = b"kg1/entry "
    last = raws[2]  # the checkpoint signs whatever the last line is, so only its form is wrong
    for bad in (last + b" ", last + b"{}", tag + b" " + last[len(tag) :], tag + last):
        fast, precise = _both(_signed([raws[0], raws[1], bad], 3))
        assert fast is None and isinstance(precise, RemoteProtocolError)
        assert precise.reason is Reason.MALFORMED


def test_verify_batch_leaves_the_garbage_collector_as_it_found_it() -> None:
    w = writer("st-a", KEY)
    data = w.sign([w.append("worker", "w1", "update", {"n": 1}, T0).raw], NOW)
    was = gc.isenabled()
    try:
        for enabled in (True, False):
            (gc.enable if enabled else gc.disable)()
            assert isinstance(verify_batch(data, head("st-a"), KEYS, NOW), Apply)
            assert isinstance(verify_batch(b"garbage", head("st-a"), KEYS, NOW), Rejected)
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
