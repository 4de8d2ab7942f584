"""Run every benchmark module in bench/ (each writes its own section of docs/benchmarks.md)."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def main() -> None:
    names = sys.argv[1:] or [
        m.name
        for m in pkgutil.iter_modules([str(Path(__file__).parent)])
        if m.name not in {"report", "__main__"} and not m.name.startswith("_")
    ]
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        module.main()


if __name__ == "__main__":
    main()
