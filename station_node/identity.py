"""Resident ID numbers at rest: AES-GCM encrypted, HMAC-hashed for look-up, masked for display.

The two station keys live in DATA_DIR/keys/ (mode 0600), never in the database file, so a copy
of the database alone reveals no ID number. The hash key makes the look-up hash useless to
anyone without it (ID numbers are too few to protect with a plain hash).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask, current_app

from kuaigong.characters import normalise_id_number

_VERSION = b"\x01"
_NONCE_BYTES = 12
_AAD = b"kuaigong:id-number:v1"
_EXTENSION = "kuaigong_identity_keys"


@dataclass(frozen=True)
class StationKeys:
    """The station's ID-number keys: one to encrypt, one to hash."""

    encryption: bytes
    hashing: bytes


def keys_dir(app: Flask) -> Path:
    """Where the station keeps its keys: DATA_DIR/keys/."""
    return Path(app.config["DATA_DIR"]) / "keys"


def _read_or_create(path: Path) -> bytes:
    """Read a 32-byte key, creating it (0600, exclusively) the first time."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        data = path.read_bytes()
        if len(data) != 32:
            raise RuntimeError(f"station key {path} is damaged (expected 32 bytes)") from None
        return data
    key = secrets.token_bytes(32)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def ensure_keys(app: Flask) -> StationKeys:
    """Create the station's keys on first use, load them, and attach them to the app."""
    folder = keys_dir(app)
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    keys = StationKeys(
        encryption=_read_or_create(folder / "id_encryption.key"),
        hashing=_read_or_create(folder / "id_hash.key"),
    )
    app.extensions[_EXTENSION] = keys
    return keys


def _keys() -> StationKeys:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    keys = app.extensions.get(_EXTENSION)
    return keys if keys is not None else ensure_keys(app)


def normalise_id(id_number: str) -> str:
    """The canonical form of an ID number (`kuaigong.characters.normalise_id_number`):
    full-width folded, no spaces or hyphens, upper-case check character — one person, one hash,
    however typed."""
    return normalise_id_number(id_number)


def encrypt_id(id_number: str) -> bytes:
    """Encrypt an ID number under the station key (version byte + nonce + AES-GCM ciphertext)."""
    nonce = secrets.token_bytes(_NONCE_BYTES)
    sealed = AESGCM(_keys().encryption).encrypt(nonce, normalise_id(id_number).encode(), _AAD)
    return _VERSION + nonce + sealed


def decrypt_id(blob: bytes) -> str:
    """Decrypt what `encrypt_id` produced; raises if the data or key is wrong."""
    blob = bytes(blob)
    if blob[:1] != _VERSION:
        raise ValueError("unknown ID cipher version")
    nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
    return AESGCM(_keys().encryption).decrypt(nonce, sealed, _AAD).decode()


def hash_id(id_number: str) -> str:
    """Keyed HMAC-SHA256 (hex) of the normalised ID number, for look-up and duplicates."""
    digest = hmac.new(_keys().hashing, normalise_id(id_number).encode(), hashlib.sha256)
    return digest.hexdigest()


def mask_id(id_number: str) -> str:
    """The display form: first six and last four characters kept (110105********002X)."""
    value = normalise_id(id_number)
    if len(value) <= 10:
        return "*" * max(len(value) - 2, 0) + value[-2:]
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
