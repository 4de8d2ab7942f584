"""`kuaigong station backup` / `restore`: a consistent copy while the station writes, everything
the data folder needs to run elsewhere, and a restore that keeps newer keys and receipts, goes
on serving and knows which entries the hub has not seen."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from web_helpers import T0

import sync_protocol as sp
from kuaigong import clock
from station_node import changelog, create_app, db
from station_node import station_state as state
from station_node.identity import decrypt_id, ensure_keys
from station_node.models import ChangeEntry, Worker
from station_node.sync import backup as station_backup
from station_node.sync import client
from station_node.sync.transport import SyncError


def _log(n: int, start: int = 0) -> None:
    with db.atomic():
        for i in range(start, start + n):
            changelog.record("worker", f"w{i}", "create", {"name": f"张{i}", "pay_fen": 2500})


def _station(folder: Path) -> Flask:
    """A station app of its own (restoring re-binds the database, so not the shared fixture's)."""
    made = create_app(
        {"DATA_DIR": str(folder), "TESTING": True, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}
    )
    clock.install(made, clock.ManualClock(T0))
    db.migrate()
    ensure_keys(made)
    return made


@contextlib.contextmanager
def _at(station: Flask) -> Iterator[None]:
    """Work at this station: its database bound, an app context and a connection."""
    db.open_database(db.database_path(station))
    with station.app_context(), db.database.connection_context():
        yield


def _chain_of(path: Path) -> list[tuple[int, str, str]]:
    """(seq, prev, hash) of the change log in a backed-up database, after an integrity check."""
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return con.execute(
            'SELECT "seq", "prev_hash", "entry_hash" FROM "change_entry" ORDER BY "seq"'
        ).fetchall()
    finally:
        con.close()


def _unpack(backup_file: Path, into: Path) -> Path:
    with zipfile.ZipFile(backup_file) as archive:
        archive.extract(station_backup.DB_NAME, into)
    return into / station_backup.DB_NAME


def test_backup_is_consistent_while_the_station_writes(app: Flask, tmp_path: Path) -> None:
    _log(50)
    stop = threading.Event()
    written = [0]

    def writer() -> None:
        with app.app_context(), db.database.connection_context():
            while not stop.is_set():
                _log(5, 1000 + written[0])
                written[0] += 5

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        files = [station_backup.backup(app, tmp_path / f"b{i}.kgbackup")["path"] for i in range(4)]
    finally:
        stop.set()
        thread.join(30)
    assert written[0] > 0
    for i, name in enumerate(files):
        chain = _chain_of(_unpack(Path(name), tmp_path / f"u{i}"))
        assert [seq for seq, _, _ in chain] == list(range(1, len(chain) + 1)) and len(chain) >= 50
        assert all(chain[k][1] == chain[k - 1][2] for k in range(1, len(chain)))  # whole chain
        assert chain[0][1] == sp.GENESIS_HASH


def test_backup_file_holds_what_the_folder_needs(tmp_path: Path, worker_data: Any) -> None:
    from station_node.services.registration import register_worker

    app = _station(tmp_path / "east")
    data = worker_data()
    with _at(app):
        worker = register_worker(data, None)
    out = station_backup.backup(app, tmp_path / "east.kgbackup")
    with zipfile.ZipFile(out["path"]) as archive:
        names = set(archive.namelist())
    assert {"manifest.json", "station.sqlite"} <= names
    assert {f"keys/{p.name}" for p in (Path(app.config["DATA_DIR"]) / "keys").iterdir()} <= names
    assert out["format"] == station_backup.FORMAT and out["head"]["row_seq"] >= 1

    # A new machine: an empty folder gets the database and the keys, and reads the ID numbers.
    fresh = _station(tmp_path / "new")
    for path in (tmp_path / "new" / "keys").iterdir():
        path.unlink()  # nothing there yet but what the backup brings
    done = station_backup.restore(fresh, out["path"])
    assert "keys/id_hash.key" in done["written"] and done["behind_hub"] is False
    with fresh.app_context(), db.database.connection_context():
        copy = Worker.get_by_id(worker.id)
        assert decrypt_id(copy.id_cipher) == data["id_number"]


def test_restore_keeps_newer_receipts_and_keys_and_goes_on_serving(tmp_path: Path) -> None:
    app = _station(tmp_path / "east")
    with _at(app):
        _log(3)
    old = station_backup.backup(app, tmp_path / "old.kgbackup")["path"]
    with _at(app):
        _log(4, 3)
        head_hash = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first().entry_hash
        state.save_enrolment(
            state.Enrolment("http://hub", "station-local", "", "hub", "00" * 32, "", "k")
        )
        state.save_acked(sp.Receipt("station-local", 1, 7, head_hash, "hub", 9, 1), (0, 0))
    key_file = Path(app.config["DATA_DIR"]) / "keys" / "id_hash.key"
    newer_key = key_file.read_bytes()

    done = station_backup.restore(app, old)
    assert (done["head_seq"], done["receipt_seq"], done["behind_hub"], done["pending"]) == (
        3,
        7,
        True,
        0,
    )
    assert key_file.read_bytes() == newer_key and done["written"] == []
    with _at(app):
        assert state.acked().receipt.seq == 7  # type: ignore[union-attr]
        _log(2, 100)  # registration goes on; the two wait for the hub's epoch reset
        assert ChangeEntry.select().count() == 5
        assert client.pending_count() == 2
        mark = state.restore_mark()
        assert mark is not None and (mark["seq"], mark["reason"]) == (3, "behind_receipt")


def test_a_damaged_or_foreign_backup_changes_nothing(tmp_path: Path) -> None:
    app = _station(tmp_path / "east")
    with _at(app):
        _log(3)
    good = Path(station_backup.backup(app, tmp_path / "good.kgbackup")["path"])
    bad = tmp_path / "bad.kgbackup"
    bad.write_bytes(good.read_bytes()[:200])
    other = tmp_path / "other.kgbackup"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("manifest.json", '{"format": "something-else"}')
        archive.writestr("station.sqlite", b"")
    with _at(app):
        _log(2, 3)
    for path in (bad, other):
        with pytest.raises(SyncError) as caught:
            station_backup.restore(app, path)
        assert caught.value.code == "bad_backup" and caught.value.message_zh
        with _at(app):
            assert ChangeEntry.select().count() == 5


def test_cli_backup_and_restore(tmp_path: Path) -> None:
    from kuaigong.cli import main

    app = _station(tmp_path / "east")
    with _at(app):
        _log(3)
    data = app.config["DATA_DIR"]
    runner = CliRunner()
    made = runner.invoke(
        main, ["station", "backup", "--data", data, str(tmp_path / "cli.kgbackup")]
    )
    assert made.exit_code == 0, made.output
    assert "backed up station" in made.output
    put_back = runner.invoke(
        main, ["station", "restore", "--data", data, str(tmp_path / "cli.kgbackup")]
    )
    assert put_back.exit_code == 0, put_back.output
    (tmp_path / "junk").write_bytes(b"junk")
    refused = runner.invoke(main, ["station", "restore", "--data", data, str(tmp_path / "junk")])
    assert refused.exit_code == 2 and "bad_backup" in refused.output
