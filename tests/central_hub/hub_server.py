"""Serve a hub in a process of its own for crash tests: `hub_server.py CONFIG_JSON`.

Migrates, prints ``port N`` once listening on 127.0.0.1 (a free port), then serves until killed.
"""

from __future__ import annotations

import json
import sys

import waitress


def main() -> None:
    """Migrate, then serve the hub."""
    from central_hub import create_app, db, keys

    config = json.loads(sys.argv[1])
    app = create_app(config)
    db.migrate(config.get("DATABASE_SCHEMA", ""))
    keys.ensure_keys(app)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    print(f"port {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
