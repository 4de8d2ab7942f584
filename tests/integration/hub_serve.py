"""Serve a hub for the tests in a process of its own: `hub_serve.py CONFIG_JSON PORT`.

Prints ``port N`` once listening (PORT 0 picks a free one), then serves until killed. With
KUAIGONG_TEST_DIE_ON_APPLY=N the process SIGKILLs itself inside the Nth push's transaction,
right after the entries were written and before the commit — a crash in the middle of apply.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import waitress


def main() -> None:
    """Migrate, then serve the hub on 127.0.0.1."""
    from central_hub import create_app, db, keys

    die_on = int(os.environ.get("KUAIGONG_TEST_DIE_ON_APPLY", "0"))
    if die_on:
        from central_hub.services import merge

        original, calls = merge.apply_entries, [0]

        def apply_then_die(*args: object, **kwargs: object) -> int:
            applied = original(*args, **kwargs)  # type: ignore[arg-type]
            calls[0] += 1
            if calls[0] == die_on:
                os.kill(os.getpid(), signal.SIGKILL)
            return applied

        merge.apply_entries = apply_then_die  # type: ignore[assignment]

    config = json.loads(sys.argv[1])
    app = create_app(config)
    db.migrate(config.get("DATABASE_SCHEMA", ""))
    keys.ensure_keys(app)
    server = waitress.create_server(app, host="127.0.0.1", port=int(sys.argv[2]), threads=4)
    print(f"port {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
