"""Posting text reduced to the form screening matches on, with a map back to the original words.

NFKC (full-width letters and digits become ASCII), traditional characters become simplified
(opencc t2s), English is case-folded, format characters (zero-width, bidi controls, soft
hyphens) and variation selectors are dropped, and every run of spaces, punctuation and symbols
is removed — except that two English words keep one space between them. Where a removed run
held a clause mark (，。；！？, a line break …) the position is kept as a clause break, so
negation never reaches across clauses even though `押，金` still reads as 押金.
"""

from __future__ import annotations

import bisect
import functools
import unicodedata
from dataclasses import dataclass
from typing import Any

import opencc

# Marks that end a clause: a negation before one does not reach a fee after it.
_CLAUSE_MARKS = frozenset("，。；;！!？?\n\r\u2028\u2029,.：:|/\\~～…—")
# Symbols kept as text because they carry meaning for screening (money).
_KEPT_SYMBOLS = frozenset("¥$€£%")
_DROPPED_MARKS = frozenset({"Cf", "Mn", "Me", "Cc", "Co", "Cs", "Cn"})
# Blank letters that render as nothing (Hangul fillers), dropped like zero-width characters.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0")


@dataclass(frozen=True)
class Normalised:
    """Normalised text; `origin[i]` is the index in `source` that `text[i]` came from."""

    source: str
    text: str
    origin: tuple[int, ...]
    breaks: frozenset[int]  # i in breaks: a clause ended just before text[i]

    def quote(self, start: int, end: int) -> str:
        """The original words behind text[start:end], separators and all."""
        if start >= end or not self.origin:
            return ""
        return self.source[self.origin[start] : self.origin[end - 1] + 1]

    def separator(self, start: int, end: int) -> str:
        """The original characters dropped between text[start - 1] and text[end]."""
        if start <= 0 or end >= len(self.text):
            return ""
        return self.source[self.origin[start - 1] + 1 : self.origin[end]]

    @functools.cached_property
    def _ordered_breaks(self) -> list[int]:
        return sorted(self.breaks)

    def clause_start(self, at: int) -> int:
        """Where the clause holding text[at] starts."""
        ordered = self._ordered_breaks
        n = bisect.bisect_right(ordered, at)
        return ordered[n - 1] if n else 0

    def clause_end(self, at: int) -> int:
        """Where the clause holding text[at] ends (exclusive)."""
        ordered = self._ordered_breaks
        n = bisect.bisect_right(ordered, at)
        return ordered[n] if n < len(ordered) else len(self.text)

    def crosses_break(self, start: int, end: int) -> bool:
        """Whether a clause break lies strictly inside text[start:end]."""
        ordered = self._ordered_breaks
        n = bisect.bisect_right(ordered, start)
        return n < len(ordered) and ordered[n] < end


@functools.cache
def _converter() -> Any:
    return opencc.OpenCC("t2s")


def is_han(char: str) -> bool:
    """Whether `char` is a CJK ideograph (the unified blocks and their extensions)."""
    code = ord(char)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
        or code == 0x3007  # 〇
    )


def _kept(char: str) -> bool:
    return char.isalnum() or char in _KEPT_SYMBOLS


def _widen(source: str) -> tuple[list[str], list[int]]:
    """NFKC and case-fold each character, dropping format and combining marks."""
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(source):
        if char.isascii() and char.isprintable() or "\u4e00" <= char <= "\u9fff":
            chars.append(char.lower())
            origin.append(index)
            continue
        for piece in _latin_base(unicodedata.normalize("NFKC", char).casefold()):
            if (
                unicodedata.category(piece) in _DROPPED_MARKS
                and piece not in "\n\r"
                or piece in _BLANK_LETTERS
            ):
                continue
            chars.append(piece)
            origin.append(index)
    return chars, origin


def _latin_base(text: str) -> str:
    """Latin letters without their accents or tone marks (yā jīn → ya jin); others unchanged."""
    if text.isascii() or not any(unicodedata.category(c).startswith("L") for c in text):
        return text
    out = []
    for char in text:
        base = unicodedata.normalize("NFD", char)[0]
        out.append(base if base.isascii() and base.isalpha() and not char.isascii() else char)
    return "".join(out)


def _simplify(chars: list[str]) -> list[str]:
    """Traditional to simplified, keeping one character for one character."""
    if all(char.isascii() for char in chars):
        return chars
    joined = "".join(chars)
    converted = _converter().convert(joined)
    if len(converted) == len(joined):
        return list(converted)
    return [
        _converter().convert(char) if len(_converter().convert(char)) == 1 else char
        for char in chars
    ]


def normalise(source: str) -> Normalised:
    """The matching form of `source` with its map back to the original."""
    chars, origin = _widen(source)
    chars = _simplify(chars)
    text: list[str] = []
    kept_origin: list[int] = []
    breaks: set[int] = set()
    pending_space = pending_break = False
    for char, index in zip(chars, origin, strict=True):
        if not _kept(char):
            pending_space = pending_space or char.isspace() or char in "-_'"
            pending_break = pending_break or char in _CLAUSE_MARKS
            continue
        if text:
            if pending_break:
                breaks.add(len(text))
            before = text[-1]
            if pending_space and _latin(before) and _latin(char):
                text.append(" ")
                kept_origin.append(index)
        text.append(char)
        kept_origin.append(index)
        pending_space = pending_break = False
    return Normalised(source, "".join(text), tuple(kept_origin), frozenset(breaks))


def _latin(char: str) -> bool:
    return char.isascii() and char.isalpha()


def normalise_text(text: str) -> str:
    """The normalised form screening matches on (for storing and de-duplicating phrases)."""
    return normalise(text).text
