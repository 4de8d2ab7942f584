"""City-wide rules: blocked employers and intermediaries, announcements, service rules and the
hotline. Each one is a hub-log entry every station applies."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app

from central_hub import clock, db
from central_hub.errors import Conflict, FieldErrors, Forbidden, NotFound
from central_hub.models import RULE_KINDS, Admin, CityRule, Employer
from central_hub.services import hublog

_USCC = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_HOTLINE = re.compile(r"^\d{3,12}$")


def _require_admin(actor: Admin | None) -> None:
    if actor is not None and actor.role != "admin":
        raise Forbidden("read_only", "审计员只能查看，不能修改", "Auditors may only read")


def _validate(kind: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    errs = FieldErrors()
    if kind not in RULE_KINDS:
        errs.add("kind", "invalid", "规则类型不正确", "Unknown kind of rule")
        errs.raise_if_any()

    def text(name: str, zh: str, en: str, limit: int, required: bool = True) -> str:
        value = data.get(name) or ""
        if not isinstance(value, str):
            value = ""
        value = value.strip()
        if required and not value:
            errs.add(name, "required", f"请填写{zh}", f"{en} is required")
        elif len(value) > limit:
            errs.add(name, "too_long", f"{zh}最多 {limit} 个字", f"{en} is longer than {limit}")
        return value

    body: dict[str, Any]
    if kind in ("blocked_employer", "blocked_intermediary"):
        name = text("name", "名称", "Name", 128)
        credit = text("credit_code", "统一社会信用代码", "Credit code", 18, required=False).upper()
        if credit and not _USCC.match(credit):
            errs.add("credit_code", "invalid", "统一社会信用代码格式不正确",
                     "The unified social credit code is not valid")
        reason = text("reason", "原因", "Reason", 200)
        body, title = {"name": name, "credit_code": credit or None, "reason": reason}, name
    elif kind == "announcement":
        title = text("title", "标题", "Title", 200)
        body = {"title": title, "text": text("text", "内容", "Text", 2000)}
    else:
        hotline = text("hotline", "投诉电话", "Hotline", 12, required=False) or current_app.config["HOTLINE"]
        if not _HOTLINE.match(hotline):
            errs.add("hotline", "invalid", "投诉电话须为 3–12 位数字", "The hotline must be 3–12 digits")
        body = {"text": text("text", "服务规则", "Service rules", 4000), "hotline": hotline}
        title = "服务规则"
    errs.raise_if_any()
    return title, body


def add_rule(kind: str, data: dict[str, Any], actor: Admin | None) -> CityRule:
    """Publish a city-wide rule to every station through the hub log."""
    _require_admin(actor)
    title, body = _validate(kind, data)
    with db.atomic():
        rule = CityRule.create(kind=kind, title=title, body=body, created_by=actor,
                               created_at=clock.now())
        if kind == "service_rules":
            CityRule.update(active=False).where(
                (CityRule.kind == "service_rules") & (CityRule.id != rule.id)).execute()
        if kind == "blocked_employer" and body.get("credit_code"):
            Employer.update(blocked=True).where(Employer.credit_code == body["credit_code"]).execute()
        entry = hublog.append("city_rule", str(rule.id), "create", {"kind": kind, **body})
        CityRule.update(hub_seq=entry.seq).where(CityRule.id == rule.id).execute()
        return CityRule.get_by_id(rule.id)


def withdraw_rule(rule_id: Any, actor: Admin | None) -> CityRule:
    """Withdraw a rule; stations learn it from the hub log."""
    _require_admin(actor)
    with db.atomic():
        rule = CityRule.get_or_none(CityRule.id == _int(rule_id))
        if rule is None:
            raise NotFound(f"规则 {rule_id}", f"Rule {rule_id}")
        if not rule.active:
            raise Conflict("rule_withdrawn", "该规则已撤销", "This rule was already withdrawn")
        CityRule.update(active=False).where(CityRule.id == rule.id).execute()
        hublog.append("city_rule", str(rule.id), "delete", {"kind": rule.kind})
        return CityRule.get_by_id(rule.id)


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


def active_rules() -> list[CityRule]:
    """Rules in force, newest first."""
    return list(CityRule.select().where(CityRule.active).order_by(CityRule.id.desc()))
