"""Language of both apps' pages and API answers: Chinese first, English on request.

Order of choice: `?lang=` in the URL (remembered in the session, so a link that switched stays
switched), then the language kept in the session, then — for the JSON API only — the
Accept-Language header, then zh_CN. Pages stay Chinese unless someone switches: many station
and office computers ship with an English browser. Message ids in templates and code are the
Chinese text; each app's translations/en holds the English.
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
    asked = _normalise(request.args.get("lang"))
    if asked:
        session["lang"] = asked
        return asked
    kept = _normalise(session.get("lang"))
    if kept:
        return kept
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(["zh_CN", "zh", "zh-CN", "en"])
        return _normalise(best) or "zh_CN"
    return "zh_CN"


def lang() -> str:
    """'zh' or 'en': which side of a bilingual message to show ('zh' outside a request)."""
    try:
        return "en" if select_locale() == "en" else "zh"
    except RuntimeError:
        return "zh"


def remember(value: str | None) -> str:
    """Store the user's choice from a language switch; return the locale kept."""
    picked = _normalise(value) or "zh_CN"
    session["lang"] = picked
    return picked


def init_app(app: Flask) -> None:
    """Attach Flask-Babel with this selector and the app's own translations folder."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    Babel(app, locale_selector=select_locale, default_translation_directories="translations")

    @app.context_processor
    def _language() -> dict[str, str]:
        return {"current_lang": lang(), "current_locale": select_locale()}
