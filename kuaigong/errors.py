"""Errors a person or a station can act on; each app's views turn them into 4xx pages and JSON.

Every error carries a machine-readable code and a message in Chinese and English. The message
is Chinese unless English was asked for, and a Chinese body carries the English one beside it
(`message_en`) for the people who read logs. Field errors name the field that was wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def _in(lang: str, message_zh: str, message_en: str) -> str:
    return message_en if lang.startswith("en") else message_zh


@dataclass(frozen=True)
class FieldError:
    field: str
    code: str
    message_zh: str
    message_en: str

    def as_dict(self, lang: str = "zh") -> dict[str, str]:
        return {
            "field": self.field,
            "code": self.code,
            "message": _in(lang, self.message_zh, self.message_en),
        }


@dataclass
class KuaigongError(Exception):
    """Base of every error a user can act on. `status` is the HTTP status it maps to."""

    code: str
    message_zh: str
    message_en: str
    fields: list[FieldError] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    status: int = 400

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en}"

    def message(self, lang: str = "zh") -> str:
        """The message in `lang` (Chinese unless English is asked for)."""
        return _in(lang, self.message_zh, self.message_en)

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        """The JSON body of the error."""
        body: dict[str, Any] = {"code": self.code, "message": self.message(lang)}
        if not lang.startswith("en"):
            body["message_en"] = self.message_en
        if self.fields:
            body["fields"] = [f.as_dict(lang) for f in self.fields]
        if self.details:
            body["details"] = self.details
        return body


def openapi_schema() -> dict[str, Any]:
    """The OpenAPI schema of an error answer (`{"error": KuaigongError.as_dict()}`), for both
    apps' API documents."""
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {
                    "code": text,
                    "message": {
                        "type": "string",
                        "description": "Chinese unless English is asked for (?lang=en, or "
                        "Accept-Language: en on the API)",
                    },
                    "message_en": {"type": "string", "description": "beside a Chinese message"},
                    "fields": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["field", "code", "message"],
                            "properties": {"field": text, "code": text, "message": text},
                        },
                    },
                    "details": {"type": "object"},
                },
            }
        },
    }


class InvalidInput(KuaigongError):
    """One or more fields were wrong (422); all of them are named."""

    def __init__(self, fields: list[FieldError]):
        super().__init__(
            code="invalid_input",
            message_zh="提交的信息有误：" + "；".join(f.message_zh for f in fields),
            message_en="Some fields are not valid: " + "; ".join(f.message_en for f in fields),
            fields=fields,
            status=422,
        )


class NotFound(KuaigongError):
    def __init__(self, what_zh: str, what_en: str):
        super().__init__("not_found", f"找不到{what_zh}", f"{what_en} not found", status=404)


class Conflict(KuaigongError):
    """The request is valid but the state forbids it (job full, overlapping booking …): 409."""

    def __init__(self, code: str, message_zh: str, message_en: str, **details: Any):
        super().__init__(code, message_zh, message_en, details=details, status=409)


class Forbidden(KuaigongError):
    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(code, message_zh, message_en, status=403)


class Unauthorized(KuaigongError):
    def __init__(self, code: str, message_zh: str, message_en: str):
        super().__init__(code, message_zh, message_en, status=401)


class FieldErrors:
    """Collects field errors while a service validates its input, then raises them together."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field_name: str, code: str, message_zh: str, message_en: str) -> None:
        """Note one bad field."""
        self.errors.append(FieldError(field_name, code, message_zh, message_en))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        """Raise InvalidInput naming every bad field, if there was any."""
        if self.errors:
            raise InvalidInput(self.errors)
