"""ID numbers at rest: encryption round trip, keyed hash, mask, keys outside the database."""

from __future__ import annotations

import stat

import pytest
from cryptography.exceptions import InvalidTag
from flask import Flask

from station_node import db, identity

EXAMPLE = "11010519491231002X"


def _bare_app(data_dir) -> Flask:
    """Another process of a station with this data folder (keys only, no database binding)."""
    other = Flask("other")
    other.config["DATA_DIR"] = str(data_dir)
    return other


def test_encrypt_decrypt_round_trip_with_fresh_nonces(app):
    a, b = identity.encrypt_id(EXAMPLE), identity.encrypt_id(EXAMPLE.lower())
    assert a != b  # random nonce each time
    assert EXAMPLE.encode() not in a
    assert identity.decrypt_id(a) == identity.decrypt_id(b) == EXAMPLE


def test_tampered_cipher_is_refused(app):
    blob = bytearray(identity.encrypt_id(EXAMPLE))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        identity.decrypt_id(bytes(blob))


def test_hash_is_keyed_and_stable(app, tmp_path):
    first = identity.hash_id(EXAMPLE)
    assert first == identity.hash_id(" 11010519491231002x ")
    assert len(first) == 64
    import hashlib

    assert first != hashlib.sha256(EXAMPLE.encode()).hexdigest()


def test_keys_live_outside_the_database_with_private_modes(app):
    folder = identity.keys_dir(app)
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["id_encryption.key", "id_hash.key"]
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.stat().st_size == 32
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    database_bytes = db.database_path(app).read_bytes()
    for path in folder.iterdir():
        assert path.read_bytes() not in database_bytes


def test_keys_survive_a_restart(app, tmp_path):
    blob = identity.encrypt_id(EXAMPLE)
    digest = identity.hash_id(EXAMPLE)
    other = _bare_app(tmp_path)
    with other.app_context():
        assert identity.decrypt_id(blob) == EXAMPLE
        assert identity.hash_id(EXAMPLE) == digest


def test_a_different_station_cannot_read_or_match(app, tmp_path):
    blob = identity.encrypt_id(EXAMPLE)
    digest = identity.hash_id(EXAMPLE)
    other = _bare_app(tmp_path / "elsewhere")
    with other.app_context():
        assert identity.hash_id(EXAMPLE) != digest
        with pytest.raises(InvalidTag):
            identity.decrypt_id(blob)


def test_mask():
    assert identity.mask_id(EXAMPLE) == "110105********002X"
    assert identity.mask_id("11010519491231002x") == "110105********002X"
