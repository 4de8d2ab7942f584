"""The hub's blueprints and the error handlers that turn every failure into a clear 4xx."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from kuaigong.errors import FieldError, KuaigongError
from kuaigong.i18n import lang as lang_code

log = logging.getLogger(__name__)

_HTTP_MESSAGES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求格式不正确", "The request is malformed"),
    404: ("not_found", "找不到该页面或资源", "No such page or resource"),
    405: ("method_not_allowed", "不支持该请求方法", "This method is not allowed here"),
    413: ("body_too_large", "提交的数据太大", "The request body is too large"),
    415: ("unsupported_media_type", "不支持的数据格式", "Unsupported content type"),
}


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
    from central_hub.views import api, auth, city, people, reconcile, rules, stations

    for module in (auth, stations, reconcile, people, city, rules, api):
        app.register_blueprint(module.bp)

    @app.errorhandler(KuaigongError)
    def _hub_error(error: KuaigongError) -> ResponseReturnValue:
        return render_error(error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> ResponseReturnValue:
        return render_error(
            KuaigongError(
                "csrf_failed",
                "表单已过期或来源不明，请刷新页面后重试",
                "The form expired or did not come from this site; reload and retry",
                status=400,
            )
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        status = error.code or 400
        code, zh, en = _HTTP_MESSAGES.get(
            status, ("http_error", "请求无法处理", "The request cannot be handled")
        )
        fields = [FieldError("body", code, zh, en)] if status in (413, 415) else []
        return render_error(KuaigongError(code, zh, en, fields=fields, status=status))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return render_error(
            KuaigongError(
                "internal_error",
                "服务器内部错误，已记录，请稍后重试",
                "Internal error; it was logged, please retry later",
                status=500,
            )
        )
