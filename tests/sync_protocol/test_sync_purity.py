"""Importing sync_protocol must not load flask, peewee or socket (checked in a new interpreter)."""

from __future__ import annotations

import subprocess
import sys


def test_import_loads_no_io_modules() -> None:
    code = (
        "import sys, sync_protocol\n"
        "io = ('flask', 'peewee', 'socket', 'requests', 'sqlite3')\n"
        "bad = sorted(m for m in io if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "", f"sync_protocol pulled in: {out.stdout.strip()}"
