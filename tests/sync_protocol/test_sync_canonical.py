"""Canonical encoding: one byte form per value, everything else refused."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync_protocol import (
    GENESIS_HASH,
    Hlc,
    LocalProtocolError,
    Reason,
    RemoteProtocolError,
    decode_entry,
    encode_entry,
    entry_hash,
    make_entry,
)
from sync_protocol.canonical import decode, encode

ENTRY = make_entry(
    station="st-a",
    epoch=1,
    seq=1,
    prev_hash=None,
    hlc=Hlc(1_732_800_000_000, 0),
    entity="worker",
    entity_id="w1",
    op="update",
    fields={"name": "张三", "pay_fen": 25000, "skills": ["cleaning"], "ok": True, "x": None},
)


def test_entry_bytes_are_sorted_compact_tagged_utf8() -> None:
    raw = encode_entry(ENTRY)
    assert (
        raw
        == (
            'kg1/entry {"entity":"worker","entity_id":"w1","epoch":1,"fields":{"name":"张三",'
            '"ok":true,"pay_fen":25000,"skills":["cleaning"],"x":null},"hlc":[1732800000000,0],'
            '"op":"update","origin":"st-a","prev":"' + GENESIS_HASH + '","seq":1,"station":"st-a"}'
        ).encode()
    )
    assert decode_entry(raw) == ENTRY
    assert entry_hash(raw) == hashlib.sha256(raw).hexdigest()


MUTATIONS = [
    lambda b: b.replace(b'"seq":1', b'"seq": 1'),  # whitespace
    lambda b: b.replace(b'"pay_fen":25000', b'"pay_fen":25000.0'),  # float
    lambda b: b.replace(b'"pay_fen":25000', b'"pay_fen":2.5e4'),  # exponent
    lambda b: b.replace(b'"pay_fen":25000', b'"pay_fen":NaN'),  # NaN
    lambda b: b.replace(b'"x":null', b'"x":null,"x":null'),  # duplicate key
    lambda b: b.replace(b'"ok":true,', b"").replace(
        b'"x":null', b'"x":null,"ok":true'
    ),  # key order
    lambda b: b.replace("张三".encode(), b"\\u5f20\\u4e09"),  # escaped where raw is canonical
    lambda b: b.replace(b'"w1"', b'"\\u0077\\u0031"'),
    lambda b: b.replace("张".encode(), b"\xff"),  # invalid UTF-8
    lambda b: b.replace(b'"n', b'"\\ud800n'),  # lone surrogate
    lambda b: b.replace(b'"pay_fen":25000', b'"pay_fen":99999999999999999999'),  # beyond 64 bits
    lambda b: b.replace(b'"seq":1', b'"seq":true'),  # bool where an int belongs
    lambda b: b.replace(b'"seq":1', b'"seq":0'),  # seq starts at 1
    lambda b: b.replace(b'"op":"update"', b'"op":"upsert"'),
    lambda b: b.replace(b"kg1/entry ", b"kg2/entry "),  # other version
    lambda b: b.replace(b"kg1/entry ", b"kg1/checkpoint "),  # other domain
    lambda b: b + b" ",
    lambda b: b[:-1],
    lambda b: b.replace(b'"hlc":[1732800000000,0]', b'"hlc":[1732800000000,0,1]'),
    lambda b: b.replace(b'"origin":"st-a",', b""),
    lambda b: b.replace(b'"entity":"worker"', b'"entity":"worker","entity":"worker"'),
    lambda b: b.replace(b'"fields":{', b'"fields":{"name":"x",'),
    lambda b: b.replace(b'"w1"', b'"w\\"1"'),
]


@pytest.mark.parametrize("mutate", MUTATIONS)
def test_non_canonical_entries_are_refused(mutate) -> None:
    bad = mutate(encode_entry(ENTRY))
    assert bad != encode_entry(ENTRY)
    with pytest.raises(RemoteProtocolError) as info:
        decode_entry(bad)
    assert info.value.reason is Reason.MALFORMED


@pytest.mark.parametrize(
    "fields", [{"f": 1.5}, {"f": float("nan")}, {"f": 2**64}, {"f": b"x"}, {1: 2}, {"f": "\ud800"}]
)
def test_encoding_refuses_what_has_no_canonical_form(fields) -> None:
    with pytest.raises(LocalProtocolError):
        encode_entry(ENTRY._replace(fields=fields))


_GOOD = dict(
    station="st-a",
    epoch=1,
    seq=1,
    prev_hash=None,
    hlc=(1, 0),
    entity="worker",
    entity_id="w1",
    op="update",
    fields={},
)


@pytest.mark.parametrize(
    ("wrong", "named"),
    [
        ({"seq": 0}, "seq"),
        ({"entity": "Worker!"}, "entity"),
        ({"station": "st a"}, "station"),
        ({"seq": 2, "prev_hash": "ABC"}, "prev"),
    ],
)
def test_make_entry_checks_every_field(wrong: dict[str, Any], named: str) -> None:
    make_entry(**_GOOD)  # the good entry passes, so each case fails for its one wrong field
    with pytest.raises(LocalProtocolError, match=named):
        make_entry(**{**_GOOD, **wrong})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(fields=st.dictionaries(st.text(max_size=10), json_values, max_size=5))
def test_any_json_value_round_trips_to_the_same_bytes(fields) -> None:
    try:
        entry = ENTRY._replace(fields=fields)
        raw = encode_entry(entry)
    except LocalProtocolError:
        return  # lone surrogates have no UTF-8 form
    assert decode_entry(raw) == entry
    assert encode_entry(decode_entry(raw)) == raw


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300))
def test_decoding_random_bytes_raises_only_protocol_errors(data) -> None:
    for blob in (data, b"kg1/entry " + data):
        try:
            decode_entry(blob)
        except RemoteProtocolError:
            pass


def test_generic_encode_decode_tags_domains() -> None:
    raw = encode("hello", {"b": 1, "a": [1, "二"]})
    assert raw == 'kg1/hello {"a":[1,"二"],"b":1}'.encode()
    assert decode("hello", raw) == {"a": [1, "二"], "b": 1}
    with pytest.raises(RemoteProtocolError):
        decode("pull", raw)
