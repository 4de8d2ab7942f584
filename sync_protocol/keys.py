"""Ed25519 keys, key ids, and the key ring that knows which key may sign what.

A key id is derived from the public key: the first 16 bytes of
``SHA-256(b"kg1/key " + raw_public_key)`` in lowercase hex (32 characters).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from sync_protocol.errors import LocalProtocolError, Reason

Position = tuple[int, int]  # (epoch, seq): a place in one log
FOREVER: Position = (2**63 - 1, 2**63 - 1)
_KEY_TAG = b"kg1/key "


def key_id(public_key: bytes) -> str:
    """The id of a raw 32-byte Ed25519 public key."""
    return hashlib.sha256(_KEY_TAG + bytes(public_key)).hexdigest()[:32]


class SigningKey:
    """An Ed25519 private key; the caller keeps it (in a file, a vault) and passes it in."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public_key: bytes = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = key_id(self.public_key)

    @classmethod
    def from_seed(cls, seed: bytes) -> SigningKey:
        """The key whose 32-byte RFC 8032 secret is `seed`."""
        if len(seed) != 32:
            raise LocalProtocolError(Reason.MALFORMED, "an Ed25519 seed is 32 bytes")
        return cls(Ed25519PrivateKey.from_private_bytes(bytes(seed)))

    @classmethod
    def generate(cls) -> SigningKey:
        """A fresh random key (enrolment, rotation)."""
        return cls(Ed25519PrivateKey.generate())

    def seed(self) -> bytes:
        """The 32-byte secret, for the caller to store."""
        return self._private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of `message`."""
        return self._private.sign(message)

    def __repr__(self) -> str:
        return f"SigningKey({self.key_id})"


def verify_signature(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """True when `signature` is a valid Ed25519 signature of `message` by `public_key`."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes(public_key)).verify(bytes(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class KeyRecord:
    """One key of one log and the part of that log it may sign (positions are inclusive)."""

    key_id: str
    public_key: bytes
    owner: str  # the station (or hub) whose log this key signs
    valid_from: Position = (0, 0)
    valid_until: Position = FOREVER
    revoked_after: Position | None = None

    @classmethod
    def of(cls, public_key: bytes, owner: str, valid_from: Position = (0, 0)) -> KeyRecord:
        """A record for `public_key`, its id derived from it."""
        return cls(key_id(public_key), bytes(public_key), owner, valid_from)

    def refusal(self, owner: str, position: Position) -> Reason | None:
        """Why this key may not sign `owner`'s log at `position`, or None when it may."""
        if owner != self.owner:
            return Reason.WRONG_STATION
        if self.revoked_after is not None and position > self.revoked_after:
            return Reason.REVOKED_KEY
        if not self.valid_from <= position <= self.valid_until:
            return Reason.RETIRED_KEY
        return None


class KeyRing(Mapping[str, KeyRecord]):
    """An immutable set of KeyRecords by key id; changes return a new ring."""

    def __init__(self, records: Iterable[KeyRecord] = ()) -> None:
        self._records = {r.key_id: r for r in records}

    def __getitem__(self, kid: str) -> KeyRecord:
        return self._records[kid]

    def __iter__(self) -> Iterator[str]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"KeyRing({sorted(self._records)})"

    def with_key(self, record: KeyRecord) -> KeyRing:
        """This ring plus (or with an updated) `record`."""
        return KeyRing([*(r for k, r in self._records.items() if k != record.key_id), record])

    def rotated(self, old_kid: str, new_public_key: bytes, at: Position) -> KeyRing:
        """The old key signs up to `at` (the rotation entry); the new key signs after it."""
        old = self._records.get(old_kid)
        if old is None:
            raise LocalProtocolError(Reason.UNKNOWN_KEY, f"no key {old_kid} to rotate")
        new = KeyRecord.of(new_public_key, old.owner, (at[0], at[1] + 1))
        return self.with_key(replace(old, valid_until=at)).with_key(new)

    def revoked(self, kid: str, after: Position) -> KeyRing:
        """Anything `kid` signs past `after` is refused from now on."""
        old = self._records.get(kid)
        if old is None:
            raise LocalProtocolError(Reason.UNKNOWN_KEY, f"no key {kid} to revoke")
        return self.with_key(replace(old, revoked_after=after))
