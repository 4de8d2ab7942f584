"""Language of the station's pages and API answers: Chinese first, English on request.

Order of choice: `?lang=` in the URL, then the language the user picked with the switch
(kept in the session), then — for the JSON API only — the Accept-Language header, then zh_CN.
The console, kiosk and board stay Chinese unless someone switches: many station computers
ship with an English browser.
"""

from __future__ import annotations

from flask import Flask, request, session
from flask_babel import Babel

SUPPORTED = ("zh_CN", "en")


def _normalise(value: str | None) -> str | None:
    """Map 'en', 'en-US', 'zh', 'zh-CN', 'zh_CN' onto a supported locale, or None."""
    if not value:
        return None
    value = value.strip().replace("-", "_").lower()
    if value.startswith("en"):
        return "en"
    if value.startswith("zh"):
        return "zh_CN"
    return None


def select_locale() -> str:
    """The locale of the current request (see the module docstring for the order)."""
    picked = _normalise(request.args.get("lang")) or _normalise(session.get("lang"))
    if picked:
        return picked
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["zh_CN", "zh", "zh-CN", "en"])
        return _normalise(best) or "zh_CN"
    return "zh_CN"


def lang() -> str:
    """'zh' or 'en': which side of a bilingual message to show."""
    return "en" if select_locale() == "en" else "zh"


def remember(value: str | None) -> str:
    """Store the user's choice from the language switch; return the locale kept."""
    picked = _normalise(value) or "zh_CN"
    session["lang"] = picked
    return picked


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with our selector and translations folder."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")

    @app.context_processor
    def _language() -> dict[str, str]:
        return {"current_lang": lang(), "current_locale": select_locale()}
