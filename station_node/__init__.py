"""The station node: a Flask app on a local SQLite database that works with no internet."""

from __future__ import annotations

from typing import Any

from flask import Flask

from kuaigong.config import load as load_config
from station_node import db


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the station app: defaults → instance config.py → KUAIGONG_STATION_* env →
    test_config."""
    app = Flask(__name__, instance_relative_config=True)
    load_config(app, "station_node.config", "KUAIGONG_STATION", test_config)

    db.init_app(app)
    _register_views(app)
    return app


def _register_views(app: Flask) -> None:
    # App factory: the views import this package, so they load once create_app runs.
    from station_node.views import register

    register(app)
