"""How the hub encodes and signs what it sends: hub-log entries, their checkpoints, receipts.

PROVISIONAL: these follow SYNC.md (sorted-key UTF-8 JSON, SHA-256, Ed25519) and are replaced
by `sync_protocol`'s own encoders once that library is in place.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from central_hub import keys

HUB_ORIGIN = "hub"


@dataclass(frozen=True)
class Encoded:
    raw: str
    entry_hash: str


def _canonical(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def encode_hub_entry(
    *,
    seq: int,
    prev_hash: str,
    hlc: int,
    entity: str,
    entity_id: str,
    op: str,
    fields: dict[str, Any],
    targets: list[str] | None,
) -> Encoded:
    """Canonical bytes and hash of one hub-log entry."""
    body = {
        "tag": "kuaigong/hub-entry/v1",
        "station": HUB_ORIGIN,
        "epoch": 1,
        "seq": seq,
        "prev": prev_hash,
        "hlc": hlc,
        "entity": entity,
        "entity_id": entity_id,
        "op": op,
        "fields": dict(fields, targets=targets) if targets else fields,
        "origin": HUB_ORIGIN,
    }
    raw = _canonical(body)
    return Encoded(raw=raw.decode(), entry_hash=hashlib.sha256(raw).hexdigest())


def hub_checkpoint(seq: int, head_hash: str, hlc: int) -> dict[str, Any]:
    """A hub-signed checkpoint naming `head_hash` as the log's head at `seq`."""
    body = {"tag": "kuaigong/hub-checkpoint/v1", "station": HUB_ORIGIN, "epoch": 1,
            "seq": seq, "head": head_hash, "hlc": hlc, "key": keys.hub_public_key()}
    return dict(body, signature=keys.sign(_canonical(body)))


def sign_receipt(body: dict[str, Any]) -> dict[str, Any]:
    """A receipt with the hub's signature over its canonical bytes."""
    body = dict(body, tag="kuaigong/receipt/v1", key=keys.hub_public_key())
    return dict(body, signature=keys.sign(_canonical(body)))
