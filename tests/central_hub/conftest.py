"""Hub apps on a real SQLite file or a real PostgreSQL schema of their own, cleaned up after."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

sys.path.insert(0, str(Path(__file__).parents[1] / "support"))  # pg_helpers

from hub_helpers import add_admin, login, make_app  # noqa: E402
from pg_helpers import drop_schema  # noqa: E402

from central_hub import db


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def app(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Flask]:
    """The hub on a SQLite file, and again on its own PostgreSQL schema."""
    hub, schema = make_app(tmp_path, request.param)
    try:
        yield hub
    finally:
        if not db.database.is_closed():
            db.database.close()
        if schema:
            drop_schema(schema)


@pytest.fixture
def sqlite_app(tmp_path: Any) -> Iterator[Flask]:
    """The hub on a SQLite file only (tests whose logic is engine-independent)."""
    hub, _ = make_app(tmp_path, "sqlite")
    yield hub
    if not db.database.is_closed():
        db.database.close()


@pytest.fixture
def admin_client(app: Flask) -> FlaskClient:
    """A test client signed in as an admin."""
    add_admin(app)
    client = app.test_client()
    login(client)
    return client
