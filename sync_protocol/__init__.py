"""Kuaigong sync protocol: signed, verifiable change logs between stations and the hub.

Pure and sans-I/O: no sockets, files, Flask or peewee; time, keys and bytes come in as
arguments. The wire format, verdict rules and merge rules are in docs/sync-protocol.md.

Station appends (inside its change-log transaction)::

    entry = make_entry(station=station, epoch=epoch, seq=seq, prev_hash=prev_hash,
                       hlc=(hlc_wall, hlc_counter), entity=entity, entity_id=entity_id,
                       op=op, fields=fields, origin=origin)
    raw = encode_entry(entry); row.entry_hash = entry_hash(raw)

Sync: StationSession plans pushes and checks replies; HubSession gives verdicts (verify_batch)
and signs receipts; MergeState folds changes; write_bundle/read_bundle carry the same bytes
on a USB stick.
"""

from __future__ import annotations

from sync_protocol.batches import (
    DEFAULT_LIMITS,
    Batch,
    Limits,
    chunk,
    entries_digest,
    parse_batch,
    sign_batch,
)
from sync_protocol.bundles import Bundle, BundleHeader, BundlePart, read_bundle, write_bundle
from sync_protocol.calls import (
    CALL_HEADER,
    Call,
    SignedCall,
    body_matches,
    check_call,
    parse_call,
    sign_call,
)
from sync_protocol.checkpoints import (
    Checkpoint,
    SignedCheckpoint,
    parse_checkpoint,
    sign_checkpoint,
)
from sync_protocol.conflicts import (
    BookingConflict,
    MergeProposal,
    identity_duplicates,
    overlapping_bookings,
)
from sync_protocol.entries import (
    GENESIS_HASH,
    ROTATION_ENTITY,
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
from sync_protocol.logs import LogWriter
from sync_protocol.merge import (
    OWNED,
    Change,
    MergeState,
    Record,
    Version,
    View,
    change_of,
    lww,
    merge_change,
    view,
)
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
from sync_protocol.sessions import HubSession, StationSession, batch_range
from sync_protocol.verifier import (
    AcceptedEntry,
    Apply,
    ChainHead,
    Fork,
    ForkEvidence,
    Gap,
    Rejected,
    Replay,
    Verdict,
    verify_batch,
)

__all__ = [
    "DEFAULT_LIMITS",
    "GENESIS_HASH",
    "OWNED",
    "ROTATION_ENTITY",
    # encoding, entries, chain
    "Entry",
    "make_entry",
    "encode_entry",
    "decode_entry",
    "entry_hash",
    # clocks and keys
    "Hlc",
    "HybridClock",
    "compare",
    "stamp_key",
    "SigningKey",
    "KeyRecord",
    "KeyRing",
    "key_id",
    "verify_signature",
    # checkpoints and batches
    "Checkpoint",
    "SignedCheckpoint",
    "sign_checkpoint",
    "parse_checkpoint",
    "Batch",
    "Limits",
    "sign_batch",
    "parse_batch",
    "chunk",
    "entries_digest",
    "LogWriter",
    # signed calls (a station's HTTP request, checked before its body is read)
    "CALL_HEADER",
    "Call",
    "SignedCall",
    "sign_call",
    "parse_call",
    "check_call",
    "body_matches",
    # verdicts
    "ChainHead",
    "AcceptedEntry",
    "Verdict",
    "Apply",
    "Replay",
    "Fork",
    "ForkEvidence",
    "Gap",
    "Rejected",
    "verify_batch",
    # hub-signed replies and requests
    "Receipt",
    "EpochReset",
    "Rejection",
    "RestoreCheck",
    "check_restore",
    "sign_receipt",
    "verify_receipt",
    "sign_reset",
    "verify_reset",
    "sign_rejection",
    "verify_rejection",
    "Hello",
    "Pull",
    "encode_hello",
    "parse_hello",
    "encode_pull",
    "parse_pull",
    # sessions and bundles
    "StationSession",
    "HubSession",
    "batch_range",
    "Bundle",
    "BundleHeader",
    "BundlePart",
    "write_bundle",
    "read_bundle",
    # merge and conflicts
    "Change",
    "change_of",
    "Version",
    "lww",
    "Record",
    "View",
    "merge_change",
    "view",
    "MergeState",
    "MergeProposal",
    "BookingConflict",
    "identity_duplicates",
    "overlapping_bookings",
    # errors
    "ProtocolError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "BundleError",
    "Reason",
]
