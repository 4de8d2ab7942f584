"""Helpers of the hub tests: apps on real SQLite files or PostgreSQL schemas, signing in."""

from __future__ import annotations

import os
import re
import secrets
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from central_hub import create_app, db
from central_hub.services import admins

PG_URL = os.environ.get("KUAIGONG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "kuaigong-admin-1"


def _pg_reachable() -> str | None:
    try:
        import psycopg2

        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:  # any failure to reach the server
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


_PG_PROBLEM: list[str | None] = []


def pg_or_skip() -> None:
    """Skip (or, under CI, fail) when the PostgreSQL server cannot be reached."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(_pg_reachable())
    if _PG_PROBLEM[0]:
        message = f"PostgreSQL at {PG_URL} unreachable: {_PG_PROBLEM[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def drop_schema(schema: str) -> None:
    """Remove a test schema and everything in it."""
    import psycopg2

    conn = psycopg2.connect(PG_URL)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    conn.close()


def make_app(tmp_path: Any, engine: str, **extra: Any) -> tuple[Flask, str]:
    """A migrated hub app on `engine` ('sqlite' or 'postgres'); returns it and its PG schema."""
    schema = ""
    config: dict[str, Any] = {"DATA_DIR": str(tmp_path / "hub"), "TESTING": True, **extra}
    if engine == "postgres":
        pg_or_skip()
        schema = f"hubtest_{os.getpid()}_{secrets.token_hex(4)}"
        config.update(DATABASE_URL=PG_URL, DATABASE_SCHEMA=schema)
    app = create_app(config)
    db.migrate(schema)
    return app, schema


def add_admin(app: Flask, username: str = "chen", role: str = "admin") -> None:
    """Create an admin account directly through the service."""
    with app.app_context(), db.database.connection_context():
        admins.create_admin(username, username, role, PASSWORD)


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token from a page's form."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="csrf_token" value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, username: str = "chen") -> None:
    """Sign in through the real form (with its CSRF token)."""
    token = csrf_token(client)
    response = client.post("/login", data={"username": username, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)


def post_form(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    """POST a form the way the browser does, with a CSRF token from the stations page."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, "/")})
