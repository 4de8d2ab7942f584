"""Fixtures of the end-to-end sync tests: a real hub server and station apps, cleaned up."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "support"))  # pg_helpers

from integration_helpers import Hub, Station  # noqa: E402


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    """A hub served on 127.0.0.1:<free port>, on SQLite and again on PostgreSQL."""
    server = Hub(tmp_path, request.param)
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    """A hub on SQLite only (cases whose logic does not depend on the engine)."""
    server = Hub(tmp_path, "sqlite")
    try:
        yield server.start()
    finally:
        server.close()


@pytest.fixture
def make_station(tmp_path: Path) -> Iterator[Callable[..., Station]]:
    """Build station apps on their own folders."""
    made: list[Station] = []

    def build(name: str, **config: Any) -> Station:
        made.append(Station(tmp_path, name, **config))
        return made[-1]

    yield build
    for st in made:
        st.close()


@pytest.fixture
def enrolled(make_station: Callable[..., Station]) -> Callable[..., Station]:
    """A station enrolled with the given hub."""

    def build(hub: Any, name: str, **config: Any) -> Station:
        st = make_station(name, **config)
        _, code = hub.new_code(name)
        st.enroll(hub, code)
        return st

    return build
