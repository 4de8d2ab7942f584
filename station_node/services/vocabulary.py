"""Screening vocabulary that staff extend: phrases a station admin adds here, and the city's
phrases (hub rules of kind `screening_phrase`, kept by the sync client), both handed to
`screening.screen_job` with every posting.

A phrase is stored normalised the way screening reads postings (full-width folded, spaces and
punctuation gone, traditional → simplified, case-folded), once per kind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import peewee

from kuaigong import clock
from kuaigong.errors import FieldErrors, Forbidden, NotFound
from station_node import changelog, db
from station_node.hub_records import CityRule
from station_node.models import ScreeningPhrase, Staff
from station_node.services import require_staff, screening
from station_node.validation import clean_text

PHRASE_KINDS: tuple[str, ...] = screening.PHRASE_KINDS  # what a phrase may flag
KIND_LABELS: dict[str, tuple[str, str]] = {
    "asks_for_money": ("向劳动者收钱（押金、各类费用）", "Asks workers for money (deposits, fees)"),
    "withholds_id_card": ("扣押身份证或证件", "Keeps workers' ID cards"),
    "training_trap": ("招转培、培训贷", "Paid-training or training-loan trap"),
    "bait_wording": (
        "诱骗性用语（高薪无门槛、刷单等）",
        "Bait wording (easy high pay, fake orders …)",
    ),
}
CITY_RULE_KIND = "screening_phrase"
TYPED_MAX = 64  # characters as typed
PHRASE_MIN, PHRASE_MAX = 2, 32  # characters once normalised: one character would hold everything


def normalise(text: str) -> str:
    """A phrase as screening matches it."""
    return screening.normalise_text(text)


def require_admin(actor: Staff | None) -> Staff:
    """The acting station admin; Forbidden for plain staff."""
    staff = require_staff(actor)
    if staff.role != "admin":
        raise Forbidden(
            "admin_only",
            "只有驿站管理员可以修改筛查词库",
            "Only a station admin may change the screening vocabulary",
        )
    return staff


def clean_phrase(
    data: Mapping[str, Any], errs: FieldErrors
) -> tuple[str | None, str | None, str | None]:
    """Kind, normalised phrase and typed phrase of a posted phrase (errors named per field)."""
    kind = data.get("kind")
    if kind in (None, ""):
        errs.add("kind", "required", "请选择词语类别", "Choose the kind of phrase")
        kind = None
    elif not isinstance(kind, str) or kind not in PHRASE_KINDS:
        errs.add(
            "kind",
            "unknown_choice",
            "词语类别不正确",
            f"Unknown kind; one of {', '.join(PHRASE_KINDS)}",
        )
        kind = None
    typed = clean_text(data.get("phrase"), errs, "phrase", "词语", "Phrase", max_len=TYPED_MAX)
    phrase = normalise(typed) if typed else None
    if typed and not phrase:
        errs.add(
            "phrase",
            "empty_after_normalising",
            "去掉空格和标点后词语为空",
            "The phrase is empty without its spaces and punctuation",
        )
    elif phrase and len(phrase) < PHRASE_MIN:
        errs.add(
            "phrase",
            "too_short",
            f"词语至少{PHRASE_MIN}个字（不计空格和标点）",
            f"The phrase needs at least {PHRASE_MIN} characters "
            "(spaces and punctuation not counted)",
        )
    elif phrase and len(phrase) > PHRASE_MAX:
        errs.add(
            "phrase",
            "too_long",
            f"词语去掉空格和标点后不能超过{PHRASE_MAX}个字",
            f"The phrase must be at most {PHRASE_MAX} characters without spaces and punctuation",
        )
    return kind, phrase, typed


def add_phrase(data: Mapping[str, Any], actor: Staff | None) -> ScreeningPhrase:
    """A station admin adds a phrase (422 naming the field when bad or already listed)."""
    staff = require_admin(actor)
    errs = FieldErrors()
    if not isinstance(data, Mapping):
        errs.add(
            "body",
            "wrong_type",
            "提交的内容应为表单或 JSON 对象",
            "The body must be a form or JSON object",
        )
        errs.raise_if_any()
    kind, phrase, typed = clean_phrase(data, errs)
    errs.raise_if_any()
    now = clock.now()
    with db.atomic():
        if ScreeningPhrase.get_or_none(
            (ScreeningPhrase.kind == kind) & (ScreeningPhrase.phrase == phrase)
        ):
            _duplicate(errs, str(phrase))
        try:
            row = ScreeningPhrase.create(
                kind=kind, phrase=phrase, typed=typed, added_by=staff.username, added_at=now
            )
        except peewee.IntegrityError:
            _duplicate(errs, str(phrase))
        changelog.record(
            "screening_phrase",
            row.id,
            "create",
            {
                "kind": kind,
                "phrase": phrase,
                "typed": typed,
                "added_by": staff.username,
                "added_at": now,
            },
        )
    return row


def _duplicate(errs: FieldErrors, phrase: str) -> None:
    errs.add(
        "phrase",
        "duplicate",
        f"词库中已有该词语（{phrase}）",
        f"The vocabulary already has this phrase ({phrase})",
    )
    errs.raise_if_any()


def remove_phrase(phrase_id: str, actor: Staff | None) -> ScreeningPhrase:
    """A station admin removes a phrase; postings from now on no longer match it."""
    staff = require_admin(actor)
    with db.atomic():
        row = ScreeningPhrase.get_or_none(ScreeningPhrase.id == str(phrase_id))
        if row is None:
            raise NotFound("该词语", "Phrase")
        ScreeningPhrase.delete().where(ScreeningPhrase.id == row.id).execute()
        changelog.record(
            "screening_phrase",
            row.id,
            "delete",
            {
                "kind": row.kind,
                "phrase": row.phrase,
                "removed_by": staff.username,
                "removed_at": clock.now(),
            },
        )
    return row


def station_phrases() -> list[ScreeningPhrase]:
    """The station's own phrases, by kind then phrase."""
    return list(ScreeningPhrase.select().order_by(ScreeningPhrase.kind, ScreeningPhrase.phrase))


def city_phrases() -> list[dict[str, str]]:
    """The city's phrases in force here (from the hub's rules), normalised; bad ones skipped."""
    rows = (
        CityRule.select(CityRule.id, CityRule.body)
        .where((CityRule.kind == CITY_RULE_KIND) & CityRule.active)
        .order_by(CityRule.hub_seq)
    )
    out = []
    for rule in rows:
        body = rule.body if isinstance(rule.body, dict) else {}
        kind, typed = body.get("phrase_kind"), body.get("phrase")
        phrase = normalise(typed) if isinstance(typed, str) else ""
        if kind in PHRASE_KINDS and PHRASE_MIN <= len(phrase) <= PHRASE_MAX:
            out.append(
                {
                    "kind": str(kind),
                    "phrase": phrase,
                    "typed": str(body.get("typed") or typed),
                    "rule_id": str(rule.id),
                }
            )
    return out


def active_phrases() -> list[dict[str, str]]:
    """Every extra phrase screening uses here: the station's and the city's, each once."""
    seen: set[tuple[str, str]] = set()
    out = []
    station = [
        {"kind": r.kind, "phrase": r.phrase}
        for r in ScreeningPhrase.select(ScreeningPhrase.kind, ScreeningPhrase.phrase)
    ]
    for item in (*station, *city_phrases()):
        key = (item["kind"], item["phrase"])
        if key not in seen:
            seen.add(key)
            out.append({"kind": item["kind"], "phrase": item["phrase"]})
    return out


def kind_label(kind: str, language: str = "zh") -> str:
    """A phrase kind in the page's language."""
    zh, en = KIND_LABELS.get(kind, (kind, kind))
    return en if language == "en" else zh
