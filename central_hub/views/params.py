"""Query and form values the hub's pages share, read once and checked the same way."""

from __future__ import annotations

from typing import Any

from flask import request

from kuaigong import clock
from kuaigong.errors import FieldErrors


def year(raw: Any = None) -> int:
    """The `year` asked for (query or form), this year when none; 422 naming the field when it
    is not a whole number 2000–2100."""
    raw = request.values.get("year") if raw is None else raw
    if raw in (None, ""):
        return clock.now().year
    try:
        value = int(str(raw))
    except ValueError:
        value = 0
    if not 2000 <= value <= 2100:
        errs = FieldErrors()
        errs.add(
            "year",
            "invalid",
            "年份须为 2000–2100 之间的整数",
            "Year must be a whole number 2000–2100",
        )
        errs.raise_if_any()
    return value
