"""How both apps read their settings: the app's defaults module, then the data folder's
config.py, then `<PREFIX>_*` environment variables, then what a test passes in."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask


def load(app: Flask, defaults: str, prefix: str, overrides: dict[str, Any] | None) -> None:
    """Fill `app.config` in that order; the data folder (DATA_DIR) becomes the instance path.

    Forms are small on both apps: their limits stay well below the body limit
    (MAX_CONTENT_LENGTH), which pushes and bundles need.
    """
    app.config.from_object(defaults)
    app.config.update(MAX_FORM_MEMORY_SIZE=64 * 1024, MAX_FORM_PARTS=200)
    data_dir = (overrides or {}).get("DATA_DIR") or os.environ.get(f"{prefix}_DATA_DIR")
    if data_dir:
        app.config["DATA_DIR"] = data_dir
    app.instance_path = str(Path(app.config["DATA_DIR"]).resolve())
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env(prefix)
    if overrides:
        app.config.update(overrides)
    app.config["DATA_DIR"] = app.instance_path
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))


def secret_key(data_dir: Path) -> str:
    """The session-signing key, made once and kept in the data folder (mode 600).

    Every process serving one database must share this folder or set `<PREFIX>_SECRET_KEY`.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
