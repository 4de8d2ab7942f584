"""The hub's keys, kept as files in DATA_DIR/keys/ (never in the database):

- `hub_ed25519.key`: signs receipts and the hub log; its public half is pinned by stations;
- `id_hash.key`: the city's secret for keyed ID hashes (HMAC-SHA256), shared with stations;
- `seal_x25519.key`: opens ID numbers a station sealed to the hub (X25519 + HKDF + AES-GCM).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app

SEAL_INFO = b"kuaigong/seal-id/v1"


def _write_secret(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def ensure_keys(app: Flask) -> Path:
    """Create the hub's keys once (a second call changes nothing); return the keys folder."""
    folder = Path(app.config["DATA_DIR"]) / "keys"
    for name in ("hub_ed25519.key", "seal_x25519.key", "id_hash.key"):
        path = folder / name
        if not path.exists():
            _write_secret(path, secrets.token_bytes(32))
    return folder


# Key files read once per process and path (every push signs a receipt); they never change
# while a hub runs — new keys need a restart.
_READ: dict[Path, bytes] = {}


def _raw(name: str, app: Flask | None = None) -> bytes:
    app = app or current_app
    path = Path(app.config["DATA_DIR"]) / "keys" / name
    data = _READ.get(path)
    if data is not None:
        return data
    if not path.exists():
        ensure_keys(app)
    data = path.read_bytes()
    if len(data) != 32:
        raise RuntimeError(f"hub key file {path} is damaged: {len(data)} bytes, expected 32")
    _READ[path] = data
    return data


def signing_key(app: Flask | None = None) -> Ed25519PrivateKey:
    """The hub's Ed25519 private key."""
    return Ed25519PrivateKey.from_private_bytes(_raw("hub_ed25519.key", app))


def public_key_bytes(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    """The 32 raw bytes of a public key."""
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def hub_public_key(app: Flask | None = None) -> str:
    """The hub's Ed25519 public key, hex, as stations pin it."""
    return public_key_bytes(signing_key(app).public_key()).hex()


def id_hash_key(app: Flask | None = None) -> bytes:
    """The city's ID-hash secret."""
    return _raw("id_hash.key", app)


def seal_public_key(app: Flask | None = None) -> str:
    """The X25519 public key stations seal ID numbers to, hex."""
    private = X25519PrivateKey.from_private_bytes(_raw("seal_x25519.key", app))
    return public_key_bytes(private.public_key()).hex()


def hash_id(id_number: str, app: Flask | None = None) -> str:
    """The keyed hash of an ID number, as stations compute it: HMAC-SHA256 hex of the
    upper-case number."""
    return hmac.new(
        id_hash_key(app), id_number.strip().upper().encode(), hashlib.sha256
    ).hexdigest()


def _seal_key(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=ephemeral + recipient, info=SEAL_INFO).derive(shared)


def seal(plaintext: str, recipient_hex: str) -> str:
    """Seal text to an X25519 public key: hex of ephemeral key (32) ‖ nonce (12) ‖ AES-GCM
    ciphertext."""
    recipient = bytes.fromhex(recipient_hex)
    ephemeral = X25519PrivateKey.generate()
    eph_pub = public_key_bytes(ephemeral.public_key())
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_seal_key(shared, eph_pub, recipient)).encrypt(nonce, plaintext.encode(), None)
    return (eph_pub + nonce + sealed).hex()


def unseal(sealed_hex: str, app: Flask | None = None) -> str:
    """Open a sealed ID number with the hub's sealing key (ValueError when it is not ours)."""
    try:
        blob = bytes.fromhex(sealed_hex)
        eph_pub, nonce, body = blob[:32], blob[32:44], blob[44:]
        private = X25519PrivateKey.from_private_bytes(_raw("seal_x25519.key", app))
        recipient = public_key_bytes(private.public_key())
        shared = private.exchange(X25519PublicKey.from_public_bytes(eph_pub))
        return AESGCM(_seal_key(shared, eph_pub, recipient)).decrypt(nonce, body, None).decode()
    except Exception as exc:  # any damage: wrong key, cut bytes, not hex
        raise ValueError("the sealed ID number cannot be opened with this hub's key") from exc


def sign(message: bytes, app: Flask | None = None) -> str:
    """Sign bytes with the hub key; hex signature."""
    return signing_key(app).sign(message).hex()
