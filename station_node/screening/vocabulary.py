"""Screening's vocabulary: the shipped phrase lists (vocabulary.json) compiled for matching.

The lists are data, written in simplified Chinese; each phrase is normalised the same way as
the posting text. A `*` inside a phrase stands for a short gap within one clause. Phrases added
at run time (by station admins or city rules) are compiled the same way and cached.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any

from station_node.screening.normalise import is_han, normalise_text
from station_node.screening.pinyin import syllables_of

GAP_HAN = 6  # characters a `*` may stand for between Chinese words
GAP_LATIN = 30  # and between English words


@dataclass(frozen=True)
class Phrase:
    """One vocabulary phrase, normalised, with what matching it needs."""

    text: str  # as listed (normalised parts joined by `*`)
    parts: tuple[str, ...]
    pattern: re.Pattern[str] | None  # for phrases with gaps
    syllables: tuple[str, ...] | None  # pinyin, when homophones of it are looked for

    latin: bool  # starts or ends with an English letter (matched as whole words)


def _latin(char: str) -> bool:
    return bool(char) and char.isascii() and char.isalpha()


@functools.lru_cache(maxsize=4096)
def compile_phrase(text: str) -> Phrase | None:
    """A phrase ready for matching (None when nothing is left after normalising)."""
    parts = tuple(p for p in (normalise_text(part) for part in text.split("*")) if p)
    if not parts:
        return None
    pattern = None
    if len(parts) > 1:
        gap = GAP_LATIN if any(_latin(p[:1]) for p in parts) else GAP_HAN
        pattern = re.compile(f".{{0,{gap}}}?".join(re.escape(p) for p in parts))
    syllables = None
    if len(parts) == 1 and len(parts[0]) >= 2 and all(is_han(c) for c in parts[0]):
        syllables = syllables_of(parts[0])
    latin = _latin(parts[0][:1]) or _latin(parts[-1][-1:])
    return Phrase("*".join(parts), parts, pattern, syllables, latin)


@dataclass(frozen=True)
class PhraseSet:
    """Phrases indexed for one pass over a text: one pattern for the plain ones, pinyin heads."""

    phrases: tuple[Phrase, ...]
    plain: re.Pattern[str] | None  # every gap-free phrase, longest first, found at each position
    by_text: dict[str, Phrase]
    gapped: tuple[Phrase, ...]
    by_first_syllable: dict[str, tuple[Phrase, ...]]

    def __hash__(self) -> int:
        return hash(self.phrases)


@functools.lru_cache(maxsize=256)
def phrase_set(phrases: tuple[Phrase, ...]) -> PhraseSet:
    """Index these phrases for matching."""
    single = sorted((p for p in phrases if p.pattern is None), key=lambda p: -len(p.parts[0]))
    plain = None
    if single:
        plain = re.compile("(?=(" + "|".join(re.escape(p.parts[0]) for p in single) + "))")
    heads: dict[str, list[Phrase]] = {}
    for phrase in phrases:
        if phrase.syllables:
            heads.setdefault(phrase.syllables[0], []).append(phrase)
    return PhraseSet(
        phrases,
        plain,
        {p.parts[0]: p for p in single},
        tuple(p for p in phrases if p.pattern is not None),
        {head: tuple(found) for head, found in heads.items()},
    )


def compile_phrases(texts: Iterable[str]) -> tuple[Phrase, ...]:
    """Compile a list of phrases, dropping empty and repeated ones."""
    seen: dict[str, Phrase] = {}
    for text in texts:
        phrase = compile_phrase(text)
        if phrase is not None:
            seen.setdefault(phrase.text, phrase)
    return tuple(seen.values())


def _plain_set(texts: Iterable[str]) -> PhraseSet:
    """Phrases matched only as written: helper words (工资, 退还) have no homophones worth
    finding."""
    return phrase_set(tuple(replace(p, syllables=None) for p in compile_phrases(texts)))


def _words(texts: Iterable[str]) -> frozenset[str]:
    return frozenset(w for w in (normalise_text(t) if t.strip() else t for t in texts) if w)


@dataclass(frozen=True, eq=False)
class Vocabulary:
    """Every list screening reads, compiled (one object, compared and hashed by identity)."""

    money: PhraseSet
    money_words: frozenset[str]  # the fee words that may stand in a list (押金、保证金)
    pay_verbs: frozenset[str]
    pays_before_amount: PhraseSet
    money_exceptions: tuple[str, ...]
    payouts: tuple[
        str, ...
    ]  # words in 金 or 费 that are not asked of the worker (奖金, 金额, 加班费)
    not_fee_heads: tuple[str, ...]  # 免费, 收费: 费 closing a verb, not a fee's name
    refunds: PhraseSet  # a refund promised later (年底返, 干满…退)
    customers: tuple[str, ...]  # who pays fees the worker collects (客户, 住户)
    duties: tuple[str, ...]
    not_duties: tuple[str, ...]
    collecting: tuple[str, ...]
    titles: tuple[str, ...]  # a fee naming a job or counter (押金退还专员)
    wages: PhraseSet
    wage_verbs: PhraseSet
    wage_exceptions: tuple[str, ...]
    lawful_deductions: tuple[str, ...]  # 社保, 个税: deductions from wages the law allows
    wage_gaps: tuple[int, int]  # characters from wage word to verb, and from verb to wage word
    documents: PhraseSet
    keeping_before: PhraseSet
    keeping_after: PhraseSet
    not_the_card: tuple[str, ...]
    only_checked: tuple[str, ...]
    kept: tuple[str, ...]
    card_exceptions: tuple[str, ...]
    not_keeping: tuple[str, ...]
    anaphors: tuple[str, ...]  # the document named again at the start of the next clause (卡由…)
    training_always: PhraseSet
    training: PhraseSet
    training_money: PhraseSet
    training_priced: PhraseSet
    training_loans: PhraseSet
    loans_for_other_things: tuple[str, ...]
    bait: PhraseSet
    bait_exceptions: tuple[str, ...]
    bait_home: PhraseSet
    bait_tasks: PhraseSet
    bait_pair_reach: int
    negators_before: frozenset[str]
    negators_after: frozenset[str]
    fillers: frozenset[str]
    contrast: frozenset[str]
    fee_modifiers: frozenset[str]  # what a fee is for (罚款押金): a negator reaches across them
    charging: frozenset[str]
    warnings: tuple[str, ...]
    employer_before: frozenset[str]
    employer_after: frozenset[str]
    bearing_verbs: tuple[str, ...]
    bearers: tuple[str, ...]
    not_the_employer: tuple[str, ...]
    to_worker: tuple[str, ...]


def _texts(section: dict[str, Any], key: str) -> list[str]:
    return [str(item) for item in section.get(key, [])]


@functools.cache
def vocabulary() -> Vocabulary:
    """The shipped vocabulary (read and compiled once)."""
    raw = json.loads(
        resources.files("station_node.screening").joinpath("vocabulary.json").read_text("utf-8")
    )
    money, card = raw["asks_for_money"], raw["withholds_id_card"]
    training, bait = raw["training_trap"], raw["bait_wording"]
    negation, employer = raw["negation"], raw["employer_pays"]
    customers, wages = raw["collected_from_customers"], raw["withheld_wages"]
    money_phrases = phrase_set(compile_phrases(_texts(money, "phrases")))
    return Vocabulary(
        money=money_phrases,
        money_words=frozenset(p.text for p in money_phrases.phrases if len(p.parts) == 1),
        pay_verbs=_words(_texts(money, "pay_verbs")),
        pays_before_amount=phrase_set(compile_phrases(_texts(money, "pays_before_amount"))),
        money_exceptions=tuple(_words(_texts(money, "exceptions"))),
        payouts=tuple(_words(_texts(money, "payouts"))),
        not_fee_heads=tuple(_words(_texts(money, "not_fee_heads"))),
        refunds=_plain_set(_texts(money, "refunds")),
        customers=tuple(_words(_texts(customers, "payers"))),
        duties=tuple(_words(_texts(customers, "duties"))),
        not_duties=tuple(_words(_texts(customers, "not_duties"))),
        collecting=tuple(_words(_texts(customers, "collecting"))),
        titles=tuple(_words(_texts(customers, "titles"))),
        wages=_plain_set(_texts(wages, "wages")),
        wage_verbs=_plain_set(_texts(wages, "verbs")),
        wage_exceptions=tuple(_words(_texts(wages, "verb_exceptions"))),
        lawful_deductions=tuple(_words(_texts(wages, "lawful"))),
        wage_gaps=(int(wages.get("wage_then_verb", 8)), int(wages.get("verb_then_wage", 6))),
        documents=phrase_set(compile_phrases(_texts(card, "documents"))),
        keeping_before=phrase_set(compile_phrases(_texts(card, "keeping_before"))),
        keeping_after=phrase_set(compile_phrases(_texts(card, "keeping_after"))),
        not_the_card=tuple(_words(_texts(card, "not_the_card"))),
        only_checked=tuple(_words(_texts(card, "only_checked"))),
        kept=tuple(_words(_texts(card, "kept"))),
        card_exceptions=tuple(_words(_texts(card, "exceptions"))),
        not_keeping=tuple(_words(_texts(card, "not_keeping"))),
        anaphors=tuple(sorted(_words(_texts(card, "anaphors")), key=len, reverse=True)),
        training_always=phrase_set(compile_phrases(_texts(training, "always"))),
        training=phrase_set(compile_phrases(_texts(training, "training"))),
        training_money=phrase_set(compile_phrases(_texts(training, "money"))),
        training_priced=phrase_set(compile_phrases(_texts(training, "priced"))),
        training_loans=phrase_set(compile_phrases(_texts(training, "loans"))),
        loans_for_other_things=tuple(_words(_texts(training, "loans_for_other_things"))),
        bait=phrase_set(compile_phrases(_texts(bait, "always"))),
        bait_exceptions=tuple(_words(_texts(bait, "exceptions"))),
        bait_home=_plain_set(_texts(bait, "home")),
        bait_tasks=_plain_set(_texts(bait, "tasks")),
        bait_pair_reach=int(bait.get("pair_reach", 40)),
        negators_before=_words(_texts(negation, "before")),
        negators_after=_words(_texts(negation, "after")),
        fillers=_words(_texts(negation, "fillers")) | {" "},
        contrast=_words(_texts(negation, "contrast")),
        fee_modifiers=_words(_texts(negation, "fee_modifiers")),
        charging=_words(_texts(negation, "charging")),
        warnings=tuple(_words(_texts(negation, "warnings"))),
        employer_before=_words(_texts(employer, "before")),
        employer_after=_words(_texts(employer, "after")),
        bearing_verbs=tuple(_words(_texts(employer, "bearing_verbs"))),
        bearers=tuple(_words(_texts(employer, "bearers"))),
        not_the_employer=tuple(_words(_texts(employer, "not_the_employer"))),
        to_worker=tuple(_words(_texts(employer, "to_worker"))),
    )
