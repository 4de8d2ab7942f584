"""Serve a hub for the tests in a process of its own: `hub_serve.py CONFIG_JSON PORT`.

Prints ``port N`` once listening (PORT 0 picks a free one), then serves until killed.
"""

from __future__ import annotations

import json
import sys

import waitress


def main() -> None:
    """Migrate, then serve the hub on 127.0.0.1."""
    from central_hub import create_app, db, keys

    config = json.loads(sys.argv[1])
    app = create_app(config)
    db.migrate(config.get("DATABASE_SCHEMA", ""))
    keys.ensure_keys(app)
    server = waitress.create_server(app, host="127.0.0.1", port=int(sys.argv[2]), threads=4)
    print(f"port {server.effective_port}", flush=True)
    server.run()


if __name__ == "__main__":
    main()
