"""`kuaigong station …`: set up, run, enrol and sync a station (the group `kuaigong.cli` finds)."""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import waitress
from flask import Flask

from devices.discovery import DiscoveryError, StationAdvertiser, lan_addresses
from kuaigong.errors import KuaigongError
from station_node import create_app, db
from station_node.identity import ensure_keys
from station_node.sample_data import seed
from station_node.scheduler import start_scheduler
from station_node.services import devices as devices_service
from station_node.services import staff as staff_service
from station_node.services.registration import normalise_stored_id_numbers
from station_node.sync.backup import backup, restore
from station_node.sync.bundles import export_bundle, import_bundle
from station_node.sync.client import sync_once
from station_node.sync.enrolment import enroll
from station_node.sync.jobs import check_on_start

DEFAULT_DATA = "station-data"
T = TypeVar("T")


def _app(data: str, **config: object) -> Flask:
    return create_app({"DATA_DIR": str(Path(data).resolve()), **config})


data_option = click.option(
    "--data",
    default=DEFAULT_DATA,
    show_default=True,
    envvar="KUAIGONG_STATION_DATA_DIR",
    help="Folder holding the station's database, keys and config.",
)


@click.group()
def station() -> None:
    """Run and manage a station (零工驿站)."""


@station.command("init")
@data_option
def init_command(data: str) -> None:
    """Create the data folder, the database tables and the station's keys."""

    app = _app(data)
    applied = db.migrate()
    ensure_keys(app)
    click.echo(f"station data in {app.config['DATA_DIR']}; migrations applied: {applied or 'none'}")


@station.command("create-staff")
@data_option
@click.argument("username")
@click.option("--name", "display_name", default=None, help="Name shown on the console.")
@click.option("--role", type=click.Choice(["staff", "admin"]), default="staff", show_default=True)
@click.option("--password", default=None, help="Console password (prompted when omitted).")
def create_staff_command(
    data: str, username: str, display_name: str | None, role: str, password: str | None
) -> None:
    """Create a staff account and print its API token."""

    app = _app(data)
    db.migrate()
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with app.app_context(), db.database.connection_context():
        try:
            _, token = staff_service.create_staff(
                username=username,
                display_name=display_name or username,
                role=role,
                password=password,
            )
        except KuaigongError as exc:
            click.echo(f"error: {exc.message('zh')}", err=True)
            sys.exit(2)
    click.echo(token)


@station.command("seed-demo")
@data_option
def seed_demo_command(data: str) -> None:
    """Fill the station with sample workers, employers and jobs."""

    app = _app(data)
    db.migrate()
    with app.app_context(), db.database.connection_context():
        summary = seed(app)
    for line in summary:
        click.echo(line)


@station.command("run")
@data_option
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--threads",
    default=64,
    show_default=True,
    type=int,
    help="Requests served at once; each open live page (kiosk, board, phone) holds one.",
)
@click.option(
    "--advertise/--no-advertise",
    default=None,
    help="Announce the station on the LAN for devices to find (default: the ADVERTISE setting).",
)
def run_command(data: str, host: str, port: int, threads: int, advertise: bool | None) -> None:
    """Serve the station (console, kiosk, board, API) with waitress."""

    app = _app(data)
    db.migrate()
    ensure_keys(app)
    start = check_on_start(app)
    if start.get("enrolled") and not start.get("may_append"):
        click.echo(
            "警告 warning: 本站数据库落后于中心回执（可能从旧备份恢复）：照常登记，"
            "新数据待中心签发新纪元后上传 / "
            "the database is behind the hub's receipt (restored?): serving as usual; "
            "new entries wait for the hub's epoch reset",
            err=True,
        )
    if start.get("altered"):
        click.echo(
            f"警告 warning: 第 {start['altered']} 条变更记录被改动过 / "
            f"entry {start['altered']} was altered",
            err=True,
        )
    app.config["SERVING_URL"] = serving_url(host, port)
    scheduler = start_scheduler(app)
    advertiser = None
    if app.config["ADVERTISE"] if advertise is None else advertise:
        advertiser = _advertise(app, host, port)
    if threading.current_thread() is threading.main_thread():
        # A service manager stops the station with SIGTERM: unwind, so the finally below runs
        # and devices hear the station leave instead of waiting for its records to expire.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(f"station serving on http://{host}:{port}/ (data: {app.config['DATA_DIR']})")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="kuaigong-station")
    finally:
        if advertiser is not None:
            advertiser.stop()
        scheduler.shutdown(wait=False)


def serving_url(host: str, port: int) -> str:
    """Where this station can be reached: the address it serves on, or when it serves on every
    interface, its first LAN address (what QR codes carry when PUBLIC_URL is not set)."""
    if host in ("0.0.0.0", "", "::"):
        found = lan_addresses()
        host = found[0] if found else "127.0.0.1"
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def _advertise(app: Flask, host: str, port: int) -> StationAdvertiser | None:
    """Announce the station over mDNS; serving goes on without it if that fails."""
    with app.app_context():
        station = devices_service.station_identity(app)
    # Serving on every interface: announce them all (and follow DHCP changes); else only the one.
    addresses = None if host in ("0.0.0.0", "") else [host]
    try:
        advertiser = StationAdvertiser(
            station.station_id, station.name, port, station.fingerprint, addresses=addresses
        )
        advertiser.start()
    except (DiscoveryError, OSError) as exc:
        click.echo(
            f"警告 warning: 无法在局域网上广播本站 / cannot announce the station: {exc}", err=True
        )
        return None
    click.echo(
        f"announcing station {station.station_id} on the LAN as {advertiser.instance_name} "
        f"(key fingerprint {station.fingerprint})"
    )
    return advertiser


def _sync_step(data: str, step: Callable[[Flask], T]) -> T:
    """Open the station in DATA (migrated) and run one sync step; a refusal exits 2 with its
    reason."""

    app = _app(data)
    db.migrate()
    try:
        return step(app)
    except KuaigongError as exc:
        click.echo(f"错误 error [{exc.code}]: {exc.message_zh} / {exc.message_en}", err=True)
        sys.exit(2)


@station.command("enroll")
@data_option
@click.argument("hub_url")
@click.argument("code")
def enroll_command(data: str, hub_url: str, code: str) -> None:
    """Enrol with the hub: make the station key, register it with CODE, pin the hub's keys."""

    def _enroll(app: Flask) -> dict[str, Any]:
        ensure_keys(app)
        return enroll(app, hub_url, code)

    answer = _sync_step(data, _enroll)
    verb = "rotated key of" if answer["rotated"] else "enrolled as"
    click.echo(
        f"{verb} station {answer['station_id']} ({answer.get('station_name', '')}) "
        f"with hub {answer['hub_id']}; key {answer['key_id']}; "
        f"ID hashes moved to the city key: {answer['rehashed']}"
    )


@station.command("sync")
@data_option
def sync_command(data: str) -> None:
    """Sync with the hub once, now: push unsent entries, pull the hub log."""

    out = _sync_step(data, sync_once)
    click.echo(
        f"pushed {out.pushed} entries in {out.batches} batches; hub holds up to "
        f"{out.accepted_seq}; pulled {out.pulled} hub-log entries (hub seq {out.hub_seq})"
        + (f"; writing paused: {out.blocked}" if out.blocked else "")
    )


@station.command("export-bundle")
@data_option
@click.argument("path", type=click.Path(dir_okay=False))
def export_bundle_command(data: str, path: str) -> None:
    """Write the entries the hub has not acknowledged to a bundle file (USB stick)."""

    out = _sync_step(data, lambda app: export_bundle(app, path))
    click.echo(
        f"wrote {out['entries']} entries ({out['first']}..{out['last']}) in "
        f"{out['batches']} signed batches to {path}"
    )


@station.command("import-bundle")
@data_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_bundle_command(data: str, path: str) -> None:
    """Apply a bundle from the hub (receipt and hub log); importing it twice changes nothing."""

    out = _sync_step(data, lambda app: import_bundle(app, path))
    click.echo(
        f"hub holds our log up to {out['accepted_seq']}; applied {out['hub_entries']} "
        f"hub-log entries (hub seq {out['hub_seq']})"
        + (f"; writing paused: {out['blocked']}" if out["blocked"] else "")
    )


@station.command("backup")
@data_option
@click.argument("path", type=click.Path(dir_okay=False))
def backup_command(data: str, path: str) -> None:
    """Back the station up to one file (safe while it runs): database, keys, enrolment, receipt."""

    out = _sync_step(data, lambda app: backup(app, path))
    click.echo(f"backed up station {out['station']} (log row {out['head']['row_seq']}) to {path}")


@station.command("restore")
@data_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def restore_command(data: str, path: str) -> None:
    """Restore the station from a backup file (stop the station first); nothing made later is
    lost."""

    out = _sync_step(data, lambda app: restore(app, path))
    click.echo(
        f"restored {path}: log head {out['epoch']}:{out['head_seq']}, the hub holds "
        f"{out['receipt_seq']}; files added: {', '.join(out['written']) or 'none'}"
    )
    if out["behind_hub"]:
        click.echo(
            "本站数据库比中心已收到的旧：照常登记；新登记的数据待中心签发新纪元后自动上传 / "
            "the database is older than what the hub holds: serve as usual; new entries reach "
            "the hub after its epoch reset"
        )


@station.command("normalise-ids")
@data_option
def normalise_ids_command(data: str) -> None:
    """Bring stored ID numbers typed full-width (before they were normalised) to one form."""

    app = _app(data)
    db.migrate()
    with app.app_context(), db.database.connection_context():
        done = normalise_stored_id_numbers()
    click.echo(f"ID numbers brought to one form: {len(done['changed'])}")
    for record in done["clashes"]:
        click.echo(f"same person registered twice, left for staff: {record}")
