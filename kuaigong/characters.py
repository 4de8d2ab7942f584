"""Which characters typed input may hold. Pure: no Flask, no database.

- Width folding only: the full-width ASCII forms (U+FF01–U+FF5E) become ASCII and the
  ideographic space (U+3000) a space — what an input method in full-width mode types. NFKC is
  not used: it would also read ² as 2 and ① as 1, and those are refused, never guessed.
- Identifiers (resident ID number, mobile, credit code) are folded, trimmed, stripped of the
  spaces, hyphens and invisible characters a person or a paste puts in, and upper-cased; a
  digit-like character other than 0-9 is kept, so the check that follows refuses it by name.
- Free text: invisible characters (zero-width, soft hyphen, fillers) are stripped; bidi
  controls and other control characters are found, for the caller to refuse.

Both apps read typed identifiers by these rules: the station (station_node.validation,
station_node.identity, forms) and the hub (central_hub.services.idnumbers); both apps' tests
feed the same cases (tests/data/identifiers.json).
"""

from __future__ import annotations

import re
import unicodedata

_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
ASCII_DIGITS = frozenset("0123456789")
# Direction controls: embeddings, overrides, isolates and marks. They reorder what the board
# and the kiosk show (a name can read as another), so text holding one is refused.
BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
# Characters that show nothing: zero-width space/joiners, word joiner, BOM, Mongolian vowel
# separator, soft hyphen, combining grapheme joiner, invisible operators, Hangul fillers.
INVISIBLE = frozenset(
    "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad\u034f\u2061\u2062\u2063\u2064"
    "\u115f\u1160\u3164\uffa0\u17b4\u17b5"
)
_BIDI_RE = re.compile("[" + "".join(sorted(BIDI)) + "]")
# Control characters (C0 but tab and line breaks, DEL, C1 but NEL) and lone surrogates.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\ud800-\udfff]")


def _invisible_class() -> re.Pattern[str]:
    """One character class of INVISIBLE and every other format character (Cf) but BIDI; format
    characters live below U+20000 and in the tag block U+E0000–U+E0FFF."""
    codes = [*range(0x20000), *range(0xE0000, 0xE1000)]
    chars = {chr(c) for c in codes if unicodedata.category(chr(c)) == "Cf"} - BIDI | INVISIBLE
    ranges: list[list[int]] = []
    for code in sorted(map(ord, chars)):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return re.compile("[" + "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges) + "]")


_INVISIBLE_RE = _invisible_class()
# Line and tab characters: kept (as \n and \t) in multi-line text, a space in one-line text.
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_MOBILE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212()]+")
_MOBILE_PREFIXES = ("+86", "0086", "86")


def fold_width(text: str) -> str:
    """Full-width ASCII forms to ASCII, the ideographic space to a space; nothing else changes."""
    return text.translate(_WIDTH)


def _drop_invisible(text: str) -> str:
    return _INVISIBLE_RE.sub("", text)


def normalise_id_number(text: str) -> str:
    """A typed resident ID number as stored and hashed: folded, no spaces or hyphens,
    upper-case X."""
    return _SEPARATORS.sub("", _drop_invisible(fold_width(text))).upper()


def normalise_mobile(text: str) -> str:
    """A typed mainland mobile: folded, no spaces, hyphens or brackets, without +86 / 0086 / 86."""
    digits = _MOBILE_SEPARATORS.sub("", _drop_invisible(fold_width(text)))
    for prefix in _MOBILE_PREFIXES:
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            return digits[len(prefix) :]
    return digits


def normalise_credit_code(text: str) -> str:
    """A typed unified social credit code: folded, no spaces or hyphens, upper-case."""
    return _SEPARATORS.sub("", _drop_invisible(fold_width(text))).upper()


def foreign_digits(text: str) -> list[str]:
    """The digit-like characters in `text` that are not 0-9 (١, ², ①, Ⅷ, 三 …), in order."""
    return [ch for ch in text if ch not in ASCII_DIGITS and (ch.isnumeric() or ch.isdigit())]


def is_invisible(ch: str) -> bool:
    """A character that shows nothing and is safe to drop (bidi controls are not among them)."""
    return ch in INVISIBLE or (unicodedata.category(ch) == "Cf" and ch not in BIDI)


def bidi_controls(text: str) -> list[str]:
    """The direction controls in `text`, in order."""
    return _BIDI_RE.findall(text)


def control_characters(text: str) -> list[str]:
    """Control characters (C0, DEL, C1) and lone surrogates, except the line breaks and tabs
    that `tidy_text` turns into \\n, \\t or a space."""
    return _CONTROL_RE.findall(text)


def tidy_text(text: str, *, multiline: bool) -> str:
    """Invisible characters dropped, line breaks made \\n (or a space in one-line text), trimmed."""
    text = _LINE_BREAKS.sub("\n", _drop_invisible(text))
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text.strip()


def describe(chars: list[str]) -> str:
    """The first few characters by code point, for a message (U+202E, U+0007)."""
    seen = list(dict.fromkeys(chars))[:3]
    return "、".join(f"U+{ord(ch):04X}" for ch in seen)
