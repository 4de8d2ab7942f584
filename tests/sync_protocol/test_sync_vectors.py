"""The files in tests/vectors/ are what the protocol produces, byte for byte, and verify as
documented."""

from __future__ import annotations

import hashlib
import json

import pytest
from sync_helpers import HUB, T0, head, ring, seed_key
from sync_vectors import VECTORS, build

from sync_protocol import (
    Apply,
    Fork,
    Reason,
    Rejected,
    decode_entry,
    parse_checkpoint,
    read_bundle,
    verify_batch,
    verify_receipt,
    verify_reset,
)

BUILT = build()
NOW = T0 + 10_000
ST_A = seed_key("st-a")


@pytest.mark.parametrize("name", sorted(BUILT))
def test_vector_file_matches_byte_for_byte(name: str) -> None:
    assert (VECTORS / name).read_bytes() == BUILT[name]


def _v(name: str) -> bytes:
    return (VECTORS / name).read_bytes()


def test_keys_come_from_their_seeds() -> None:
    keys = json.loads(_v("keys.json"))
    for name, k in keys.items():
        assert k["seed"] == hashlib.sha256(b"kuaigong test key " + name.encode()).hexdigest()
        assert (
            seed_key(name).public_key.hex() == k["public_key"]
            and seed_key(name).key_id == k["key_id"]
        )


def test_entry_vector_decodes_and_hashes_as_documented() -> None:
    entry = decode_entry(_v("entry.kg"))
    assert (entry.station, entry.seq, entry.fields["name"]) == ("st-a", 1, "张三")
    assert hashlib.sha256(_v("entry.kg")).hexdigest() + "\n" == _v("entry.sha256").decode()


def test_chain_applies_and_tampered_copy_is_refused() -> None:
    v = verify_batch(_v("chain.batch"), head("st-a"), ring("st-a", ST_A), NOW)
    assert isinstance(v, Apply) and v.head.seq == 3
    assert parse_checkpoint(_v("checkpoint.kg")).checkpoint.head == v.head.head
    bad = verify_batch(_v("tampered.batch"), head("st-a"), ring("st-a", ST_A), NOW)
    assert isinstance(bad, Rejected) and bad.reason is Reason.BROKEN_CHAIN


def test_fork_vector_is_a_fork_with_both_checkpoints() -> None:
    v = verify_batch(_v("chain.batch"), head("st-a"), ring("st-a", ST_A), NOW)
    fork = verify_batch(_v("fork.batch"), v.head, ring("st-a", ST_A), NOW)
    assert isinstance(fork, Fork)
    assert fork.evidence.accepted_checkpoint == _v("fork-accepted.checkpoint")
    assert fork.evidence.conflicting_checkpoint == _v("fork-conflicting.checkpoint")
    a, b = (
        parse_checkpoint(_v("fork-accepted.checkpoint")),
        parse_checkpoint(_v("fork-conflicting.checkpoint")),
    )
    assert (a.checkpoint.seq, a.checkpoint.key) == (b.checkpoint.seq, b.checkpoint.key)
    assert a.checkpoint.head != b.checkpoint.head


def test_rotation_vectors() -> None:
    v = verify_batch(_v("rotation.batch"), head("st-a"), ring("st-a", ST_A), NOW)
    assert isinstance(v, Apply) and v.rotations[0].key_id == seed_key("st-a-2").key_id
    after = verify_batch(_v("after-rotation.batch"), v.head, v.keys, NOW)
    assert isinstance(after, Apply)
    # without the rotation the new key is unknown
    refused = verify_batch(_v("after-rotation.batch"), v.head, ring("st-a", ST_A), NOW)
    assert isinstance(refused, Rejected) and refused.reason is Reason.UNKNOWN_KEY


def test_receipt_reset_and_bundle_vectors() -> None:
    hub_keys = ring(HUB, seed_key(HUB))
    r = verify_receipt(_v("receipt.kg"), hub_keys, HUB, "st-a")
    assert (r.seq, r.hub_seq, r.hub_time) == (3, 7, T0 + 5000)
    reset = verify_reset(_v("reset.kg"), hub_keys, HUB, "st-a")
    assert (reset.epoch, reset.base_seq) == (2, 2)
    bundle = read_bundle(_v("bundle.kgb"))
    assert bundle.parts[0].data == _v("chain.batch")


@pytest.mark.parametrize(
    "name",
    [
        "entry.kg",
        "chain.batch",
        "checkpoint.kg",
        "receipt.kg",
        "reset.kg",
        "rotation.batch",
        "bundle.kgb",
    ],
)
def test_the_spec_shows_the_vectors_exactly(name: str) -> None:
    spec = (VECTORS.parent.parent / "docs" / "sync-protocol.md").read_text(encoding="utf-8")
    assert _v(name).decode() in spec
