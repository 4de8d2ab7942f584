"""Pinyin of normalised text, for catching homophone spellings (压金, 保正金, "ya jin" for 押金).

Each Chinese character stands for every reading it has (tones dropped), so a polyphonic
character matches whichever reading a phrase needs; a run of English letters that splits
wholly into pinyin syllables ("yajin", "ya jin") stands for those syllables.
"""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

_MAX_SYLLABLE = 6  # "zhuang", "shuang"


@dataclass(frozen=True)
class Syllable:
    """One syllable of the text: the readings it may have, where it sits, and whether typed."""

    readings: frozenset[str]
    start: int
    end: int
    typed: bool  # written in Latin letters rather than as a character


def _plain(reading: str) -> str:
    """`lǜ` → `lv`, `yā` → `ya`."""
    reading = reading.replace("ü", "v").replace("ǖ", "v").replace("ǘ", "v").replace("ǚ", "v").replace("ǜ", "v")
    return "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))


@functools.cache
def _table() -> dict[int, str]:
    from pypinyin.constants import PINYIN_DICT

    return PINYIN_DICT  # type: ignore[no-any-return]


@functools.lru_cache(maxsize=8192)
def readings(char: str) -> frozenset[str]:
    """Every toneless reading of a Chinese character (empty when it has none)."""
    raw = _table().get(ord(char))
    return frozenset(_plain(r) for r in raw.split(",")) if raw else frozenset()


@functools.cache
def _valid() -> frozenset[str]:
    """Every pinyin syllable (toneless), from the readings of all characters."""
    return frozenset(_plain(r) for value in _table().values() for r in value.split(","))


def syllables_of(phrase: str) -> tuple[str, ...]:
    """The pinyin of a phrase as a reader would say it (polyphones resolved in context)."""
    from pypinyin import Style, lazy_pinyin

    return tuple(_plain(s) for s in lazy_pinyin(phrase, style=Style.NORMAL, v_to_u=False))


def _split_latin(word: str) -> list[str] | None:
    """Split a run of letters into pinyin syllables, longest first (None if it does not split)."""
    valid = _valid()

    def split(rest: str) -> list[str] | None:
        if not rest:
            return []
        for size in range(min(_MAX_SYLLABLE, len(rest)), 0, -1):
            head = rest[:size]
            if head in valid:
                tail = split(rest[size:])
                if tail is not None:
                    return [head, *tail]
        return None

    return split(word) if len(word) <= 40 else None


def stream(text: str) -> list[Syllable]:
    """The syllables of normalised text, in order; other characters are left out."""
    out: list[Syllable] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isascii() and char.isalpha():
            j = i
            while j < n and text[j].isascii() and text[j].isalpha():
                j += 1
            parts = _split_latin(text[i:j])
            if parts:
                at = i
                for part in parts:
                    out.append(Syllable(frozenset((part,)), at, at + len(part), True))
                    at += len(part)
            i = j
            continue
        found = readings(char)
        if found:
            out.append(Syllable(found, i, i + 1, False))
        i += 1
    return out
