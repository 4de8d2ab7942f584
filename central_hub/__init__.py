"""The central hub: enrols stations, takes their signed change logs, reconciles, reports."""

from __future__ import annotations

from typing import Any

from flask import Flask

from central_hub import db
from kuaigong.config import load as load_config


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the hub app: defaults → instance config.py → KUAIGONG_HUB_* env → test_config."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, "central_hub.config", "KUAIGONG_HUB", test_config)

    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    db.init_app(app)
    _init_extensions(app)
    _register_views(app)
    return app


def _init_extensions(app: Flask) -> None:
    # App-factory registration: `from central_hub import db` (CLI, migrations, tests) should
    # not load every view, model and service.
    from central_hub.views.auth import csrf
    from kuaigong import i18n

    i18n.init_app(app)
    csrf.init_app(app)


def _register_views(app: Flask) -> None:
    # App-factory registration, as above.
    from central_hub.views import register

    register(app)
