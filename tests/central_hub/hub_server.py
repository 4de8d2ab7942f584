"""Serve a hub in a process of its own for crash tests: `hub_server.py CONFIG_JSON`.

Migrates, prints ``port N`` once listening on 127.0.0.1 (a free port), then serves until killed.
With KUAIGONG_HUB_TEST_APPLY_DELAY=<seconds> every apply says so on stderr and waits inside the
push's transaction, after its entries are written and before the commit, so a test can kill the
process in the middle of an apply.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import waitress


def _hold_applies(delay: float) -> None:
    """Wrap the hub's apply step so that it pauses, announced on stderr, before the commit."""
    from central_hub.services import merge

    original = merge.apply_entries

    def apply_then_wait(*args: Any, **kwargs: Any) -> int:
        applied = original(*args, **kwargs)
        print("kuaigong-hub: applying (test delay)", file=sys.stderr, flush=True)
        time.sleep(delay)
        return applied

    merge.apply_entries = apply_then_wait


def main() -> None:
    """Migrate, then serve the hub."""
    from central_hub import create_app, db, keys

    delay = os.environ.get("KUAIGONG_HUB_TEST_APPLY_DELAY")
    if delay:
        _hold_applies(float(delay))
    config = json.loads(sys.argv[1])
    app = create_app(config)
    db.migrate(config.get("DATABASE_SCHEMA", ""))
    keys.ensure_keys(app)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    print(f"port {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
