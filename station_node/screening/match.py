"""Finding vocabulary phrases in normalised text: as written, or as a homophone of them.

A plain hit is the phrase itself (its parts in order, gaps within one clause). Where the plain
text does not hold it, the phrase's pinyin is looked for; each stand-in character must usually
be read that way, the hit stays within one clause, and it keeps at least half of the phrase's
own characters (or is typed in pinyin letters) unless the caller checks its context itself,
so two unrelated words that merely sound alike do not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from station_node.screening.normalise import Normalised
from station_node.screening.pinyin import Syllable, primary, stream
from station_node.screening.vocabulary import Phrase, PhraseSet

_HAN_NUMERALS = "零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟"
AMOUNT = re.compile(
    rf"(?:[¥$]|rmb|cny)\d+(?:\.\d+)?|\d+(?:\.\d+)?(?:元|块|圆|rmb|yuan|cny|¥)?"
    rf"|[{_HAN_NUMERALS}]+(?:元|块|圆)"
    # 三千八, 两百: no unit, but a magnitude
    rf"|[{_HAN_NUMERALS}]*[十百千万拾佰仟][{_HAN_NUMERALS}]*"
)


@dataclass(frozen=True)
class Hit:
    """Where a phrase was found in the normalised text."""

    phrase: Phrase
    start: int
    end: int
    homophone: bool = False


@dataclass
class Text:
    """Normalised text with its pinyin, built on first use."""

    norm: Normalised
    _syllables: list[Syllable] | None = field(default=None, repr=False)
    _index: dict[str, list[int]] | None = field(default=None, repr=False)

    @property
    def text(self) -> str:
        """The normalised text."""
        return self.norm.text

    def syllables(self) -> tuple[list[Syllable], dict[str, list[int]]]:
        """The text's syllables and, for each reading, which syllables have it (built once)."""
        if self._syllables is None or self._index is None:
            self._syllables = stream(self.norm.text)
            index: dict[str, list[int]] = {}
            for n, syllable in enumerate(self._syllables):
                for reading in syllable.readings:
                    index.setdefault(reading, []).append(n)
            self._index = index
        return self._syllables, self._index

    def crosses_break(self, start: int, end: int) -> bool:
        """Whether a clause break lies strictly inside text[start:end]."""
        return self.norm.crosses_break(start, end)


def _word_bounded(text: str, start: int, end: int) -> bool:
    """English phrases match whole words (a plural `s` allowed): `fee` is not in `coffee`."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if after == "s" and (end + 1 >= len(text) or not text[end + 1].isalpha()):
        after = " "
    return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())


def _plain_hits(text: Text, phrases: PhraseSet) -> list[Hit]:
    source = text.text
    hits: list[Hit] = []
    if phrases.plain is not None:
        for head in phrases.plain.finditer(source):
            found = head.group(1)
            hits.append(Hit(phrases.by_text[found], head.start(), head.start() + len(found)))
    for phrase in phrases.gapped:
        if phrase.pattern is None or phrase.parts[0] not in source:
            continue
        at = 0  # every start, so a match refused for crossing a clause does not hide a later one
        while (match := phrase.pattern.search(source, at)) is not None:
            if not text.crosses_break(match.start(), match.end()):
                hits.append(Hit(phrase, match.start(), match.end()))
            at = match.start() + 1
    return [h for h in hits if not h.phrase.latin or _word_bounded(source, h.start, h.end)]


def _adjacent(before: Syllable, after: Syllable) -> bool:
    gap = after.start - before.end
    return gap == 0 or (gap == 1 and (before.typed or after.typed))


def _homophone_hits(text: Text, phrases: PhraseSet, plain: list[Hit], loose: bool) -> list[Hit]:
    if not phrases.by_first_syllable:
        return []
    taken = {(h.phrase.text, h.start) for h in plain}
    syllables, index = text.syllables()
    hits: list[Hit] = []
    for head, heading in phrases.by_first_syllable.items():
        for first in index.get(head, ()):
            for phrase in heading:
                hit = _homophone_at(text, syllables, first, phrase, loose)
                if hit is not None and (phrase.text, hit.start) not in taken:
                    hits.append(hit)
    return hits


def _homophone_at(
    text: Text, syllables: list[Syllable], first: int, phrase: Phrase, loose: bool
) -> Hit | None:
    wanted = phrase.syllables or ()
    size = len(wanted)
    if first + 1 >= len(syllables) or not syllables[first + 1].reads(wanted[1]):
        return None
    run = syllables[first : first + size]
    if len(run) < size or not all(run[k].reads(wanted[k]) for k in range(1, size)):
        return None
    if not all(_adjacent(run[k], run[k + 1]) for k in range(size - 1)):
        return None
    own = phrase.parts[0]
    changed = [k for k, s in enumerate(run) if not s.typed and text.text[s.start] != own[k]]
    if not changed and not any(s.typed for s in run) or len(changed) * 2 > size and not loose:
        return None
    # a character standing in for another must be read that way first (大 is da, not dai)
    if any(primary(text.text[run[k].start]) != wanted[k] for k in changed):
        return None
    if text.crosses_break(run[0].start, run[-1].end):
        return None
    return Hit(phrase, run[0].start, run[-1].end, homophone=True)


def find(
    text: Text, phrases: PhraseSet, exceptions: Iterable[str] = (), loose: bool = False
) -> list[Hit]:
    """Every hit of these phrases, plain or homophone, outside the exception words.

    `loose`: a homophone may change every character (the caller checks its context instead).
    """
    hits = _plain_hits(text, phrases)
    hits.extend(_homophone_hits(text, phrases, hits, loose))
    excluded = _exception_spans(text.text, exceptions)
    if excluded:
        # an exception word at either end of a hit: 押运 in 押…工资, 物业费 in 缴纳…费
        hits = [h for h in hits if not any(s <= h.start < e or s < h.end <= e for s, e in excluded)]
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    return hits


def _exception_spans(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for word in words:
        at = text.find(word)
        while at >= 0:
            spans.append((at, at + len(word)))
            at = text.find(word, at + 1)
    return spans


def amount_at(text: str, at: int) -> re.Match[str] | None:
    """A money amount starting at `at` (digits with or without 元/块/¥, or 二百元)."""
    return AMOUNT.match(text, at)


def nonzero(amount: str) -> bool:
    """Whether an amount is more than nothing (0元 and 零元 are not)."""
    digits = [c for c in amount if c.isdigit() or c in _HAN_NUMERALS]
    return any(c not in "0零〇" for c in digits)


def has_unit(amount: str) -> bool:
    """Whether an amount says it is money (元, 块, ¥, rmb …), not a bare number."""
    return amount.endswith(("元", "块", "圆", "¥", "rmb", "yuan", "cny")) or amount.startswith(
        ("¥", "$", "rmb", "cny")
    )
