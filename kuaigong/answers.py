"""Every failure of a request turned into an answer people can act on, the same way in both
apps: a service's `KuaigongError`, a stale form (CSRF), werkzeug's own HTTP errors and, as the
last resort, an unexpected exception (logged, answered 500). Each app says how an error looks
(JSON under /api/, a page elsewhere) by passing its `answer` function to `install`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from kuaigong.errors import FieldError, KuaigongError

log = logging.getLogger(__name__)

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
        "系统出错了，已记录，请稍后再试或联系工作人员",
        "Something went wrong and was logged; try again or ask the staff",
    ),
}


def from_http(status: int, name: str = "") -> KuaigongError:
    """The error for an HTTP status werkzeug raised; a bad body (413, 415) names the body."""
    code, zh, en = HTTP_MESSAGES.get(
        status, (f"http_{status}", "请求无法处理", name or "The request cannot be handled")
    )
    fields = [FieldError("body", code, zh, en)] if status in (413, 415) else []
    return KuaigongError(code, zh, en, fields=fields, status=status)


def csrf_failed() -> KuaigongError:
    return KuaigongError(
        "csrf_failed",
        "表单已过期或缺少安全令牌，请刷新页面后重新提交",
        "The form expired or lacks its security token; reload the page and submit again",
        status=400,
    )


Answer = Callable[[KuaigongError], ResponseReturnValue]


def install(app: Flask, answer: Answer) -> None:
    """Register the handlers that turn every failure into `answer(error)`."""

    @app.errorhandler(KuaigongError)
    def _known(error: KuaigongError) -> ResponseReturnValue:
        return answer(error)

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> ResponseReturnValue:
        return answer(csrf_failed())

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        response = answer(from_http(error.code or 500, error.name))
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            return app.make_response(response), 405, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return answer(from_http(500))
