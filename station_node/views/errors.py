"""How the station answers an error: JSON under /api/, a page elsewhere (kuaigong.answers
turns every failure into the error shown here).

Shape of a JSON error: {"error": {"code", "message", "fields": [{"field","code","message"}]}}.
Chinese by default, English when the request prefers it. Unexpected exceptions are logged
and answered 500 as a last resort.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request

from kuaigong import answers
from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _answer(error: KuaigongError) -> Any:
    language = lang()
    body = error.as_dict(language)
    if "fields" not in body:
        body["fields"] = []
    if _wants_json():
        return jsonify(error=body), error.status
    return render_template("error.html", error=body, status=error.status), error.status


def register(app: Flask) -> None:
    """Install the handlers on the app."""
    answers.install(app, _answer)
