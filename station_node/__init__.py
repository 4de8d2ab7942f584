"""The station node: a Flask app on a local SQLite database that works with no internet."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from station_node import db


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the station app: defaults → instance config.py → KUAIGONG_STATION_* env → test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object("station_node.config")
    # Form limits below the body limit (config.MAX_CONTENT_LENGTH): no desk form needs more.
    app.config.update(MAX_FORM_MEMORY_SIZE=64 * 1024, MAX_FORM_PARTS=200)
    data_dir = (test_config or {}).get("DATA_DIR") or os.environ.get("KUAIGONG_STATION_DATA_DIR")
    if data_dir:
        app.config["DATA_DIR"] = data_dir
    app.instance_path = str(Path(app.config["DATA_DIR"]).resolve())
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KUAIGONG_STATION")
    if test_config:
        app.config.update(test_config)
    app.config["DATA_DIR"] = app.instance_path
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))

    db.init_app(app)
    _register_views(app)
    return app


def _secret_key(data_dir: Path) -> str:
    """The session-signing key, made once per station and kept beside the database."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _register_views(app: Flask) -> None:
    from station_node.views import register

    register(app)
