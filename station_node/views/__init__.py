"""The station's blueprints: staff console, kiosk, display board and JSON API."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Attach every blueprint and the shared error handlers to the app."""
    from station_node.views import api

    app.register_blueprint(api.bp)
