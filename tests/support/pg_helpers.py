"""The PostgreSQL the hub and end-to-end tests run against: where it is, skip (or fail under
CI) when it is not there, and dropping a test's own schema."""

from __future__ import annotations

import os

import pytest

PG_URL = os.environ.get("KUAIGONG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_PROBLEM: list[str | None] = []  # filled by the first check: None, or why it failed


def _reachable() -> str | None:
    try:
        import psycopg2

        psycopg2.connect(PG_URL, connect_timeout=3).close()
    except Exception as exc:  # any failure to reach the server
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def pg_or_skip() -> None:
    """Skip when PostgreSQL is unreachable — but fail under CI, where it must be there."""
    if not _PROBLEM:
        _PROBLEM.append(_reachable())
    if _PROBLEM[0]:
        message = f"PostgreSQL at {PG_URL} unreachable: {_PROBLEM[0]}"
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
