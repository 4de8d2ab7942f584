"""City-wide rules: blocked employers and intermediaries, announcements, service rules and the
hotline, and screening phrases. Each one is a hub-log entry every station applies.

A block may name the employer's credit code and/or its resident ID number; the number is kept
only as the city's keyed hash (as stations hash it), never in the rule. A screening phrase is
stored as typed and normalised (full-width folded, case-folded, spaces and punctuation gone);
each station normalises it again with its own screening.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import current_app

from central_hub import db
from central_hub.models import RULE_KINDS, Admin, CityRule
from central_hub.models.rules import PHRASE_KINDS
from central_hub.services import city_blocks, hublog, idnumbers
from central_hub.states import Role
from kuaigong import clock
from kuaigong.errors import Conflict, FieldErrors, Forbidden, NotFound

_ID_HASH = re.compile(r"^[0-9a-f]{64}$")
PHRASE_TYPED_MAX, PHRASE_MIN, PHRASE_MAX = 64, 2, 32
_HOTLINE = re.compile(r"^\d{3,12}$")


def _require_admin(actor: Admin | None) -> None:
    if actor is not None and actor.role != Role.ADMIN:
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
        reason = text("reason", "原因", "Reason", 200)
        body, title = {"name": name, **_block_keys(data, errs), "reason": reason}, name
    elif kind == "screening_phrase":
        body = _phrase_body(data, errs)
        title = str(body.get("phrase") or "")
    elif kind == "announcement":
        title = text("title", "标题", "Title", 200)
        body = {"title": title, "text": text("text", "内容", "Text", 2000)}
    else:
        hotline = (
            text("hotline", "投诉电话", "Hotline", 12, required=False)
            or current_app.config["HOTLINE"]
        )
        if not _HOTLINE.match(hotline):
            errs.add(
                "hotline", "invalid", "投诉电话须为 3–12 位数字", "The hotline must be 3–12 digits"
            )
        body = {"text": text("text", "服务规则", "Service rules", 4000), "hotline": hotline}
        title = "服务规则"
    errs.raise_if_any()
    return title, body


def _given(data: dict[str, Any], name: str) -> bool:
    value = data.get(name)
    return value is not None and not (isinstance(value, str) and not value.strip())


def _block_keys(data: dict[str, Any], errs: FieldErrors) -> dict[str, Any]:
    """The credit code and the keyed hash of the ID number a block names (each optional)."""
    out: dict[str, Any] = {"credit_code": None}
    if _given(data, "credit_code"):
        out["credit_code"] = idnumbers.clean_credit_code(data.get("credit_code"), errs)
    if _given(data, "id_number"):
        number = idnumbers.clean_id_number(data.get("id_number"), errs)
        if number is not None:
            out["id_hash"] = idnumbers.hash_id_number(number)
    elif _given(data, "id_hash"):
        typed = data.get("id_hash")
        if isinstance(typed, str) and _ID_HASH.match(typed.strip().lower()):
            out["id_hash"] = typed.strip().lower()
        else:
            errs.add(
                "id_hash",
                "invalid",
                "证件号哈希应为64位十六进制",
                "The ID hash must be 64 hexadecimal digits",
            )
    return out


def normalise_phrase(text: str) -> str:
    """A phrase with full-width forms folded, case folded, spaces, punctuation and symbols gone."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZCS")


def _phrase_body(data: dict[str, Any], errs: FieldErrors) -> dict[str, Any]:
    kind = data.get("phrase_kind")
    if not isinstance(kind, str) or kind not in PHRASE_KINDS:
        errs.add(
            "phrase_kind",
            "required" if not kind else "invalid",
            "请选择词语类别",
            "Choose the kind of phrase",
        )
    typed = data.get("phrase")
    typed = typed.strip() if isinstance(typed, str) else ""
    phrase = normalise_phrase(typed)
    if not typed:
        errs.add("phrase", "required", "请填写词语", "Phrase is required")
    elif len(typed) > PHRASE_TYPED_MAX:
        errs.add(
            "phrase",
            "too_long",
            f"词语最多 {PHRASE_TYPED_MAX} 个字",
            f"The phrase is longer than {PHRASE_TYPED_MAX}",
        )
    elif not phrase:
        errs.add(
            "phrase",
            "empty_after_normalising",
            "去掉空格和标点后词语为空",
            "The phrase is empty without its spaces and punctuation",
        )
    elif not PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
        errs.add(
            "phrase",
            "length",
            f"词语去掉空格和标点后应为 {PHRASE_MIN}–{PHRASE_MAX} 个字",
            f"The phrase must be {PHRASE_MIN}-{PHRASE_MAX} characters "
            "without spaces and punctuation",
        )
    elif isinstance(kind, str) and _active_phrase(kind, phrase):
        errs.add(
            "phrase",
            "duplicate",
            f"全市词库中已有该词语（{phrase}）",
            f"The city vocabulary already has this phrase ({phrase})",
        )
    return {"phrase_kind": kind, "phrase": phrase, "typed": typed}


def _active_phrase(kind: str, phrase: str) -> bool:
    rules = CityRule.select(CityRule.body).where(
        (CityRule.kind == "screening_phrase") & CityRule.active
    )
    return any(r.body.get("phrase_kind") == kind and r.body.get("phrase") == phrase for r in rules)


def add_rule(kind: str, data: dict[str, Any], actor: Admin | None) -> CityRule:
    """Publish a city-wide rule to every station through the hub log."""
    _require_admin(actor)
    title, body = _validate(kind, data)
    with db.atomic():
        rule = CityRule.create(
            kind=kind, title=title, body=body, created_by=actor, created_at=clock.now()
        )
        if kind == "service_rules":
            CityRule.update(active=False).where(
                (CityRule.kind == "service_rules") & (CityRule.id != rule.id)
            ).execute()
        if kind in city_blocks.BLOCK_KINDS:  # the hub's decision, not one side of a conflict
            city_blocks.block_matching(kind, body)
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
