"""The packages depend only in the directions ARCHITECTURE.md allows."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "station_node": {"central_hub"},
    "central_hub": {"station_node", "devices"},
    "sync_protocol": {"station_node", "central_hub", "devices", "flask", "peewee", "requests"},
    "devices": {"station_node", "central_hub", "flask", "peewee"},
    # What both apps share: stdlib, flask, peewee, click only; never either app.
    "kuaigong": {"station_node", "central_hub", "sync_protocol", "devices", "requests"},
}
# `kuaigong demo` is the product's launcher, not kernel: it starts the hub and the stations as
# processes (never importing them), talks to them over HTTP and runs the devices' simulators.
LAUNCHER = {"kuaigong/demo.py", "kuaigong/demo_devices.py"}
LAUNCHER_MAY = {"requests", "devices"}


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_it_may(package: str) -> None:
    offending = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = _imported_roots(path) & FORBIDDEN[package]
        if str(path.relative_to(ROOT)) in LAUNCHER:
            bad -= LAUNCHER_MAY
        if bad:
            offending.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offending, "\n".join(offending)


def test_the_shared_package_loads_neither_app() -> None:
    """Importing every kuaigong module leaves station_node and central_hub unloaded."""
    modules = sorted(
        p.stem
        for p in (ROOT / "kuaigong").glob("*.py")
        if not p.stem.startswith("__") and f"kuaigong/{p.name}" not in LAUNCHER
    )
    assert {"characters", "clock", "jsonbody", "signin_policy"} <= set(modules)
    code = (
        "import sys\n"
        + "".join(f"import kuaigong.{m}\n" for m in modules)
        + "print(sorted({n.split('.')[0] for n in sys.modules} & "
        "{'station_node', 'central_hub', 'sync_protocol', 'devices'}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert run.stdout.strip() == "[]"


def test_the_launcher_starts_the_apps_without_importing_them() -> None:
    """`kuaigong demo` runs the hub and stations as processes: importing it loads neither."""
    code = (
        "import sys\nimport kuaigong.demo, kuaigong.demo_devices\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'station_node', 'central_hub'}))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert run.stdout.strip() == "[]"
