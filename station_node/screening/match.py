"""Finding vocabulary phrases in normalised text: as written, or as a homophone of them.

A plain hit is the phrase itself (its parts in order, gaps within one clause). Where the plain
text does not hold it, the phrase's pinyin is looked for; such a hit keeps at least half of the
phrase's own characters, or is typed in pinyin letters, so two unrelated words that merely
sound alike do not count.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from station_node.screening.normalise import Normalised
from station_node.screening.pinyin import Syllable, stream
from station_node.screening.vocabulary import Phrase

_HAN_NUMERALS = "零〇一二两三四五六七八九十百千万壹贰叁肆伍陆柒捌玖拾佰仟"
AMOUNT = re.compile(
    rf"[¥$]\d+(?:\.\d+)?|\d+(?:\.\d+)?(?:元|块|圆|rmb|yuan|¥)?|[{_HAN_NUMERALS}]+(?:元|块|圆)"
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
        """The text's syllables and, for each reading, the syllables that have it."""
        if self._syllables is None or self._index is None:
            self._syllables = stream(self.norm.text)
            index: dict[str, list[int]] = defaultdict(list)
            for n, syllable in enumerate(self._syllables):
                for reading in syllable.readings:
                    index[reading].append(n)
            self._index = index
        return self._syllables, self._index

    def crosses_break(self, start: int, end: int) -> bool:
        """Whether a clause break lies strictly inside text[start:end]."""
        return any(start < b < end for b in self.norm.breaks)


def _word_bounded(text: str, start: int, end: int) -> bool:
    """English phrases match whole words (a plural `s` allowed): `fee` is not in `coffee`."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    if after == "s" and (end + 1 >= len(text) or not text[end + 1].isalpha()):
        after = " "
    return not (before.isascii() and before.isalpha()) and not (after.isascii() and after.isalpha())


def _plain_hits(text: Text, phrase: Phrase) -> list[Hit]:
    hits: list[Hit] = []
    source = text.text
    if phrase.pattern is None:
        needle = phrase.parts[0]
        at = source.find(needle)
        while at >= 0:
            hits.append(Hit(phrase, at, at + len(needle)))
            at = source.find(needle, at + 1)
    elif phrase.parts[0] in source:
        for match in phrase.pattern.finditer(source):
            if not text.crosses_break(match.start(), match.end()):
                hits.append(Hit(phrase, match.start(), match.end()))
    if phrase.latin:
        hits = [h for h in hits if _word_bounded(source, h.start, h.end)]
    return hits


def _adjacent(before: Syllable, after: Syllable) -> bool:
    gap = after.start - before.end
    return gap == 0 or (gap == 1 and (before.typed or after.typed))


def _homophone_hits(text: Text, phrase: Phrase, taken: set[int]) -> list[Hit]:
    wanted = phrase.syllables
    if not wanted:
        return []
    syllables, index = text.syllables()
    hits: list[Hit] = []
    size = len(wanted)
    for first in index.get(wanted[0], ()):
        if first + size > len(syllables):
            continue
        run = syllables[first : first + size]
        if not all(wanted[k] in run[k].readings for k in range(1, size)):
            continue
        if not all(_adjacent(run[k], run[k + 1]) for k in range(size - 1)):
            continue
        start, end = run[0].start, run[-1].end
        if start in taken:
            continue
        own = phrase.parts[0]
        changed = sum(1 for k, s in enumerate(run) if not s.typed and text.text[s.start] != own[k])
        if changed * 2 <= size:
            hits.append(Hit(phrase, start, end, homophone=True))
    return hits


def find(text: Text, phrases: Iterable[Phrase], exceptions: Iterable[str] = ()) -> list[Hit]:
    """Every hit of these phrases, plain or homophone, outside the exception words."""
    excluded = _exception_spans(text.text, exceptions)
    hits: list[Hit] = []
    for phrase in phrases:
        plain = _plain_hits(text, phrase)
        hits.extend(plain)
        if phrase.syllables:
            hits.extend(_homophone_hits(text, phrase, {h.start for h in plain}))
    if excluded:
        hits = [h for h in hits if not any(s <= h.start < e for s, e in excluded)]
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
