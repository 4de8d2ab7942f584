"""The hub stands alone: it never imports the station's code."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_module_of_the_hub_imports_station_node() -> None:
    offenders = []
    for path in (ROOT / "central_hub").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.name}: {n}" for n in names if n.split(".")[0] in {"station_node", "devices"}
            ]
    assert offenders == []


def test_loading_the_whole_hub_loads_no_station_module() -> None:
    code = (
        "import sys, central_hub, central_hub.cli, central_hub.views, central_hub.services.ingest;"
        "from central_hub import create_app;"
        "print(sorted(m for m in sys.modules if m.startswith(('station_node', 'devices'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.strip() == "[]"
