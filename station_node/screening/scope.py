"""What a negation reaches, whether the employer bears a cost, and money amounts beside a word.

A negator clears a fee only when what stands between them belongs to that fee: fillers
(任何, 额外, 的 …) and other fees of the same list (不收押金、保证金). After a paying verb
(不收…, 无需缴纳…) it also reaches across a few words naming the fee (不收车辆押金). Anything
else between — another object (无需经验押金), a contrast (免押金但需交保证金), a clause
break (不用加班，押金300) — leaves the fee standing. After the fee, a negator clears it only
when it closes the clause (押金全免, 押金：无) and does not start a clause about something else
(押金，无需经验). A money amount right beside a fee (押金200元) is a demand whatever precedes.
"""

from __future__ import annotations

import functools
import re

from station_node.screening.match import AMOUNT, Text, amount_at, has_unit, nonzero
from station_node.screening.vocabulary import Vocabulary

# A label's value dashed out (押金：— / 押金：／), up to the end of its line.
_EMPTY_VALUE = re.compile(r"^[ \t\u3000]*[:：][ \t\u3000]*[-—–─－/／×✗]+[ \t\u3000]*(?:[\n\r]|$)")
_REACH = 48  # characters a negation, warning or amount is looked for around a word
_WORD_MAX = 16  # the longest listed word, in characters
_MODIFIER_MAX = 4  # characters naming the fee between a paying verb and it: 不收(车辆)押金
# Counters after a bare number: 100单, 3个月, 两小时 count things, they are not money.
_COUNTERS = tuple("单件个人次天周月年小时份张箱台趟批位名号条斤公里米层户家") + (
    "多单",
    "多件",
    "多个",
    "多人",
    "多天",
    "多次",
)
_CUSTOMER_REACH = 16  # characters before a fee where a customer who pays it is looked for


@functools.lru_cache(maxsize=4)
def _tables(
    vocab: Vocabulary,
) -> tuple[dict[str, str], frozenset[str], tuple[str, ...], frozenset[str], frozenset[str]]:
    """Word classes for reading gaps; words linking a fee to its amount, that a modifier lacks,
    that continue a list of fees, and that lead from a fee to who bears it."""
    tokens: dict[str, str] = dict.fromkeys(vocab.fee_modifiers, "modifier")
    for kind, words in (
        ("contrast", vocab.contrast),
        ("filler", vocab.fillers),
        ("pay", vocab.pay_verbs),
        ("fee", vocab.money_words),
    ):
        tokens.update(dict.fromkeys(words, kind))
    linking = (
        vocab.fillers
        | vocab.pay_verbs
        | frozenset({"共", "约", "合计", "共计", "总计", "一共", "每人", "每月", "每年", "一年"})
    )
    blockers = tuple(vocab.contrast | vocab.pay_verbs | vocab.negators_before)
    listing = vocab.fillers | vocab.money_words
    bearing = vocab.money_words | frozenset({"用", "由", "全部", "全额", "均", "都"})
    return tokens, linking, blockers, listing, bearing


@functools.lru_cache(maxsize=4)
def _longest(vocab: Vocabulary) -> int:
    """The longest word a gap may be split into."""
    return max(len(w) for w in _tables(vocab)[0])


@functools.lru_cache(maxsize=16)
def _heads(words: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """The words by their first character, for looking them up at each position."""
    heads: dict[str, list[str]] = {}
    for word in words:
        heads.setdefault(word[0], []).append(word)
    return {char: tuple(found) for char, found in heads.items()}


class Scope:
    """Negation and cost questions about one posting's normalised text."""

    def __init__(self, text: Text, vocab: Vocabulary) -> None:
        self.text = text
        self.vocab = vocab
        self._tokens, self._linking, self._blockers, self._listing, self._bearing = _tables(vocab)
        self._longest = _longest(vocab)
        self._reached: dict[tuple[str, str], bool] = {}

    def tokenise(self, gap: str) -> list[str] | None:
        """Split `gap` into known words, longest first (None if something else is there)."""
        out: list[str] = []
        i = 0
        while i < len(gap):
            for size in range(min(self._longest, len(gap) - i), 0, -1):
                if gap[i : i + size] in self._tokens:
                    out.append(gap[i : i + size])
                    i += size
                    break
            else:
                return None
        return out

    def _reaches(self, negator: str, gap: str) -> bool:
        """Whether `negator` reaches across `gap` to the word right after it."""
        key = (negator, gap)
        if key not in self._reached:
            self._reached[key] = self._reaches_uncached(negator, gap)
        return self._reached[key]

    def _reaches_uncached(self, negator: str, gap: str) -> bool:
        tokens = self.tokenise(gap)
        if tokens is not None:
            after_fee = named = False
            for token in tokens:
                kind = self._tokens[token]
                if after_fee and (token in self.vocab.contrast or kind == "pay"):
                    return False
                if kind == "contrast" and token not in self.vocab.fillers:
                    return False
                if named and kind not in ("modifier", "fee"):
                    # what a fee is for stands right before it (无罚款押金, not 包住宿需交押金)
                    return False
                after_fee = after_fee or kind == "fee"
                named = kind == "modifier"
            return True
        rest = gap
        if negator.isascii():  # "no agency fee": an English negator reaches across two words
            words = [w for w in rest.split(" ") if w and w not in self.vocab.fillers]
            blockers = self.vocab.contrast | self.vocab.pay_verbs
            return len(words) <= 2 and not any(w in blockers for w in words)
        if not self._suffix(negator, self.vocab.pay_verbs) and negator not in self.vocab.charging:
            rest = self._strip_fillers(rest)
            verb = self._prefix(rest, self.vocab.pay_verbs)
            if not verb:
                return False
            rest = rest[len(verb) :]
        rest = self._strip_fillers(rest)
        while rest and self._suffix(rest, self.vocab.fillers):
            rest = rest[: -len(self._suffix(rest, self.vocab.fillers))]
        if len(rest) > _MODIFIER_MAX:
            return False
        return not any(word in rest for word in self._blockers if len(word) <= len(rest))

    def _strip_fillers(self, rest: str) -> str:
        while rest and (word := self._prefix(rest, self.vocab.fillers)):
            rest = rest[len(word) :]
        return rest

    @staticmethod
    def _prefix(text: str, words: frozenset[str], at: int = 0) -> str:
        for size in range(min(_WORD_MAX, len(text) - at), 0, -1):
            if text[at : at + size] in words:
                return text[at : at + size]
        return ""

    @staticmethod
    def _suffix(text: str, words: frozenset[str]) -> str:
        for size in range(min(_WORD_MAX, len(text)), 0, -1):
            if text[-size:] in words:
                return text[-size:]
        return ""

    def negated_before(
        self, start: int, floor: int = 0, words: frozenset[str] | None = None
    ) -> bool:
        """Whether a negator earlier in the clause (not before `floor`) reaches text[start]."""
        text = self.text.text
        begin = max(self.text.norm.clause_start(start), floor, start - _REACH)
        window = text[begin:start]
        heads = _heads(words if words is not None else self.vocab.negators_before)
        for at in range(len(window) - 1, -1, -1):  # the nearest negator first
            for word in heads.get(window[at], ()):
                if window.startswith(word, at) and self._reaches(word, window[at + len(word) :]):
                    return True
        return False

    def _skip_list(self, at: int) -> int:
        """Past fillers and further fees of a list after text[at] (押金、保证金全免)."""
        text = self.text.text
        limit = min(len(text), at + _REACH)
        while at < limit:
            word = self._prefix(text, self._listing, at)
            if not word:
                break
            at += len(word)
        return at

    def negated_after(self, end: int) -> bool:
        """Whether the fee ending at `end` is declared void right after it (押金全免, 押金0元)."""
        text, norm = self.text.text, self.text.norm
        if _EMPTY_VALUE.match(
            norm.separator(end, end) if end < len(text) else norm.source[norm.origin[end - 1] + 1 :]
        ):
            return True  # a form's field dashed out: 押金：—
        at = self._skip_list(end)
        amount = amount_at(text, at)
        if amount and amount.group(0) and not nonzero(amount.group(0)):
            return True
        word = self._prefix(text, self.vocab.negators_after, at)
        if not word:
            return False
        if self.text.crosses_break(end, at):
            return False
        after = at + len(word)
        rest = (
            text[after : min(norm.clause_end(after - 1), after + _REACH)]
            if after < len(text)
            else ""
        )
        return not rest or self.tokenise(rest) is not None

    def warns(self, start: int) -> bool:
        """Whether the clause holding text[start] warns workers against such demands (…都是骗子)."""
        norm = self.text.norm
        begin = max(norm.clause_start(start), start - _REACH)
        clause = self.text.text[begin : min(norm.clause_end(start), start + _REACH)]
        return any(word in clause for word in self.vocab.warnings)

    def employer_pays(self, start: int, end: int) -> bool:
        """Whether the cost named at text[start:end] is borne by the employer (体检费公司报销)."""
        if self.negated_before(start, words=self.vocab.employer_before):
            return True
        text = self.text.text
        at, limit = end, min(len(text), end + _REACH)
        while at < limit:
            word = self._prefix(text, self._bearing, at)
            if not word:
                break
            at += len(word)
        if self.text.crosses_break(end, at):
            return False
        if self._prefix(text, self.vocab.employer_after, at):
            return True
        return self._borne_by_someone_else(at)

    def _borne_by_someone_else(self, at: int) -> bool:
        """由学校承担, 店里报销: someone other than the worker bears the cost."""
        text, vocab = self.text.text, self.vocab
        stop = min(self.text.norm.clause_end(at), at + 8)
        for verb in vocab.bearing_verbs:
            found = text.find(verb, at, stop)
            if found <= at:
                continue
            bearer = text[at:found]
            if any(w in bearer for w in vocab.not_the_employer):
                continue
            if (
                bearer.startswith("由")
                and len(bearer) > 1
                or any(w in bearer for w in vocab.bearers)
            ):
                return True
        return False

    def amount_beside(self, start: int, end: int) -> tuple[int, int] | None:
        """The span of a nonzero money amount right beside text[start:end]
        (押金200元, 二百元押金)."""
        text, breaks = self.text.text, self.text.norm.breaks
        at = end
        for _ in range(2):
            word = self._prefix(text, self._linking, at)
            if not word:
                break
            at += len(word)
        amount = amount_at(text, at)
        labelled = end not in breaks or self.text.norm.separator(end, end).strip() in (":", "：")
        counted = (
            amount is not None
            and not has_unit(amount.group(0))
            and text.startswith(_COUNTERS, amount.end())
        )
        if (
            amount
            and nonzero(amount.group(0))
            and at - end <= 3
            and labelled
            and not counted  # 收100多单: a count of something, not money
            and not any(end < b <= at for b in breaks)
        ):
            return start, amount.end()
        begin = max(self.text.norm.clause_start(start), start - 12)
        for match in AMOUNT.finditer(text, begin, start):
            unit = has_unit(match.group(0))
            between = text[match.end() : start]
            if (
                unit
                and nonzero(match.group(0))
                and len(between) <= 2
                and all(c in "钱的" for c in between)
            ):
                return match.start(), end
        return None

    def money_context(self, start: int, end: int) -> bool:
        """Whether the clause around text[start:end] speaks of paying (a paying verb or an
        amount)."""
        text, norm = self.text.text, self.text.norm
        begin = max(norm.clause_start(start), start - _REACH)
        finish = min(norm.clause_end(max(start, end - 1)), end + _REACH)
        before = text[max(begin, start - 3) : start]
        if any(verb in before for verb in self.vocab.pay_verbs):
            return True
        return any(
            nonzero(m.group(0)) and (has_unit(m.group(0)) or m.start() == end)
            for m in AMOUNT.finditer(text, begin, finish)
        )

    def customers_pay(self, start: int, end: int, lead: int = 0) -> bool:
        """Whether the fee at text[start:end] is one the worker handles for customers
        (向客户收取押金).

        `lead`: characters at the start of the hit that are a verb of its own (收取 in 收取…费).
        """
        text, vocab, norm = self.text.text, self.vocab, self.text.norm
        after = text[end : min(norm.clause_end(max(start, end - 1)), end + 6)]
        while after:
            if after.startswith(vocab.titles):
                return True  # 押金退还专员, 押金管理员, 缴费窗口
            verb = next((v for v in vocab.collecting if after.startswith(v)), "")
            if not verb:
                break
            after = after[len(verb) :]
        begin = max(norm.clause_start(start), start - _CUSTOMER_REACH)
        # the fee's own words are blanked: 管理 in 会员管理费 collects nothing
        window = (
            text[begin : start + lead]
            + "\0" * (end - start - lead)
            + text[end : min(norm.clause_end(start), end + 12)]
        )
        if not window or any(word in window for word in vocab.not_duties):
            return False
        last = max(window.rfind(verb) for verb in vocab.collecting)
        if last < 0:
            return False
        if any(word in window for word in vocab.customers):
            return True
        if any(0 <= window.find(word) < last for word in vocab.duties):
            return True
        return self._duty_list(start)

    def _duty_list(self, start: int) -> bool:
        """A clause that opens with a collecting verb continues the duties listed before it
        (负责业主报修，收取维修材料费)."""
        text, vocab, norm = self.text.text, self.vocab, self.text.norm
        clause = norm.clause_start(start)
        if not clause or not text.startswith(vocab.collecting, clause):
            return False
        previous = text[norm.clause_start(clause - 1) : clause]
        return any(word in previous for word in vocab.duties) and not any(
            w in previous for w in vocab.not_duties
        )

    def borne_before(self, start: int) -> bool:
        """Whether a bearer named before the cost bears it (学校承担教师资格证考试培训费用)."""
        text, vocab = self.text.text, self.vocab
        window = text[max(self.text.norm.clause_start(start), start - _CUSTOMER_REACH) : start]
        for bearer in vocab.bearers:
            at = window.find(bearer)
            while at >= 0:
                rest = window[at + len(bearer) :]
                verb = next(
                    (
                        v
                        for v in vocab.bearing_verbs
                        if rest.startswith(v) or rest.startswith("统一" + v)
                    ),
                    "",
                )
                if verb:
                    gap = rest[rest.index(verb) + len(verb) :]
                    if not any(
                        w in gap
                        for w in (*vocab.not_the_employer, *vocab.contrast, *vocab.pay_verbs)
                    ):
                        return True
                at = window.find(bearer, at + 1)
        return False

    def paid_to_worker(self, start: int, phrase: str) -> bool:
        """Whether a cost at text[start] is paid to the worker (另加20元工具费); never a deposit."""
        if any(word in phrase for word in ("押", "保证", "抵")):
            return False
        before = self.text.text[max(self.text.norm.clause_start(start), start - 4) : start]
        return any(before.endswith(word) for word in self.vocab.to_worker)
