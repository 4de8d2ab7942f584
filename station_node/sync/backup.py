"""Backing a station up and restoring it, without losing work made after the restore.

A backup file is a zip archive:

- `manifest.json` — format, version, station id, when (station clock) and the log's head;
- `station.sqlite` — the database, copied with SQLite's online backup API (a consistent
  snapshot even while the station is serving and writing);
- `keys/…` — the station's keys (signing key, ID-hash and ID-cipher keys): without them the ID
  numbers in the database cannot be read and the log cannot be signed;
- `sync/enrolment.json`, `sync/acked.json` — the enrolment (hub address, pinned hub keys) and
  the newest hub receipt at the time of the backup;
- `config.py` — the station's instance configuration, when there is one.

Restoring always replaces the database. Every other file is written only where the data folder
lacks it: keys and receipts already on the machine are newer than any backup, and the newest
receipt is what lets the station notice that the restored log is behind the hub. Such a station
keeps serving; it notes where its log went on (`state.mark_restored`), holds those entries back
from the hub, and when the hub's signed epoch reset arrives `carry_into_epoch` moves them into
the new epoch, re-chained in order, so they reach the hub exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from flask import Flask

import sync_protocol as sp
from kuaigong import clock
from station_node import changelog, db
from station_node import station_state as state
from station_node.identity import ensure_keys
from station_node.models import ChangeEntry
from station_node.sync import client, outbox
from station_node.sync.transport import SyncError

FORMAT = "kuaigong-station-backup"
VERSION = 1
DB_NAME = "station.sqlite"
_SYNC_FILES = ("enrolment.json", "acked.json")


def backup(app: Flask, target: str | Path) -> dict[str, Any]:
    """Write a backup file of the station in DATA_DIR to `target` (safe while it runs)."""
    folder = state.data_dir(app)
    source_path = db.database_path(app)
    if not source_path.exists():
        raise SyncError(
            "no_database",
            f"找不到驿站数据库：{source_path}",
            f"The station database {source_path} does not exist",
            status=404,
        )
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        copy = Path(tmp) / DB_NAME
        _online_copy(source_path, copy)
        head = _head_of(copy)
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "station": _station_of(app),
            "created_at": clock.now().replace(microsecond=0, tzinfo=dt.UTC).isoformat(),
            "head": head,
        }
        partial = Path(tmp) / "backup.zip"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(
                "manifest.json", json.dumps(manifest, ensure_ascii=False, sort_keys=True)
            )
            archive.write(copy, DB_NAME)
            for path in sorted((folder / "keys").glob("*")):
                if path.is_file() and not path.name.endswith(".tmp"):
                    archive.write(path, f"keys/{path.name}")
            for name in _SYNC_FILES:
                if (folder / "sync" / name).exists():
                    archive.write(folder / "sync" / name, f"sync/{name}")
            if (folder / "config.py").exists():
                archive.write(folder / "config.py", "config.py")
        _fsync(partial)
        os.replace(partial, target)
    return {"path": str(target), **manifest}


def _online_copy(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while other connections read and write."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=256)
    finally:
        dst.close()
        src.close()


def _head_of(path: Path) -> dict[str, Any]:
    """The log's last row (row seq, epoch) and how many rows the copy holds."""
    con = sqlite3.connect(path)
    try:
        row = con.execute(
            f'SELECT "seq", "epoch" FROM "{ChangeEntry._meta.table_name}" '
            'ORDER BY "seq" DESC LIMIT 1'
        ).fetchone()
    except sqlite3.Error:
        row = None
    finally:
        con.close()
    return {"row_seq": row[0] if row else 0, "epoch": row[1] if row else 1}


def _station_of(app: Flask) -> str:
    return state.station_id(app)


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def restore(app: Flask, source: str | Path) -> dict[str, Any]:
    """Put a backup file back into DATA_DIR (the station must be stopped); see the module doc."""
    folder = state.data_dir(app)
    try:
        archive = zipfile.ZipFile(source)
    except (OSError, zipfile.BadZipFile) as exc:
        raise SyncError(
            "bad_backup",
            "备份文件无法读取（不是驿站备份或已损坏）",
            f"The backup file cannot be read ({exc})",
            status=422,
        ) from None
    with archive:
        manifest = _manifest(archive)
        enrolled = state.enrolment(app)
        if enrolled is not None and manifest.get("station") not in (enrolled.station_id, None):
            raise SyncError(
                "backup_other_station",
                f"该备份属于驿站 {manifest.get('station')}，不是本站 {enrolled.station_id}",
                f"This backup is of station {manifest.get('station')}, not of "
                f"{enrolled.station_id}",
                status=409,
            )
        target = db.database_path(app)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        with archive.open(DB_NAME) as src, open(partial, "wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        db.close_all()
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(partial, target)
        written = _missing_files(archive, folder)
    db.open_database(target)
    db.migrate()
    if any(name.startswith("keys/") for name in written):
        ensure_keys(app)  # the keys that came with the backup, not the ones loaded before
    with app.app_context(), db.database.connection_context():
        return {"written": written, **_note_restore()}


def _manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read("manifest.json"))
        archive.getinfo(DB_NAME)
    except (KeyError, ValueError):
        raise SyncError(
            "bad_backup",
            "备份文件不完整（缺少清单或数据库）",
            "The backup file lacks its manifest or database",
            status=422,
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise SyncError(
            "bad_backup",
            "这不是快工驿站的备份文件",
            "This is not a Kuaigong station backup",
            status=422,
        )
    if int(manifest.get("version") or 0) > VERSION:
        raise SyncError(
            "backup_too_new",
            "备份文件来自更新版本的软件，请先升级",
            "The backup was made by a newer version; upgrade first",
            status=422,
        )
    return manifest


def _missing_files(archive: zipfile.ZipFile, folder: Path) -> list[str]:
    """Write the backup's other files where the data folder lacks them (0600)."""
    written = []
    for name in archive.namelist():
        if name in ("manifest.json", DB_NAME) or name.endswith("/"):
            continue
        parts = Path(name).parts
        if (
            ".." in parts
            or Path(name).is_absolute()
            or parts[0] not in ("keys", "sync", "config.py")
        ):
            continue
        path = folder / name
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(archive.read(name))
        written.append(name)
    return written


def _note_restore() -> dict[str, Any]:
    """After a restore: is the log behind the hub's newest receipt? Then note where it goes on."""

    enr = state.enrolment()
    h = outbox.head()
    receipt = state.acked().receipt
    behind = False
    if enr is not None and receipt is not None and receipt.station == enr.station_id:
        check = sp.check_restore(h.epoch, h.seq, h.hash, receipt)
        if not check.may_append:
            with db.atomic():
                state.mark_restored(h.epoch, h.seq, h.hash, check.reason)
            behind = True
    pending = client.pending_count()
    if enr is not None:
        state.update_status(pending=pending, blocked="restored" if behind else None)
    return {
        "epoch": h.epoch,
        "head_seq": h.seq,
        "receipt_seq": receipt.seq if receipt else 0,
        "behind_hub": behind,
        "pending": pending,
    }


# -- the hub's epoch reset carries what the hub does not hold -----------------------------------
def carry_into_epoch(reset: sp.EpochReset, fields: dict[str, Any]) -> int:
    """Start `reset.epoch` after the hub's head and move our entries the hub does not hold into
    it, in order, re-chained (caller's transaction). Returns how many were carried."""
    enr = state.enrolment()
    assert enr is not None
    log = state.log_state()
    old = int(log["epoch"])
    rows = list(ChangeEntry.select().where(ChangeEntry.epoch == old).order_by(ChangeEntry.seq))
    agreed = _agreed_seq(rows, old, log["bases"], reset, fields)
    carried = [r for r in rows if changelog.protocol_seq(r, log["bases"]) > agreed]
    last_row = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    kept_up_to = carried[0].seq - 1 if carried else (last_row.seq if last_row is not None else 0)
    state.start_epoch(reset.epoch, kept_up_to, reset.base_seq, reset.base_hash)
    _report_altered(carried, enr.station_id, log["bases"], old)
    bases = state.log_state()["bases"]
    prev = reset.base_hash
    for row in carried:
        row.epoch, row.prev_hash = reset.epoch, prev
        prev = row.entry_hash = sp.entry_hash(changelog.encode_row(row, enr.station_id, bases))
        ChangeEntry.update(epoch=row.epoch, prev_hash=row.prev_hash, entry_hash=prev).where(
            ChangeEntry.seq == row.seq
        ).execute()
    state.clear_restore_mark()
    if carried:
        state.note_alert(
            "reset_carried",
            f"{reset.epoch}",
            {
                "epoch": reset.epoch,
                "carried": len(carried),
                "first_seq": reset.base_seq + 1,
                "last_seq": reset.base_seq + len(carried),
                "from_epoch": old,
                "after_seq": agreed,
            },
        )
    return len(carried)


def _report_altered(
    rows: list[ChangeEntry], station: str, bases: dict[str, int], epoch: int
) -> None:
    """A carried row changed after it was logged is carried as it reads, and the hub is told."""
    for row in rows:
        try:
            digest = sp.entry_hash(changelog.encode_row(row, station, bases))
        except sp.ProtocolError as exc:
            digest = f"unencodable: {exc.detail}"
        if digest != row.entry_hash:
            seq = changelog.protocol_seq(row, bases)
            state.note_alert(
                "entry_altered",
                f"{epoch}:{seq}:{digest}",
                {
                    "epoch": epoch,
                    "seq": seq,
                    "pushed": False,
                    "carried": True,
                    "entity": row.entity,
                    "entity_id": row.entity_id,
                    "op": row.op,
                    "fields": row.fields,
                    "stored_hash": row.entry_hash,
                    "computed_hash": digest,
                    "problem": "hash",
                },
            )


def _agreed_seq(
    rows: list[ChangeEntry],
    old: int,
    bases: dict[str, int],
    reset: sp.EpochReset,
    fields: dict[str, Any],
) -> int:
    """The last seq of our old epoch that the hub holds as we do; everything after is carried.

    In order: our entry at the reset's base has the hub's hash (all up to it held); the hub names
    where our log forked from its copy (`agreed_seq`, in its signed log entry); we noted where the
    log went on after a restore; our newest receipt matches our log; else nothing is held.
    """
    by_seq = {changelog.protocol_seq(r, bases): r for r in rows}
    if reset.epoch == old + 1:
        at_base = by_seq.get(reset.base_seq)
        if reset.base_seq == 0 or (at_base is not None and at_base.entry_hash == reset.base_hash):
            return reset.base_seq
    if isinstance(fields.get("agreed_seq"), int) and fields.get("from_epoch") == old:
        return max(0, int(fields["agreed_seq"]))
    mark = state.restore_mark()
    if mark is not None and int(mark["epoch"]) == old and isinstance(mark.get("seq"), int):
        return int(mark["seq"])
    receipt = state.acked().receipt
    if receipt is not None and receipt.epoch == old:
        at = by_seq.get(receipt.seq)
        if at is not None and at.entry_hash == receipt.head:
            return receipt.seq
    return 0
