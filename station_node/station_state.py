"""What the sync client keeps, and where.

Files in DATA_DIR (never in the database, so an old database backup cannot roll them back):

- keys/station_ed25519.key — the station's signing seed (0600);
- sync/enrolment.json — the hub's address, our station id, the pinned hub keys;
- sync/acked.json — the newest hub-signed receipt and the HLC floor (the hub's latest time);
- sync/status.json — what the console shows (reachable, last success, last error, rejection).

In the database (StationState "sync.log"): the log's epoch and, per epoch, the local row seq
just before it, so an entry's protocol seq is its row seq minus its epoch's base.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app

import sync_protocol as sp
from station_node.db import database
from station_node.models import StationState

KEY_FILE = "station_ed25519.key"
T = TypeVar("T")
_cache: dict[tuple[str, str], tuple[tuple[int, int, int] | None, Any]] = {}
_lock = threading.RLock()


def data_dir(app: Flask | None = None) -> Path:
    """The station's data folder."""
    return Path((app or current_app).config["DATA_DIR"])


def _path(name: str, app: Flask | None = None) -> Path:
    return _sync_file(str((app or current_app).config["DATA_DIR"]), name)


@functools.lru_cache(maxsize=64)
def _sync_file(folder: str, name: str) -> Path:
    return Path(folder) / "sync" / name


def write_json(path: Path, value: Any) -> None:
    """Replace a JSON file atomically (write, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _forget(path)


def _forget(path: Path) -> None:
    with _lock:
        for key in [k for k in _cache if k[0] == str(path)]:
            _cache.pop(key, None)


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What changes whenever the file is replaced or rewritten, by us or another process."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def _cached(path: Path, kind: str, build: Callable[[Any], T]) -> T:
    """`build(value of the JSON file)` (None when missing), kept until the file changes.

    One stat per call: the change log asks for the enrolment and the receipt on every entry.
    """
    sig = _signature(path)
    key = (str(path), kind)
    hit = _cache.get(key)
    if hit is not None and hit[0] == sig:
        return hit[1]
    value = None if sig is None else json.loads(path.read_text(encoding="utf-8"))
    built = build(value)
    if sig is not None and _signature(path) == sig:  # not replaced while we read it
        _cache[key] = (sig, built)
    return built


def read_json(path: Path) -> Any:
    """A JSON file's value (None when missing), cached until the file changes."""
    return _cached(path, "json", lambda value: value)


# -- enrolment -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Enrolment:
    """The station's enrolment with a hub: our id and the hub's pinned keys."""

    hub_url: str
    station_id: str
    station_name: str
    hub_id: str
    hub_public_key: str
    seal_public_key: str
    key_id: str

    def hub_keys(self) -> sp.KeyRing:
        """The pinned hub key as a key ring for verifying hub-signed bytes."""
        return sp.KeyRing([sp.KeyRecord.of(bytes.fromhex(self.hub_public_key), self.hub_id)])


def enrolment(app: Flask | None = None) -> Enrolment | None:
    """The station's enrolment, or None before `kuaigong station enroll`."""
    return _cached(_path("enrolment.json", app), "enrolment", _enrolment_of)


def _enrolment_of(value: Any) -> Enrolment | None:
    if not value:
        return None
    return Enrolment(**{k: value[k] for k in Enrolment.__dataclass_fields__})


def save_enrolment(enr: Enrolment, app: Flask | None = None) -> None:
    """Pin the hub and our identity."""
    write_json(_path("enrolment.json", app), enr.__dict__)


def station_id(app: Flask | None = None) -> str:
    """Our id in the change log: the hub's id for us once enrolled, the configured one before."""
    enr = enrolment(app)
    return enr.station_id if enr else str((app or current_app).config["STATION_ID"])


def signing_key(app: Flask | None = None) -> sp.SigningKey | None:
    """The station's Ed25519 key (None before enrolment)."""
    path = data_dir(app) / "keys" / KEY_FILE
    if not path.exists():
        return None
    return sp.SigningKey.from_seed(path.read_bytes())


def save_signing_key(key: sp.SigningKey, app: Flask | None = None) -> None:
    """Keep the key's seed in DATA_DIR/keys/ (0600), replacing any older key."""
    folder = data_dir(app) / "keys"
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (KEY_FILE + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.seed())
    os.replace(tmp, folder / KEY_FILE)


# -- what the hub holds (newest receipt) and the clock floor -----------------------------------
@dataclass(frozen=True)
class Acked:
    """The newest verified receipt (what the hub holds of our log) and our HLC floor."""

    receipt: sp.Receipt | None
    hlc_floor: tuple[int, int]


def acked(app: Flask | None = None) -> Acked:
    """What the hub acknowledged last."""
    return _cached(_path("acked.json", app), "acked", _acked_of)


def _acked_of(value: Any) -> Acked:
    value = value or {}
    r = value.get("receipt")
    receipt = (
        sp.Receipt(
            r["station"], r["epoch"], r["seq"], r["head"], r["hub"], r["hub_seq"], r["hub_time"]
        )
        if r
        else None
    )
    floor = value.get("hlc_floor") or [0, 0]
    return Acked(receipt, (int(floor[0]), int(floor[1])))


def save_acked(
    receipt: sp.Receipt | None, hlc_floor: tuple[int, int], app: Flask | None = None
) -> None:
    """Store the newest receipt and HLC floor (never moving either backwards)."""
    with _lock:
        old = acked(app)
        if old.receipt is not None and receipt is not None:
            a, b = old.receipt, receipt
            if (b.epoch, b.seq, b.hub_seq) < (a.epoch, a.seq, a.hub_seq):
                receipt = a
        elif receipt is None:
            receipt = old.receipt
        floor = max(old.hlc_floor, hlc_floor)
        write_json(
            _path("acked.json", app),
            {"receipt": receipt.__dict__ if receipt else None, "hlc_floor": list(floor)},
        )


def replace_receipt(receipt: sp.Receipt, app: Flask | None = None) -> None:
    """After an epoch reset: the receipt of the new epoch's base replaces the old one."""
    with _lock:
        old = acked(app)
        write_json(
            _path("acked.json", app),
            {"receipt": receipt.__dict__, "hlc_floor": list(old.hlc_floor)},
        )


# -- console status ------------------------------------------------------------------------------
def status(app: Flask | None = None) -> dict[str, Any]:
    """The last sync's outcome as the console shows it."""
    return dict(read_json(_path("status.json", app)) or {})


def update_status(app: Flask | None = None, **changes: Any) -> dict[str, Any]:
    """Merge `changes` into the status file."""
    with _lock:
        value = status(app)
        value.update(changes)
        write_json(_path("status.json", app), value)
        return value


# -- the log's epoch (in the database: it is part of the log) ---------------------------------
_LOG_STATE = f'SELECT "value" FROM "{StationState._meta.table_name}" WHERE "key" = ?'


def log_state() -> dict[str, Any]:
    """{"epoch": n, "bases": {"1": 0, ...}, "starts": {"2": [seq, hash]}}.

    An entry's protocol seq is its row seq minus its epoch's base; an epoch after a reset starts
    right after (seq, hash) of the hub-signed reset (the first entry has that hash as prev).
    """
    found = database.execute_sql(_LOG_STATE, ("sync.log",)).fetchone()
    return json.loads(found[0]) if found else {"epoch": 1, "bases": {"1": 0}, "starts": {}}


def epoch_start(log: dict[str, Any], epoch: int) -> tuple[int, str]:
    """The (seq, hash) an epoch continues from: (0, genesis) for the first one."""
    start = (log.get("starts") or {}).get(str(epoch))
    return (int(start[0]), str(start[1])) if start else (0, sp.GENESIS_HASH)


def start_epoch(epoch: int, last_row_seq: int, base_seq: int, base_hash: str) -> None:
    """Append in `epoch` after (base_seq, base_hash), from local row last_row_seq + 1 (caller's
    transaction)."""
    value = log_state()
    value = {
        "epoch": epoch,
        "bases": {**value["bases"], str(epoch): last_row_seq - base_seq},
        "starts": {**(value.get("starts") or {}), str(epoch): [base_seq, base_hash]},
    }
    StationState.insert(key="sync.log", value=value).on_conflict_replace().execute()


# -- a restore noticed here (in the database: it marks where the restored log went on) ---------
_RESTORE_KEY = "sync.restore"


def restore_mark() -> dict[str, Any] | None:
    """{"epoch", "seq", "hash", "reason"} where this log went on after a restore (seq may be None
    when only the hub's fork verdict told us), or None; push waits for a hub-signed reset."""
    found = database.execute_sql(_LOG_STATE, (_RESTORE_KEY,)).fetchone()
    return json.loads(found[0]) if found else None


def mark_restored(epoch: int, seq: int | None, head_hash: str | None, reason: str) -> bool:
    """Note, once per epoch, that the log went on after a restore (caller's transaction)."""
    old = restore_mark()
    if old is not None and int(old["epoch"]) == epoch:
        return False
    StationState.insert(
        key=_RESTORE_KEY, value={"epoch": epoch, "seq": seq, "hash": head_hash, "reason": reason}
    ).on_conflict_replace().execute()
    return True


def clear_restore_mark() -> None:
    """The hub's reset arrived: the log is whole again (caller's transaction)."""
    StationState.delete().where(StationState.key == _RESTORE_KEY).execute()


# -- alerts for the hub (a file: a restored database must not forget one) -------------------------
def alerts(app: Flask | None = None) -> list[dict[str, Any]]:
    """Alerts noted for the hub, each {"id", "kind", "details", "sent"}."""
    return list(read_json(_path("alerts.json", app)) or [])


def note_alert(kind: str, key: str, details: dict[str, Any], app: Flask | None = None) -> bool:
    """Queue an alert for the hub once per `key`; returns whether it is new."""
    with _lock:
        value = alerts(app)
        ident = f"{kind}:{key}"
        if any(a["id"] == ident for a in value):
            return False
        value.append({"id": ident, "kind": kind, "details": details, "sent": False})
        write_json(_path("alerts.json", app), value[-200:])
        return True


def alert_sent(ident: str, app: Flask | None = None) -> None:
    """The hub acknowledged alert `ident`."""
    with _lock:
        value = [{**a, "sent": True} if a["id"] == ident else a for a in alerts(app)]
        write_json(_path("alerts.json", app), value)
