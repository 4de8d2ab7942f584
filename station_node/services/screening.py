"""Screening a posting before any dispatch: the abuses gig markets see, found in its own data.

A posting is held for staff review (never dispatched until released) when it asks workers for
money, mentions keeping their ID cards, turns work into paid training or a training loan,
offers bait pay far above the going rate, or comes from a blocked employer. Pure: no database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from station_node import catalog
from station_node.screening.normalise import normalise, normalise_text

__all__ = ["PHRASE_KINDS", "normalise_text", "screen_job"]

# The kinds of phrase the vocabulary holds (and staff or city rules may add to).
PHRASE_KINDS = ("asks_for_money", "withholds_id_card", "training_trap", "bait_wording")

# Words that ask workers for money. A negation just before ("免", "不收", "无需") clears it.
_MONEY_ZH = (
    "押金", "保证金", "报名费", "培训费", "服装费", "工服费", "制服费", "体检费", "介绍费",
    "中介费", "入职费", "办卡费", "资料费", "建档费", "上岗费", "手续费", "信息费", "先交钱",
    "交钱上岗", "预交", "垫付",
)
_MONEY_EN = re.compile(
    r"\b(deposits?|(registration|training|uniform|medical|introduction|agency|placement|"
    r"application|processing)\s+fees?|fees?)\b",
    re.IGNORECASE,
)
_NEGATIONS = ("免收", "免", "不收", "无需", "不需", "不用", "无", "没有", "不要", "不交", "拒绝")
_NEGATIONS_EN = re.compile(r"\b(no|free of|without|zero|waived)\s*$", re.IGNORECASE)

_ID_CARD = re.compile(
    r"(扣押|扣留|押|扣|收|留|上交|交|抵押)(身份证|证件)|身份证原件|身份证(押|扣|留|交)在"
)
_ID_CARD_EN = re.compile(
    r"\b(keep|keeps|hold|holds|withhold|withholds|retain|retains|hand over|surrender|deposit)\b"
    r"[^.]{0,30}\b(id|identity)\s*cards?\b",
    re.IGNORECASE,
)
_TRAINING_ALWAYS = re.compile(r"培训贷|招转培|training\s+loans?", re.IGNORECASE)
_TRAINING_FIRST = re.compile(r"先(参加)?培训(后|再)(上岗|入职|工作)|培训(合格)?后(才能|方可)?(上岗|入职)")
_TRAINING_MONEY = re.compile(r"费|贷|分期|缴|交钱|学费|loan|fee|instal", re.IGNORECASE)


def _reason(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message_zh": zh, "message_en": en, **extra}


def _negated(text: str, start: int) -> bool:
    """Whether the clause just before `start` negates it ("不收押金", "无需任何押金")."""
    clause = re.split(r"[，。；;,.!！?？、\s]", text[max(0, start - 6) : start])[-1]
    return any(word in clause for word in _NEGATIONS)


def _money_words(text: str) -> list[str]:
    found: list[str] = []
    for word in _MONEY_ZH:
        for match in re.finditer(re.escape(word), text):
            if not _negated(text, match.start()):
                found.append(word)
                break
    for match in _MONEY_EN.finditer(text):
        if not _NEGATIONS_EN.search(text[: match.start()]):
            found.append(match.group(0).lower())
    return list(dict.fromkeys(found))


def _asks_training_money(text: str) -> bool:
    return any(not _negated(text, m.start()) for m in _TRAINING_MONEY.finditer(text))


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _employer_block(employer: Any) -> tuple[bool, str | None]:
    if employer is None:
        return False, None
    if isinstance(employer, Mapping):
        return bool(employer.get("blocked")), employer.get("block_reason")
    return bool(getattr(employer, "blocked", False)), getattr(employer, "block_reason", None)


def _extra_reasons(text: str, extra_phrases: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    norm = normalise(text)
    found: dict[str, list[str]] = {}
    for item in extra_phrases:
        kind, phrase = item.get("kind"), normalise_text(str(item.get("phrase") or ""))
        if kind in PHRASE_KINDS and phrase and phrase in norm.text:
            found.setdefault(str(kind), []).append(phrase)
    return [
        _reason(kind, f"招聘信息含有需审核的用语（{'、'.join(words)}）",
                f"The posting uses wording held for review ({', '.join(words)})", matched=words)
        for kind, words in found.items()
    ]


def screen_job(
    data: Mapping[str, Any], employer: Any, extra_phrases: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The reasons to hold this posting for review ([] when it may be dispatched at once)."""
    text = " ".join(
        str(data.get(key) or "") for key in ("title", "description", "address", "requirements")
    )
    reasons: list[dict[str, Any]] = _extra_reasons(text, extra_phrases)

    money = _money_words(text)
    if money:
        words = "、".join(money)
        reasons.append(
            _reason(
                "asks_for_money",
                f"招聘信息要求劳动者交钱（{words}）：正规用工不得向劳动者收取任何费用",
                f"The posting asks workers for money ({', '.join(money)}); employers may not charge workers",
                matched=money,
            )
        )

    id_match = _ID_CARD.search(text) or _ID_CARD_EN.search(text)
    if id_match:
        reasons.append(
            _reason(
                "withholds_id_card",
                f"招聘信息提到扣押或收取身份证（“{id_match.group(0)}”）：用人方不得扣押劳动者证件",
                f"The posting mentions keeping workers' ID cards (\u201c{id_match.group(0)}\u201d)",
                matched=[id_match.group(0)],
            )
        )

    training = _TRAINING_ALWAYS.search(text)
    if training is None and _TRAINING_FIRST.search(text) and _asks_training_money(text):
        training = _TRAINING_FIRST.search(text)
    if training:
        reasons.append(
            _reason(
                "training_trap",
                f"疑似“招转培”或培训贷（“{training.group(0)}”）：以招聘为名收取培训费或诱导贷款",
                f"Looks like a paid-training or training-loan trap (\u201c{training.group(0)}\u201d)",
                matched=[training.group(0)],
            )
        )

    pay = _as_int(data.get("pay_fen"))
    category, unit = str(data.get("category") or ""), str(data.get("pay_unit") or "")
    rate = catalog.going_rate_fen(category, unit)
    if pay is not None and rate and pay > catalog.BAIT_PAY_FACTOR * rate:
        unit_zh = catalog.label(catalog.PAY_UNITS, unit)
        unit_en = catalog.label(catalog.PAY_UNITS, unit, "en")
        reasons.append(
            _reason(
                "pay_far_above_going_rate",
                f"报酬 {pay / 100:.2f} {unit_zh} 远高于该行业通常水平 {rate / 100:.2f} {unit_zh}，疑似以高薪诱骗",
                f"Pay {pay / 100:.2f} {unit_en} is far above the going rate {rate / 100:.2f} {unit_en} (possible bait)",
                going_rate_fen=rate,
            )
        )

    blocked, why = _employer_block(employer)
    if blocked:
        reasons.append(
            _reason(
                "employer_blocked",
                f"该雇主已被暂停（{why or '未写原因'}），发布的工作须经工作人员审核",
                f"The employer is blocked ({why or 'no reason given'}); its postings need review",
            )
        )
    return reasons
