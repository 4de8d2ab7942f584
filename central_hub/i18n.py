"""Languages of the hub's pages: Chinese first, English on request (?lang=en, kept in the session).

Message ids in templates and code are the Chinese text; translations/en holds the English.
"""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask_babel import Babel


def current_language() -> str:
    """'zh_CN' or 'en' for this request."""
    asked = request.args.get("lang")
    languages = current_app.config["LANGUAGES"]
    if asked is not None and asked in languages:
        session["lang"] = asked
        return asked
    saved = session.get("lang")
    if saved in languages:
        return str(saved)
    if request.path.startswith("/api/"):
        best = request.accept_languages.best_match(languages)
        if best == "en" and request.accept_languages.best == "en":
            return "en"
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def lang_code() -> str:
    """'zh' or 'en', the short form error messages use."""
    try:
        return "en" if current_language() == "en" else "zh"
    except RuntimeError:
        return "zh"


def init_app(app: Flask) -> None:
    """Install Flask-Babel with the hub's own translations folder."""
    Babel(app, locale_selector=current_language)

    @app.context_processor
    def _language() -> dict[str, str]:
        return {"lang": current_language()}
