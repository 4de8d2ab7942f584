"""Strict JSON request bodies, read the same way by the station's and the hub's APIs.

One object in UTF-8; a duplicate key, NaN/Infinity or a number with hundreds of digits is
refused naming the field; nesting too deep is refused rather than crashing. Problems are
raised as BodyError, which each app turns into its own 4xx error.
"""

from __future__ import annotations

import json
from typing import Any

# Longest number literal a body may hold (an amount of 10**30 fen is already absurd).
MAX_NUMBER_DIGITS = 40


class BodyError(Exception):
    """Why a body was refused: a code, the field it names ("body" for the whole) and messages."""

    def __init__(self, code: str, field: str, zh: str, en: str) -> None:
        super().__init__(en)
        self.code, self.field, self.message_zh, self.message_en = code, field, zh, en

    @property
    def whole_body(self) -> bool:
        """The problem is the body as a whole, not one field inside it."""
        return self.field == "body"


class _BadNumber:
    """Stands in, while parsing, for a number no field can take (NaN, Infinity, 10**400 …)."""


def _holds_bad_number(value: Any) -> bool:
    if isinstance(value, _BadNumber):
        return True
    return isinstance(value, list) and any(_holds_bad_number(v) for v in value)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object: a duplicate key or an impossible number is refused, naming the field."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        name = key[:64]
        if key in seen:
            raise BodyError(
                "duplicate_key",
                name,
                f"字段“{name}”在请求中出现了两次",
                f'The field "{name}" appears twice',
            )
        if _holds_bad_number(value):
            raise BodyError(
                "invalid_number",
                name,
                f"{name} 的数值无效或太大",
                f"{name} holds an invalid or far too large number",
            )
        seen[key] = value
    return seen


def _number(text: str) -> Any:
    """An int or float as JSON wrote it; a marker for one that is not finite or too long."""
    digits = text.lstrip("-")
    if len(digits) > MAX_NUMBER_DIGITS or not digits[:1].isdigit():
        return _BadNumber()
    value = float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return _BadNumber()
    return value


def _whole(code: str, zh: str, en: str) -> BodyError:
    return BodyError(code, "body", zh, en)


def parse_object(raw: bytes) -> dict[str, Any]:
    """Strict JSON of one object: UTF-8, no duplicate keys, no NaN/Infinity or giant numbers,
    not too deep."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _whole(
            "body_not_utf8", "请求内容必须是 UTF-8 编码", "The request body must be UTF-8"
        ) from None
    try:
        data = json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_number,
            parse_float=_number,
            parse_int=_number,
        )
    except RecursionError:
        raise _whole(
            "body_too_deep", "请求内容嵌套层数太多", "The request body is nested too deeply"
        ) from None
    except ValueError:
        raise _whole(
            "invalid_json", "请求内容不是有效的 JSON", "The request body is not valid JSON"
        ) from None
    if _holds_bad_number(data):
        raise _whole(
            "invalid_number",
            "请求内容中的数字无效或太大",
            "The request body holds an invalid or far too large number",
        )
    if not isinstance(data, dict):
        raise _whole(
            "body_not_object",
            "请求内容必须是 JSON 对象（{...}）",
            "The request body must be a JSON object ({...})",
        )
    return data
