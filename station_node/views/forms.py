"""Console forms: posted form fields → the plain dicts services take, and service errors → fields.

Services do all validation; these functions only reshape (checkbox lists, availability,
consent, yuan → fen) and map each service field name back to the form input that shows it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from werkzeug.datastructures import MultiDict

from kuaigong.characters import fold_width
from kuaigong.errors import FieldError, InvalidInput, KuaigongError
from kuaigong.i18n import lang
from station_node import catalog

# service field name → the form input its message is shown next to
FIELD_ALIASES = {
    "availability": "avail_from",
    "availability.days": "avail_days",
    "availability.from": "avail_from",
    "availability.to": "avail_to",
    "consent": "consent_given",
    "consent.given": "consent_given",
    "consent.purpose": "consent_purpose",
    "pay_fen": "pay_yuan",
    "employer": "employer_id",
}

_INDEX = re.compile(r"\[\d+\]|\.\d+$")
_AMOUNT = re.compile(r"[+-]?[0-9]{1,10}(\.[0-9]{1,2})?")


def _words(form: MultiDict[str, str], name: str) -> list[str]:
    return [v for v in form.getlist(name) if v]


def _checked(form: MultiDict[str, str], name: str) -> bool:
    return form.get(name) in ("1", "on", "true", "yes")


def worker_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """The registration dict of the worker form."""
    data: dict[str, Any] = {
        "name": form.get("name", "").strip(),
        "id_number": form.get("id_number", "").strip(),
        "mobile": form.get("mobile", "").strip(),
        "skills": _words(form, "skills"),
        "areas": _words(form, "areas"),
        "priority_groups": _words(form, "priority_groups"),
    }
    days = _words(form, "avail_days")
    start, end = form.get("avail_from", "").strip(), form.get("avail_to", "").strip()
    if days or start or end:
        data["availability"] = {
            "days": days,  # strings: clean_int reads "3" and refuses "³" with the field named
            "from": start,
            "to": end,
        }
    if data["priority_groups"] or _checked(form, "consent_given"):
        data["consent"] = {
            "given": _checked(form, "consent_given"),
            "purpose": form.get("consent_purpose", "").strip(),
        }
    return data


def employer_data(form: MultiDict[str, str]) -> dict[str, Any]:
    """The registration dict of the employer form (only the kind's own identifier is sent)."""
    kind = form.get("kind", "")
    data = {
        key: form.get(key, "").strip()
        for key in ("kind", "name", "contact_name", "mobile", "address")
    }
    if kind == "organisation":
        data["credit_code"] = form.get("credit_code", "").strip()
    else:
        data["id_number"] = form.get("id_number", "").strip()
    return data


def yuan_to_fen(text: str) -> int | None:
    """'123.45' (or full-width '１２３．４５') → 12345; None when it is not an amount of 0-9
    digits with at most two decimals (not '²', '١٢', '1e30' or 'NaN')."""
    amount = fold_width(text).strip().lstrip("¥￥")
    if not _AMOUNT.fullmatch(amount):
        return None
    return int(Decimal(amount) * 100)


def job_data(form: MultiDict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The posting dict of the job form, plus errors only the form can find (unreadable yuan)."""
    data: dict[str, Any] = {
        key: form.get(key, "").strip()
        for key in (
            "employer_id",
            "title",
            "category",
            "description",
            "headcount",
            "pay_unit",
            "address",
            "community",
            "term",
            "urgency",
            "source",
            "source_department",
            "dispatch_mode",
        )
    }
    data["skills"] = _words(form, "skills")
    data["time_flexible"] = _checked(form, "time_flexible")
    data["insurance_required"] = _checked(form, "insurance_required")
    if not data["time_flexible"]:
        data["starts_at"] = form.get("starts_at", "").strip()
        data["ends_at"] = form.get("ends_at", "").strip()
    if not data["source_department"]:
        data.pop("source_department")
    own: list[FieldError] = []
    raw_pay = form.get("pay_yuan", "").strip()
    fen = yuan_to_fen(raw_pay) if raw_pay else None
    if not raw_pay:
        own.append(FieldError("pay_yuan", "required", "请填写工资（元）", "Enter the pay in yuan"))
    elif fen is None:
        own.append(
            FieldError(
                "pay_yuan",
                "invalid_amount",
                "工资金额格式不正确，例如 180 或 25.50",
                "Pay must be an amount like 180 or 25.50",
            )
        )
    elif fen <= 0:
        own.append(FieldError("pay_yuan", "too_small", "工资应大于 0 元", "Pay must be above 0"))
    elif fen > catalog.MAX_PAY_FEN.get(data["pay_unit"], max(catalog.MAX_PAY_FEN.values())):
        cap = catalog.MAX_PAY_FEN.get(data["pay_unit"], max(catalog.MAX_PAY_FEN.values())) // 100
        own.append(
            FieldError(
                "pay_yuan",
                "too_large",
                f"工资不能超过 {cap} 元",
                f"Pay must be at most {cap} yuan",
            )
        )
    # An unreadable amount goes on as -1, which the service refuses with everything else wrong.
    data["pay_fen"] = fen if fen is not None or not raw_pay else -1
    return data, own


def field_messages(
    error: KuaigongError, own: list[FieldError] | None = None
) -> tuple[dict[str, str], str]:
    """Each form input's message, and the error's general message, in the page's language."""
    language = lang()
    messages: dict[str, str] = {}
    own_names = {item.field for item in own or []}
    for item in (own or []) + list(error.fields):
        name = _INDEX.sub("", item.field)
        name = FIELD_ALIASES.get(name, name)
        if name in own_names and item not in (own or []):
            continue  # the form's own reading of this input says it better
        text = item.message_zh if language == "zh" else item.message_en
        if name in messages:
            if text not in messages[name]:
                messages[name] += "；" + text if language == "zh" else "; " + text
        else:
            messages[name] = text
    return messages, error.message(language)


T = TypeVar("T")


def blank() -> tuple[None, dict[str, str], None]:
    """A form not sent yet: no result, no messages."""
    return None, {}, None


def submit(
    call: Callable[[], T], own: list[FieldError] | None = None
) -> tuple[T | None, dict[str, str], str | None]:
    """Run a form's service call: (its result, each input's message, the general message).

    A refusal comes back as messages for the page (shown with the values kept), never a 500.
    """
    try:
        return call(), {}, None
    except InvalidInput as exc:
        errors, error = field_messages(exc, own)
        return None, errors, error
    except KuaigongError as exc:
        return None, {}, exc.message(lang())
