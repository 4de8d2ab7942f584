"""ID numbers for the hub: the city's keyed hash for de-duplication, and a copy sealed to the
hub's X25519 key (ephemeral X25519 + HKDF-SHA256 + AES-GCM) that only the hub can open.

Sealed form, hex: ephemeral public key (32) ‖ nonce (12) ‖ AES-GCM ciphertext — the form the
hub's `keys.unseal` opens. The plaintext number never leaves the station.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from station_node import identity
from station_node import station_state as state
from station_node.models import Employer, Worker

SEAL_INFO = b"kuaigong/seal-id/v1"


def seal(plaintext: str, recipient_hex: str) -> str:
    """Seal text to the hub's X25519 public key (hex in, hex out)."""
    recipient = bytes.fromhex(recipient_hex)
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    key = HKDF(hashes.SHA256(), 32, salt=eph_pub + recipient, info=SEAL_INFO).derive(shared)
    nonce = secrets.token_bytes(12)
    return (eph_pub + nonce + AESGCM(key).encrypt(nonce, plaintext.encode(), None)).hex()


def sealed_copy(entity: str, entity_id: str) -> str | None:
    """The ID number of a worker or person employer sealed to the hub (None when not enrolled)."""

    enr = state.enrolment()
    if enr is None or not enr.seal_public_key:
        return None
    model = Worker if entity == "worker" else Employer
    row = model.get_or_none(model.id == entity_id)
    if row is None or row.id_cipher is None:
        return None
    return seal(identity.decrypt_id(row.id_cipher), enr.seal_public_key)
