"""The hub's blueprints and the error handlers that turn every failure into a clear 4xx."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from kuaigong import answers
from kuaigong.errors import KuaigongError
from kuaigong.i18n import lang as lang_code

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def render_error(error: KuaigongError) -> ResponseReturnValue:
    """The error as JSON (API) or as a page, with its HTTP status."""
    lang = lang_code()
    if _wants_json():
        return jsonify(error=error.as_dict(lang)), error.status
    return render_template("error.html", error=error, lang_short=lang), error.status


def register(app: Flask) -> None:
    """Attach every blueprint and the error handlers."""
    # App-factory registration: the blueprints (and the models and services they use) load
    # when an app is built, not whenever the views package is imported.
    from central_hub.views import (
        api,
        auth,
        city,
        evaluation,
        jobs,
        people,
        reconcile,
        rules,
        stations,
    )
    from central_hub.views.templating import register as register_templating

    for module in (auth, stations, reconcile, people, jobs, city, evaluation, rules, api):
        app.register_blueprint(module.bp)
    register_templating(app)

    answers.install(app, render_error)
