"""Kuaigong sync protocol: signed, verifiable change logs between stations and the hub.

Pure and sans-I/O: no sockets, files, Flask or peewee. Time, keys and bytes come in as
arguments. The wire format is specified in docs/sync-protocol.md.
"""

from __future__ import annotations

from sync_protocol.batches import DEFAULT_LIMITS, Batch, Limits, chunk, parse_batch, sign_batch
from sync_protocol.checkpoints import (
    Checkpoint,
    SignedCheckpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from sync_protocol.entries import (
    GENESIS_HASH,
    Entry,
    decode_entry,
    encode_entry,
    entry_hash,
    make_entry,
)
from sync_protocol.errors import (
    BundleError,
    LocalProtocolError,
    ProtocolError,
    Reason,
    RemoteProtocolError,
)
from sync_protocol.hlc import Hlc, HybridClock, compare, stamp_key
from sync_protocol.keys import KeyRecord, KeyRing, SigningKey, key_id, verify_signature

__all__ = [
    "DEFAULT_LIMITS", "GENESIS_HASH", "Batch", "BundleError", "Checkpoint", "Entry", "Hlc",
    "HybridClock", "KeyRecord", "KeyRing", "Limits", "LocalProtocolError", "ProtocolError",
    "Reason", "RemoteProtocolError", "SignedCheckpoint", "SigningKey", "chunk", "compare",
    "decode_entry", "encode_entry", "entry_hash", "key_id", "make_entry", "parse_batch",
    "parse_checkpoint", "sign_batch", "sign_checkpoint", "stamp_key", "verify_signature",
]
