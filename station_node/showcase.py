"""`kuaigong demo`: a hub and three stations on loopback with sample data, each its own process."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click
import requests

STATIONS = [
    ("east-lake", "东湖街道零工驿站"),
    ("west-bridge", "西桥社区零工驿站"),
    ("north-village", "北岭村零工驿站"),
]


@dataclass
class _Process:
    name: str
    url: str
    proc: subprocess.Popen[bytes]


def _kuaigong(*args: str) -> list[str]:
    return [sys.executable, "-m", "station_node.cli", *args]


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException(f"{url} exited with code {proc.returncode}")
        try:
            if requests.get(url, timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise click.ClickException(f"{url} did not answer within {seconds:.0f} s")


@click.command("demo")
@click.option("--data", default="demo-data", show_default=True, help="Folder for all demo data.")
@click.option("--base-port", default=8080, show_default=True, type=int)
@click.option("--fresh/--keep", default=False, help="Start from empty data folders.")
def demo(data: str, base_port: int, fresh: bool) -> None:
    """Start a hub and three stations with sample data, then print their URLs."""
    root = Path(data).resolve()
    if fresh and root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    running: list[_Process] = []
    try:
        for index, (slug, name) in enumerate(STATIONS, start=1):
            folder = str(root / slug)
            station_env = {**env, "KUAIGONG_STATION_STATION_ID": slug, "KUAIGONG_STATION_STATION_NAME": name}
            subprocess.run(_kuaigong("station", "init", "--data", folder), check=True, env=station_env)
            subprocess.run(_kuaigong("station", "seed-demo", "--data", folder), check=True, env=station_env)
            port = base_port + index
            log = open(root / f"{slug}.log", "ab")  # noqa: SIM115 — kept open for the child's life
            proc = subprocess.Popen(
                _kuaigong("station", "run", "--data", folder, "--host", "127.0.0.1", "--port", str(port)),
                env=station_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            running.append(_Process(name, f"http://127.0.0.1:{port}/", proc))
        for p in running:
            _wait_healthy(p.url + "api/v1/healthz", p.proc)
        click.echo("\nKuaigong demo is running (Ctrl-C stops it):")
        for p in running:
            click.echo(f"  {p.name}: {p.url}  (kiosk {p.url}kiosk, board {p.url}board)")
        click.echo("  staff login: admin / kuaigong")
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
