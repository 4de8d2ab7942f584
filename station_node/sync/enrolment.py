"""Enrolment with the hub: make the station's Ed25519 key, register it with a one-time code,
pin the hub's keys, and move ID hashes to the city's key.

The city's ID-hash key replaces the station's own (DATA_DIR/keys/id_hash.key, 0600; the old one
is kept beside it), so the same person registered at two stations has the same keyed hash at
the hub. Existing workers and person employers are hashed again and logged with a copy of the
number sealed to the hub. Entries logged before enrolment (nothing was sent yet) are re-chained
under the station id the hub assigned.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

import sync_protocol as sp
from kuaigong import clock
from station_node import changelog, db, identity, sealing
from station_node import station_state as state
from station_node.models import Employer, Worker
from station_node.sync.transport import HubClient, SyncError


def _write_key_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def enroll(app: Flask, hub_url: str, code: str, client: HubClient | None = None) -> dict[str, Any]:
    """Enrol (or rotate to a new key with a rotation code); returns what the hub answered."""
    with app.app_context(), db.database.connection_context():
        old = state.enrolment()
        key = sp.SigningKey.generate()
        client = client or HubClient(hub_url)
        answer = client.enroll(code.strip(), key.public_key.hex())
        try:
            hub_key = str(answer["hub_public_key"])
            if sp.key_id(bytes.fromhex(hub_key)) != answer["hub_key_id"]:
                raise ValueError("hub key id")
            city_key = bytes.fromhex(str(answer["id_hash_key"]))
            if len(city_key) != 32:
                raise ValueError("id hash key")
            enr = state.Enrolment(
                hub_url.rstrip("/"),
                str(answer["station_id"]),
                str(answer.get("station_name") or ""),
                str(answer["hub_id"]),
                hub_key,
                str(answer.get("seal_public_key") or ""),
                key.key_id,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise SyncError(
                "bad_enrolment_answer",
                "市级中心的注册应答不完整",
                f"The hub's enrolment answer is incomplete ({exc})",
                status=502,
            ) from None
        if old is not None and (
            old.station_id != enr.station_id or old.hub_public_key != enr.hub_public_key
        ):
            raise SyncError(
                "enrolment_mismatch",
                "该注册码属于另一个驿站或另一个中心，本站已注册的身份不变",
                "This code is for another station or hub; the enrolment is unchanged",
                status=409,
            )
        state.save_signing_key(key)
        if old is None:
            _rechain(enr.station_id, app)
        state.save_enrolment(enr)
        _adopt_city_hash_key(app, city_key)
        rehashed = _rehash()
        return {**answer, "rehashed": rehashed, "rotated": old is not None}


def _rechain(station: str, app: Flask) -> int:
    """Rewrite entries logged before enrolment under our new id (none of them was sent)."""
    return changelog.rechain(station, state.station_id(app), state.log_state()["bases"])


def _adopt_city_hash_key(app: Flask, city_key: bytes) -> None:
    folder = identity.keys_dir(app)
    identity.ensure_keys(app)
    current = folder / "id_hash.key"
    if current.read_bytes() == city_key:
        return
    kept = folder / "id_hash.station.key"
    if not kept.exists():
        _write_key_file(kept, current.read_bytes())
    _write_key_file(current, city_key)
    identity.ensure_keys(app)


def _rehash() -> int:
    """Hash every stored ID number again under the (city) key; log each change with a sealed
    copy."""
    enr = state.enrolment()
    seal_key = enr.seal_public_key if enr else ""
    changed = 0
    now = clock.now()
    models: list[tuple[str, Any]] = [("worker", Worker), ("employer", Employer)]
    with db.atomic():
        for entity, model in models:
            for row in model.select().where(model.id_cipher.is_null(False)):
                number = identity.decrypt_id(row.id_cipher)
                new_hash = identity.hash_id(number)
                if new_hash == row.id_hash:
                    continue
                model.update(id_hash=new_hash, updated_at=now).where(model.id == row.id).execute()
                fields: dict[str, Any] = {"id_hash": new_hash, "updated_at": now}
                if seal_key:
                    fields["id_sealed"] = sealing.seal(number, seal_key)
                changelog.record(entity, row.id, "update", fields)
                changed += 1
    return changed
