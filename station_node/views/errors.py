"""One place that turns every error into an answer: JSON under /api/, a page elsewhere.

Shape of a JSON error: {"error": {"code", "message", "fields": [{"field","code","message"}]}}.
Chinese by default, English when the request prefers it. Unexpected exceptions are logged
and answered 500 as a last resort.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from kuaigong.errors import FieldError, KuaigongError
from kuaigong.i18n import lang

# status → (code, Chinese, English) for errors raised by Flask/werkzeug itself.
HTTP_MESSAGES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求格式不正确", "The request is malformed"),
    401: ("unauthorized", "请先登录", "Sign in first"),
    403: ("forbidden", "没有权限进行此操作", "You may not do this"),
    404: ("not_found", "找不到这个地址", "No such address"),
    405: (
        "method_not_allowed",
        "此地址不支持这种请求方法",
        "This address does not accept that method",
    ),
    413: ("body_too_large", "提交的内容太大", "The request body is too large"),
    415: (
        "unsupported_media_type",
        "请以 JSON 格式提交（Content-Type: application/json）",
        "Send JSON (Content-Type: application/json)",
    ),
    429: ("too_many_requests", "请求太频繁，请稍后再试", "Too many requests, try again later"),
    500: (
        "internal_error",
        "系统出错了，请稍后再试或联系驿站工作人员",
        "Something went wrong; try again or ask the station staff",
    ),
}


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


def _from_http(exc: HTTPException) -> KuaigongError:
    status = exc.code or 500
    code, zh, en = HTTP_MESSAGES.get(status, (f"http_{status}", exc.name, exc.name))
    fields = [FieldError("body", code, zh, en)] if status in (413, 415) else []
    return KuaigongError(code, zh, en, fields=fields, status=status)


def register(app: Flask) -> None:
    """Install the handlers on the app."""

    @app.errorhandler(KuaigongError)
    def _kuaigong(exc: KuaigongError) -> Any:
        return _answer(exc)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return _answer(
            KuaigongError(
                "csrf_failed",
                "表单已过期或缺少安全令牌，请刷新页面后重新提交",
                "The form expired or lacks its security token; reload the page and submit again",
                status=400,
            )
        )

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        response = _answer(_from_http(exc))
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            body, status = response
            return body, status, {"Allow": ", ".join(exc.valid_methods)}
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Any:
        current_app.logger.exception("unexpected error on %s %s", request.method, request.path)
        return _answer(_from_http(_Internal()))


class _Internal(HTTPException):
    code = 500
