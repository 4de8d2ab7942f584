"""Fixed-seed keys and small log builders shared by the sync_protocol tests and vectors."""

from __future__ import annotations

import hashlib

from sync_protocol import (
    ChainHead,
    HybridClock,
    KeyRecord,
    KeyRing,
    LogWriter,
    SigningKey,
)

T0 = 1_732_800_000_000  # 2024-11-28T13:20:00Z in ms
HUB = "hub"


def seed_key(name: str) -> SigningKey:
    """A deterministic key: seed = SHA-256("kuaigong test key " + name)."""
    return SigningKey.from_seed(hashlib.sha256(b"kuaigong test key " + name.encode()).digest())


def ring(owner: str, *keys: SigningKey) -> KeyRing:
    """A key ring holding `keys` for `owner`'s log."""
    return KeyRing(KeyRecord.of(k.public_key, owner) for k in keys)


def writer(station: str, key: SigningKey | None = None, start: int = T0) -> LogWriter:
    """A log writer for `station` with its seeded key and a clock at `start`."""
    return LogWriter(station, key or seed_key(station), HybridClock(station, max_drift_ms=60_000))


def entries(w: LogWriter, n: int, wall: int = T0, entity: str = "worker") -> list[bytes]:
    """Append `n` simple updates and return their bytes."""
    out = []
    for i in range(n):
        item = w.append(entity, f"w{i % 3}", "update", {"name": f"工人{i}", "n": i}, wall + i)
        out.append(item.raw)
    return out


def head(station: str) -> ChainHead:
    """A receiver's empty head for `station`."""
    return ChainHead(station)
