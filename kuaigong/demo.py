"""`kuaigong demo`: a hub and three stations on loopback with sample data, each its own process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

STATIONS = [
    ("tuanjiehu", "团结湖街道零工驿站", "团结湖社区"),
    ("maizidian", "麦子店街道零工驿站", "麦子店社区"),
    ("liulitun", "六里屯街道零工驿站", "六里屯社区"),
]


@dataclass
class _Process:
    name: str
    url: str
    proc: subprocess.Popen[bytes]


def _kuaigong(*args: str) -> list[str]:
    return [sys.executable, "-m", "kuaigong", *args]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(f"{url} exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass  # not listening yet
        time.sleep(0.3)
    raise click.ClickException(f"{url} did not answer within {seconds:.0f} s")


def _hub_setup(folder: Path, env: dict[str, str]) -> list[str]:
    """Initialise the hub with an admin and one enrolment code per demo station."""
    subprocess.run(
        _kuaigong("hub", "init", "--data", str(folder)),
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        _kuaigong(
            "hub",
            "create-admin",
            "--data",
            str(folder),
            "admin",
            "--name",
            "市级管理员",
            "--password",
            "kuaigong",
        ),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    codes = []
    for _, name, community in STATIONS:
        out = subprocess.run(
            _kuaigong(
                "hub",
                "add-station",
                "--data",
                str(folder),
                "--name",
                name,
                "--district",
                "朝阳区",
                "--community",
                community,
            ),
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout.split()
        codes.append(out[out.index("code") + 1])
    return codes


def _start(name: str, url: str, args: list[str], env: dict[str, str], log: Path) -> _Process:
    with open(log, "ab") as out:
        proc = subprocess.Popen(_kuaigong(*args), env=env, stdout=out, stderr=subprocess.STDOUT)
    return _Process(name, url, proc)


@click.command("demo")
@click.option("--data", default="demo-data", show_default=True, help="Folder for all demo data.")
@click.option(
    "--base-port",
    default=8080,
    show_default=True,
    type=int,
    help="The hub listens here, the stations on the next ports.",
)
@click.option(
    "--fresh/--keep",
    default=True,
    show_default=True,
    help="Start from empty data folders, or keep the last run's data.",
)
def demo(data: str, base_port: int, fresh: bool) -> None:
    """Start a hub and three stations on loopback with sample data, syncing; print their URLs."""
    root = Path(data).resolve()
    if fresh and root.exists():
        shutil.rmtree(root)
    first_run = not (root / "hub").exists()
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    hub_url = f"http://127.0.0.1:{base_port}/"
    running: list[_Process] = []
    try:
        codes = _hub_setup(root / "hub", env) if first_run else []
        running.append(
            _start(
                "市级枢纽 hub",
                hub_url,
                ["hub", "run", "--data", str(root / "hub"), "--port", str(base_port)],
                env,
                root / "hub.log",
            )
        )
        _wait_healthy(hub_url + "api/v1/healthz", running[0].proc)
        for index, (slug, name, _community) in enumerate(STATIONS, start=1):
            folder = str(root / slug)
            station_env = {
                **env,
                "KUAIGONG_STATION_STATION_ID": slug,
                "KUAIGONG_STATION_STATION_NAME": name,
            }
            if first_run:
                for args in (["init"], ["enroll", hub_url, codes[index - 1]], ["seed-demo"]):
                    subprocess.run(
                        _kuaigong("station", args[0], "--data", folder, *args[1:]),
                        check=True,
                        env=station_env,
                        stdout=subprocess.DEVNULL,
                    )
            port = base_port + index
            running.append(
                _start(
                    name,
                    f"http://127.0.0.1:{port}/",
                    [
                        "station",
                        "run",
                        "--data",
                        folder,
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                    ],
                    station_env,
                    root / f"{slug}.log",
                )
            )
        for p in running[1:]:
            _wait_healthy(p.url + "api/v1/healthz", p.proc)
        click.echo("\nKuaigong demo is running (Ctrl-C stops it):")
        click.echo(f"  {running[0].name}: {hub_url}  (login admin / kuaigong)")
        for p in running[1:]:
            click.echo(f"  {p.name}: {p.url}console/  kiosk {p.url}kiosk/  board {p.url}board/")
        click.echo("  station staff login: admin / kuaigong")
        click.echo(f"  logs: {root}/*.log")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        while all(p.proc.poll() is None for p in running):
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        for p in running:
            p.proc.terminate()
        for p in running:
            try:
                p.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.proc.kill()
