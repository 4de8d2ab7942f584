"""What every hub template can use: local times, "3 分钟前", record states in plain words and
page links that keep the current search.

Times are stored as naive UTC; admins read them in the city's time zone (setting `TIME_ZONE`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, url_for
from markupsafe import Markup, escape

from central_hub import charts
from kuaigong import clock, words
from kuaigong.i18n import lang

# Record states as people say them (codes stay in the API and the tables).
STATE_WORDS: dict[str, tuple[str, str]] = {
    **words.RECORD_STATES,
    "pending": ("待注册", "Not yet enrolled"),
    "revoked": ("已吊销", "Revoked"),
}

SECTOR_WORDS = words.SECTORS


def zone() -> ZoneInfo:
    """The city's time zone (setting TIME_ZONE)."""
    return ZoneInfo(current_app.config.get("TIME_ZONE") or "Asia/Shanghai")


def to_local(value: dt.datetime | None) -> dt.datetime | None:
    """A stored naive-UTC time in the city's time zone (naive, for strftime)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone()).replace(tzinfo=None)


def local(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as the city reads it, e.g. 2026-03-01 09:05 (— when unknown)."""
    shown = to_local(value)
    return "—" if shown is None else shown.strftime(fmt)


def ago(value: dt.datetime | None) -> str:
    """How long ago a stored time was, in words ("3 分钟前"), counted from the hub's clock at
    this request, so a page never shows a stale "just now"."""
    en = lang() == "en"
    if value is None:
        return "never" if en else "从未"
    seconds = int((clock.now() - value.replace(tzinfo=None)).total_seconds())
    if seconds < 0:
        return "just now" if en else "刚刚"
    for size, zh, en_word in (
        (86400, "天", "day"),
        (3600, "小时", "hour"),
        (60, "分钟", "minute"),
    ):
        if seconds >= size:
            n = seconds // size
            return f"{n} {en_word}{'s' if n > 1 else ''} ago" if en else f"{n} {zh}前"
    return "just now" if en else "刚刚"


def when(value: dt.datetime | None) -> Markup:
    """A `<time>` showing how long ago, with the local time on hover and the UTC instant in its
    datetime attribute (for the page's own refresh script)."""
    if value is None:
        return Markup(escape(ago(None)))
    stamp = value.replace(tzinfo=None).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Markup(
        f'<time datetime="{stamp}" title="{escape(local(value))}" data-ago>'
        f"{escape(ago(value))}</time>"
    )


def state(code: str | None) -> str:
    """A record's state in the page's language."""
    if not code:
        return "—"
    words = STATE_WORDS.get(str(code))
    if words is None:
        return str(code)
    return words[1] if lang() == "en" else words[0]


def page_url(number: int) -> str:
    """This page with the same search, showing page `number`."""
    args: dict[str, Any] = request.args.to_dict()
    args["page"] = str(number)
    args.pop("lang", None)
    return url_for(str(request.endpoint), **{**args, **(request.view_args or {})})


def lang_url(code: str) -> str:
    """This page, same search, in the language `code`."""
    args: dict[str, Any] = request.args.to_dict()
    args["lang"] = code
    if request.endpoint is None:  # an error page for an address no view answers
        return f"?lang={code}"
    return url_for(str(request.endpoint), **{**args, **(request.view_args or {})})


def nav_url(*endpoints: str) -> str | None:
    """The address of the first of these endpoints the app has (None if none)."""
    for name in endpoints:
        if name in current_app.view_functions:
            return url_for(name)
    return None


def hub_now_iso() -> str:
    """The hub's clock now, for the page's "… ago" refresh."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


def sector(code: str | None) -> str:
    """A sector code in the page's language."""
    if not code:
        return "—"
    words = SECTOR_WORDS.get(str(code))
    if words is None:
        return str(code)
    return words[1] if lang() == "en" else words[0]


def register(app: Flask) -> None:
    """Install the filters and globals."""
    app.jinja_env.filters.update(local=local, ago=ago, when=when, state=state, sector=sector)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {
            "page_url": page_url,
            "lang_url": lang_url,
            "nav_url": nav_url,
            "hub_now_iso": hub_now_iso,
            "line_chart": charts.line_chart,
            "bar_chart": charts.bar_chart,
            "progress_bar": charts.progress_bar,
        }
