"""Screening a posting before any dispatch: the abuses gig markets see, found in its own data.

A posting is held for staff review (never dispatched until released) when it asks workers for
money, keeps their ID cards, turns work into paid training or a training loan, uses the
wording of the scams that pose as gig work, offers bait pay far above the going rate, or comes
from a blocked employer. Words are matched on normalised text (full-width, traditional,
spaces and zero-width characters inside words, homophones) from the vocabulary in
station_node/screening/vocabulary.json, plus phrases staff admins and city rules add. Each
reason names the phrase that matched and quotes the posting's own words. Pure: no database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from station_node import catalog
from station_node.screening.normalise import normalise_text
from station_node.screening.rules import Finding, compile_extra, screen_text

__all__ = ["PHRASE_KINDS", "normalise_text", "screen_job"]

# The kinds of phrase the vocabulary holds (and staff or city rules may add to).
PHRASE_KINDS = ("asks_for_money", "withholds_id_card", "training_trap", "bait_wording")

# The fields screened, in this order; each is its own clause.
_FIELDS = ("title", "description", "requirements", "address")

_MESSAGES = {
    "asks_for_money": (
        "招聘信息要求劳动者交钱（{zh}）：正规用工不得向劳动者收取任何费用",
        "The posting asks workers for money ({en}); employers may not charge workers",
    ),
    "withholds_id_card": (
        "招聘信息提到扣押或代管身份证件（{zh}）：用人方不得扣押劳动者证件",
        "The posting mentions keeping workers' ID cards ({en})",
    ),
    "training_trap": (
        "疑似“招转培”或培训贷（{zh}）：以招聘为名收取培训费或诱导贷款",
        "Looks like a paid-training or training-loan trap ({en})",
    ),
    "bait_wording": (
        "招聘信息使用刷单、打字兼职、轻松高薪等诈骗常用说法（{zh}）",
        "The posting uses the wording of scams posing as gig work ({en})",
    ),
}


def _reason(code: str, zh: str, en: str, **extra: Any) -> dict[str, Any]:
    return {"code": code, "message_zh": zh, "message_en": en, **extra}


def _text_reason(kind: str, findings: list[Finding]) -> dict[str, Any]:
    phrases = list(dict.fromkeys(f.phrase for f in findings))
    evidence = [{"phrase": f.phrase, "quote": f.quote, "homophone": f.homophone} for f in findings]
    zh = "；".join(
        f"“{f.phrase}”，原文“{f.quote}”" + ("（谐音）" if f.homophone else "") for f in findings[:3]
    )
    en = "; ".join(
        f"\u201c{f.phrase}\u201d, written \u201c{f.quote}\u201d"
        + (" (homophone)" if f.homophone else "")
        for f in findings[:3]
    )
    template_zh, template_en = _MESSAGES[kind]
    return _reason(
        kind,
        template_zh.format(zh=zh),
        template_en.format(en=en),
        matched=phrases,
        evidence=evidence,
    )


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


def _pay_reason(data: Mapping[str, Any]) -> dict[str, Any] | None:
    pay = _as_int(data.get("pay_fen"))
    category, unit = str(data.get("category") or ""), str(data.get("pay_unit") or "")
    rate = catalog.going_rate_fen(category, unit)
    if pay is None or not rate or pay <= catalog.BAIT_PAY_FACTOR * rate:
        return None
    unit_zh = catalog.label(catalog.PAY_UNITS, unit)
    unit_en = catalog.label(catalog.PAY_UNITS, unit, "en")
    return _reason(
        "pay_far_above_going_rate",
        f"报酬 {pay / 100:.2f} {unit_zh} 远高于该行业通常水平 {rate / 100:.2f} {unit_zh}，"
        "疑似以高薪诱骗",
        f"Pay {pay / 100:.2f} {unit_en} is far above the going rate {rate / 100:.2f} {unit_en} "
        "(possible bait)",
        going_rate_fen=rate,
    )


def screen_job(
    data: Mapping[str, Any], employer: Any, extra_phrases: Iterable[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The reasons to hold this posting for review ([] when it may be dispatched at once)."""
    text = "\n".join(str(data.get(key) or "") for key in _FIELDS)
    findings = screen_text(text, compile_extra(extra_phrases or (), PHRASE_KINDS))
    reasons: list[dict[str, Any]] = []
    for kind in PHRASE_KINDS:
        of_kind = [f for f in findings if f.kind == kind]
        if of_kind:
            reasons.append(_text_reason(kind, of_kind))
    pay = _pay_reason(data)
    if pay:
        reasons.append(pay)
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


def warm_up() -> None:
    """Load the vocabulary, pinyin and converter tables now, not in the first posting's request."""
    screen_text("入職需交押 金¥300 ya jin，身份证交由公司保管")


warm_up()
