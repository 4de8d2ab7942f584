"""Times in change-log fields become naive UTC at the hub; anything else is no time at all."""

from __future__ import annotations

import datetime as dt

import pytest

from central_hub.services.merge import parse_time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-01T08:00:00Z", dt.datetime(2026, 5, 1, 8, 0)),
        ("2026-05-01T08:00:00.250Z", dt.datetime(2026, 5, 1, 8, 0, 0, 250000)),
        ("2026-05-01T08:00:00+08:00", dt.datetime(2026, 5, 1, 0, 0)),
        ("2026-05-01T08:00:00", dt.datetime(2026, 5, 1, 8, 0)),
        ("2026-13-01T08:00:00Z", None),
        ("2026-05-01T08:00:00+00:00Z", None),
        ("Z", None),
        ("", None),
        (20260501, None),
        (None, None),
    ],
)
def test_change_log_times_read_as_naive_utc(text: object, expected: dt.datetime | None) -> None:
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is None
