"""The `kuaigong` command. Each app adds its own group through the `kuaigong.commands` entry point."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from pathlib import Path

import click
from flask import Flask

DEFAULT_DATA = "station-data"


class _KuaigongGroup(click.Group):
    """Finds the command groups the installed packages declare (station, hub, demo)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        declared = {ep.name for ep in entry_points(group="kuaigong.commands")}
        return sorted(set(super().list_commands(ctx)) | declared)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            return command
        for ep in entry_points(group="kuaigong.commands", name=cmd_name):
            loaded: click.Command = ep.load()
            return loaded
        return None


@click.group(cls=_KuaigongGroup)
def main() -> None:
    """Kuaigong (快工): gig-work stations and the city hub."""


def _app(data: str, **config: object) -> Flask:
    from station_node import create_app

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
    from station_node import db
    from station_node.identity import ensure_keys

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
    from station_node import db
    from station_node.errors import KuaigongError
    from station_node.services import staff as staff_service

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
    from station_node import db
    from station_node.demo import seed

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
@click.option("--threads", default=8, show_default=True, type=int)
def run_command(data: str, host: str, port: int, threads: int) -> None:
    """Serve the station (console, kiosk, board, API) with waitress."""
    import waitress

    from station_node import db
    from station_node.identity import ensure_keys
    from station_node.scheduler import start_scheduler

    app = _app(data)
    db.migrate()
    ensure_keys(app)
    scheduler = start_scheduler(app)
    click.echo(f"station serving on http://{host}:{port}/ (data: {app.config['DATA_DIR']})")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="kuaigong-station")
    finally:
        scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main()
