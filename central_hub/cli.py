"""`kuaigong hub ...`: set up, run and feed the central hub."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import waitress
from flask import Flask

from central_hub import create_app, db, keys
from central_hub.services import admins, bundles, stations
from central_hub.states import Role
from kuaigong.errors import KuaigongError

DEFAULT_DATA = "hub-data"

data_option = click.option(
    "--data",
    default=DEFAULT_DATA,
    show_default=True,
    envvar="KUAIGONG_HUB_DATA_DIR",
    help="Folder holding the hub's keys, config and (by default) its SQLite database.",
)


def _app(data: str) -> Flask:
    app = create_app({"DATA_DIR": str(Path(data).resolve())})
    db.migrate(app.config.get("DATABASE_SCHEMA", ""))
    return app


@click.group()
def hub() -> None:
    """Run and manage the city hub (市级枢纽)."""


@hub.command("init")
@data_option
def init_command(data: str) -> None:
    """Create the data folder, the database tables and the hub's keys."""
    app = _app(data)
    keys.ensure_keys(app)
    with app.app_context():
        click.echo(f"hub data in {app.config['DATA_DIR']}; database {db.database_url(app.config)}")
        click.echo(f"hub public key {keys.hub_public_key()}")


@hub.command("create-admin")
@data_option
@click.argument("username")
@click.option("--name", "display_name", default=None, help="Name shown on the pages.")
@click.option(
    "--role",
    type=click.Choice([r.value for r in Role]),
    default=Role.ADMIN.value,
    show_default=True,
)
@click.option("--password", default=None, help="Password (prompted when omitted).")
def create_admin_command(
    data: str, username: str, display_name: str | None, role: str, password: str | None
) -> None:
    """Create a hub admin (or a read-only auditor)."""
    app = _app(data)
    if password is None:
        password = click.prompt("password", hide_input=True, confirmation_prompt=True)
    with app.app_context(), db.database.connection_context():
        try:
            admin = admins.create_admin(username, display_name or username, role, password)
        except KuaigongError as exc:
            click.echo(f"错误 error: {exc.message('zh')} / {exc.message_en}", err=True)
            sys.exit(2)
    click.echo(f"created {admin.role} {admin.username}")


@hub.command("add-station")
@data_option
@click.option("--name", required=True, help="Station name, e.g. 东湖街道零工驿站.")
@click.option("--district", required=True, help="District (区县).")
@click.option("--community", required=True, help="Community (社区).")
def add_station_command(data: str, name: str, district: str, community: str) -> None:
    """Create a station and print its id and one-time enrolment code."""
    app = _app(data)
    with app.app_context(), db.database.connection_context():
        try:
            issued = stations.create_station(
                {"name": name, "district": district, "community": community}, None
            )
        except KuaigongError as exc:
            click.echo(f"错误 error: {exc.message('zh')} / {exc.message_en}", err=True)
            sys.exit(2)
    click.echo(
        f"station {issued.station.id} code {issued.code} "
        f"expires {issued.expires_at:%Y-%m-%d %H:%M} UTC"
    )


@hub.command("import-bundle")
@data_option
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def import_bundle_command(data: str, path: str) -> None:
    """Apply a station's bundle file (USB stick); importing it twice changes nothing."""
    app = _app(data)
    with app.app_context(), db.database.connection_context():
        try:
            result = bundles.import_bundle(Path(path).read_bytes())
        except KuaigongError as exc:
            click.echo(f"错误 error: {exc.message('zh')} / {exc.message_en}", err=True)
            sys.exit(2)
    click.echo(f"station {result['station']}: {result['summary']}")
    for error in result.get("errors") or []:
        click.echo(
            f"错误 error [{error.get('code')}]: {error.get('message')} / "
            f"{error.get('message_en', '')}",
            err=True,
        )
    if result.get("errors"):
        sys.exit(2)  # something in the bundle was refused


@hub.command("export-bundle")
@data_option
@click.argument("station_id")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option(
    "--after", default=0, show_default=True, type=int, help="Hub-log seq the station already holds."
)
def export_bundle_command(data: str, station_id: str, path: str, after: int) -> None:
    """Write the hub log (and the station's latest receipt) to a bundle file for the station."""
    app = _app(data)
    with app.app_context(), db.database.connection_context():
        try:
            blob, count = bundles.export_bundle(station_id, after)
        except KuaigongError as exc:
            click.echo(f"错误 error: {exc.message('zh')} / {exc.message_en}", err=True)
            sys.exit(2)
    Path(path).write_bytes(blob)
    click.echo(f"wrote {count} hub-log entries for {station_id} to {path}")


@hub.command("run")
@data_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8090, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int)
def run_command(data: str, host: str, port: int, threads: int) -> None:
    """Serve the hub (admin pages and station API) with waitress."""
    app = _app(data)
    keys.ensure_keys(app)
    click.echo(f"hub serving on http://{host}:{port}/ (data: {app.config['DATA_DIR']})", err=False)
    sys.stdout.flush()
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="kuaigong-hub",
        max_request_body_size=app.config["MAX_CONTENT_LENGTH"],
    )
