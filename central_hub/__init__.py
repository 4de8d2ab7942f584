"""The central hub: enrols stations, takes their signed change logs, reconciles, reports."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from central_hub import db


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the hub app: defaults → instance config.py → KUAIGONG_HUB_* env → test_config."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object("central_hub.config")
    # Admin forms are small: limits well below the push body limit (config.MAX_CONTENT_LENGTH).
    app.config.update(MAX_FORM_MEMORY_SIZE=64 * 1024, MAX_FORM_PARTS=200)
    data_dir = (test_config or {}).get("DATA_DIR") or os.environ.get("KUAIGONG_HUB_DATA_DIR")
    if data_dir:
        app.config["DATA_DIR"] = data_dir
    app.instance_path = str(Path(app.config["DATA_DIR"]).resolve())
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("KUAIGONG_HUB")
    if test_config:
        app.config.update(test_config)
    app.config["DATA_DIR"] = app.instance_path
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(Path(app.instance_path))

    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.init_app(app)
    _init_extensions(app)
    _register_views(app)
    return app


def _secret_key(data_dir: Path) -> str:
    """The session-signing key, made once per hub and kept in the data folder.

    Every hub process sharing one database must share this folder (or set KUAIGONG_HUB_SECRET_KEY).
    """
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _init_extensions(app: Flask) -> None:
    from central_hub import i18n
    from central_hub.views.auth import csrf

    i18n.init_app(app)
    csrf.init_app(app)


def _register_views(app: Flask) -> None:
    from central_hub.views import register

    register(app)
