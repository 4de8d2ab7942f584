"""The `kuaigong` command. Each part of the product adds its own group (station, hub, demo)
through the `kuaigong.commands` entry point, so no app's commands hang off another's module."""

from __future__ import annotations

from importlib.metadata import entry_points

import click


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
