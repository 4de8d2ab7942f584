"""Shared setup for the device driver tests."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # Also belongs in setup.cfg's marker list; registered here so --strict-markers passes.
    config.addinivalue_line(
        "markers", "netns: builds Linux network namespaces (needs root and `ip`); -m 'not netns'"
    )
