"""The screening rules: which phrases found in a posting's text are reasons to hold it.

Each finding names its kind, the vocabulary phrase that matched (as listed) and the posting's
own words it matched, so staff can see why a posting was held.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from station_node.screening import payer
from station_node.screening.match import AMOUNT, Hit, Text, find, nonzero
from station_node.screening.normalise import is_han, normalise
from station_node.screening.scope import Scope
from station_node.screening.vocabulary import (
    Phrase,
    PhraseSet,
    Vocabulary,
    compile_phrase,
    phrase_set,
    vocabulary,
)

_TRAINING_REACH = 40  # characters between training and the fee or loan that makes it a trap
_CARD_GAP = 10  # characters between a keeping verb and the ID document after it (扣押…身份证)
_CARD_GAP_AFTER = 14  # and between the document and a verb after it (身份证…由人事部统一存档保管)
_FINDINGS_KEPT = 20  # findings of one kind worth showing staff
# The names of findings read from structure: the worker pays, wages cut, a document kept by
# someone else, the shape of a scam task (money advanced and paid back, pay per click).
STRUCTURAL = ("劳动者付款", "从工资中扣取", "证件交他人保管", "诈骗任务")
_PAYING = ("垫", "付", "支付", "交", "缴", "充值", "存")  # a listed phrase that is itself a payment
_REFUND_REACH = 24  # characters from a word in 金 to the refund that shows it is a deposit


@dataclass(frozen=True)
class Finding:
    """One reason to hold: its kind, the phrase as listed, and the posting's own words."""

    kind: str
    phrase: str
    quote: str
    homophone: bool = False
    start: int = 0  # where in the normalised text
    end: int = 0


class _Screen:
    def __init__(
        self, source: str, vocab: Vocabulary, extra: Mapping[str, tuple[Phrase, ...]]
    ) -> None:
        self.text = Text(normalise(source))
        self.vocab = vocab
        self.extra = extra
        self.scope = Scope(self.text, vocab)
        self.findings: list[Finding] = []
        self._listed: list[
            tuple[int, int]
        ] = []  # where listed money words stand (押金 is not an unlisted 金)

    def _add(self, kind: str, hit: Hit, start: int | None = None, end: int | None = None) -> None:
        start = hit.start if start is None else start
        end = hit.end if end is None else end
        quote = self.text.norm.quote(start, end)
        self.findings.append(Finding(kind, hit.phrase.text, quote, hit.homophone, start, end))

    def _span(self, kind: str, label: str, start: int, end: int) -> None:
        """A finding read from the posting's structure, not from one listed phrase (where none
        of that kind was found already)."""
        if any(f.kind == kind and f.start < end and start < f.end for f in self.findings):
            return
        self.findings.append(
            Finding(kind, label, self.text.norm.quote(start, end), False, start, end)
        )

    def _hits(
        self, base: PhraseSet, kind: str, exceptions: tuple[str, ...] = (), loose: bool = False
    ) -> list[Hit]:
        """Hits of the shipped phrases (outside their exception words) and of the extra ones."""
        hits = find(self.text, base, exceptions, loose)
        extra = self.extra.get(kind, ())
        if extra:
            hits = sorted(
                (*hits, *find(self.text, phrase_set(extra), (), loose)), key=lambda h: h.start
            )
        return hits

    def _cleared(self, hit: Hit) -> bool:
        scope = self.scope
        return (
            scope.negated_before(hit.start)
            or scope.negated_after(hit.end)
            or scope.warns(hit.start)
            or scope.employer_pays(hit.start, hit.end)
            or scope.customers_pay(hit.start, hit.end, _lead(hit))
            or scope.borne_before(hit.start)
            or payer.paid_by_customer(self.text, hit.end)
        )

    def money(self) -> None:
        vocab, scope = self.vocab, self.scope
        listed = self._hits(vocab.money, "asks_for_money", vocab.money_exceptions, loose=True)
        self._listed = [(h.start, h.end) for h in listed if h.phrase.pattern is None]
        for hit in listed:
            if hit.homophone and not scope.money_context(hit.start, hit.end):
                continue
            if scope.customers_pay(hit.start, hit.end, _lead(hit)) or self._paid_by_another(hit):
                continue
            amount = scope.amount_beside(hit.start, hit.end)
            if scope.paid_to_worker(
                min(amount[0], hit.start) if amount else hit.start, hit.phrase.text
            ):
                continue
            if amount and not self._paid_back(hit, max(amount[1], hit.end)):
                self._add("asks_for_money", hit, min(amount[0], hit.start), max(amount[1], hit.end))
            elif not amount and not self._cleared(hit) and not self._paid_back(hit, hit.end):
                self._add("asks_for_money", hit)
        self._wages()
        self._deposit_like()
        for start, end in payer.worker_pays(self.text, scope):
            self._span("asks_for_money", STRUCTURAL[0], start, end)
        for start, end in payer.wages_taken(self.text, scope):
            self._span("asks_for_money", STRUCTURAL[1], start, end)
        for start, end in (
            *payer.given_to_party(self.text, scope),
            *payer.agent_price_list(self.text),
            *payer.deposit_named(self.text, scope),
            *payer.english_demand(self.text),
            *payer.wages_collected(self.text),
        ):
            self._span("asks_for_money", STRUCTURAL[0], start, end)
        for hit in find(self.text, vocab.pays_before_amount, vocab.money_exceptions):
            amount = scope.amount_beside(hit.start, hit.end)
            if (
                amount
                and amount[0] == hit.start
                and not scope.negated_before(hit.start)
                and not scope.customers_pay(hit.start, hit.end, hit.end - hit.start)
                and not payer.worker_collects(self.text, hit.start)
                and not self._paid_by_another(hit)
            ):
                self._add("asks_for_money", hit, hit.start, amount[1])

    def _paid_back(self, hit: Hit, end: int) -> bool:
        """Whether a cost (never a deposit) is the employer's after all: 体检费200元公司报销,
        垫付…凭票报销."""
        if any(word in hit.phrase.text for word in ("押", "保证", "抵")):
            return False
        return self.scope.employer_pays(hit.start, end) or payer.reimbursed(self.text, hit.start)

    def _paid_by_another(self, hit: Hit) -> bool:
        """Whether a paying phrase (先垫付, 预交) has someone else before it as its payer
        (公司先垫付)."""
        if not hit.phrase.text.lstrip("先需要须预").startswith(_PAYING):
            return False
        return payer.employer_subject(
            self.text.text[self.text.norm.clause_start(hit.start) : hit.start]
        )

    def _deposit_like(self) -> None:
        """A word in 金 or 费 never listed (安全金, 履约金, 加盟费) with an amount beside it;
        金 also with a refund promised after it (安全金，年底返)."""
        vocab, scope, text = self.vocab, self.scope, self.text.text
        refunds: list[Hit] | None = None
        for suffix in "金费":
            at = text.find(suffix, 1)
            while at >= 0:
                start, end = at - 1, at + 1
                if self._unlisted_name(at, suffix):
                    start -= 1 if start and is_han(text[start - 1]) and suffix == "金" else 0
                    start -= (
                        1
                        if start and is_han(text[start - 1]) and suffix == "费" and end - start < 3
                        else 0
                    )
                    word = Hit(
                        Phrase(text[start:end], (text[start:end],), None, None, False), start, end
                    )
                    amount = scope.amount_beside(start, end)
                    if amount is None and suffix == "金":
                        refunds = find(self.text, vocab.refunds) if refunds is None else refunds
                        later = [r for r in refunds if end <= r.start <= end + _REFUND_REACH]
                        amount = (
                            (start, end)
                            if later and self._amount_near(start, later[0].start)
                            else None
                        )
                    if (
                        amount is not None
                        and amount[0] < start
                        and payer.given_to_worker(self.text, amount[0])
                    ):
                        amount = None  # 当天付200元试工费: paid to the worker
                    if (
                        amount is not None
                        and not self._cleared(word)
                        and not self._paid_back(word, amount[1])
                    ):
                        self._add(
                            "asks_for_money", word, min(amount[0], start), max(amount[1], end)
                        )
                at = text.find(suffix, at + 1)

    def _unlisted_name(self, at: int, suffix: str) -> bool:
        """Whether text[at] (金 or 费) closes the name of a charge no list names
        (安全金, 人头费)."""
        text = self.text.text
        if not is_han(text[at - 1]) or any(s <= at < e for s, e in self._listed):
            return False
        if suffix == "费" and (
            text.endswith(self.vocab.not_fee_heads, 0, at) or text.startswith("费用", at)
        ):
            return False
        return not any(
            at >= word.index(suffix) and text.startswith(word, at - word.index(suffix))
            for word in self.vocab.payouts
            if suffix in word
        )

    def _amount_near(self, start: int, stop: int) -> bool:
        """Whether a nonzero amount stands between a word and the refund promised after it."""
        window = self.text.text[start:stop]
        return any(nonzero(m.group(0)) for m in AMOUNT.finditer(window) if m.group(0))

    def _wages(self) -> None:
        """Wages held back (工资押半个月, 押一个月工资): a wage word and a withholding verb in one
        clause."""
        vocab, text = self.vocab, self.text
        verbs = find(text, vocab.wage_verbs, vocab.wage_exceptions)
        if not verbs:
            return
        wages = find(text, vocab.wages)
        wage_then_verb, verb_then_wage = vocab.wage_gaps
        norm = text.norm
        for verb in verbs:
            if self.scope.negated_before(verb.start) or self.scope.warns(verb.start):
                continue
            clause = text.text[norm.clause_start(verb.start) : norm.clause_end(verb.start)]
            if any(word in clause for word in vocab.lawful_deductions):
                continue
            for wage in wages:
                if wage.end <= verb.start <= wage.end + wage_then_verb:
                    span = (wage.start, verb.end)
                elif verb.end <= wage.start <= verb.end + verb_then_wage:
                    span = (verb.start, wage.end)
                else:
                    continue
                if not text.crosses_break(*span):
                    self._add("asks_for_money", verb, *span)
                    break

    def cards(self) -> None:
        vocab, text = self.vocab, self.text
        documents = [
            h
            for h in find(text, vocab.documents)
            if not any(text.text.startswith(w, h.end) for w in vocab.not_the_card)
        ]
        if documents:
            skip = (*vocab.card_exceptions, *vocab.not_keeping)
            before = find(text, vocab.keeping_before, skip)
            after = find(text, vocab.keeping_after, skip)
            starts_before, starts_after = [h.start for h in before], [h.start for h in after]
            for doc in documents:
                self._card(
                    doc,
                    _near(before, starts_before, doc.start - _CARD_GAP, doc.start),
                    _near(after, starts_after, doc.end, doc.end + _CARD_GAP_AFTER),
                )
        for start, end in payer.documents_kept(
            text, self.scope, [(d.start, d.end) for d in documents]
        ):
            self._span("withholds_id_card", STRUCTURAL[2], start, end)
        for hit in find(text, phrase_set(self.extra.get("withholds_id_card", ()))):
            if not self.scope.negated_before(hit.start):
                self._add("withholds_id_card", hit)

    def _card(self, doc: Hit, before: list[Hit], after: list[Hit]) -> None:
        """Whether a keeping verb before or after this document, in its clause, keeps it."""
        vocab, scope, text = self.vocab, self.scope, self.text
        clause = (text.norm.clause_start(doc.start), text.norm.clause_end(doc.start))
        if doc.end == clause[1] < len(text.text):
            # the document as its own topic (身份证，进场交给班组长): its verb is in the next clause
            clause = (clause[0], text.norm.clause_end(doc.end))
        elif clause[1] < len(text.text) and (
            text.text.startswith(vocab.anaphors, clause[1])
            or self._taken_in_charge(doc.end, clause[1])
        ):
            # named again (工资卡统一办理，卡由线长统一保管), or taken in charge
            # (护照由公司统一办理，到达后统一收回保管): the next clause's verbs keep it too
            clause = (clause[0], text.norm.clause_end(clause[1]))
        rest = text.text[doc.end : min(clause[1], doc.end + 30)]
        if any(w in rest for w in vocab.only_checked) and not any(w in rest for w in vocab.kept):
            return
        if scope.warns(doc.start) or any(w in rest for w in vocab.card_exceptions):
            return
        for verb in before:
            gap = text.text[verb.end : doc.start]
            if (
                clause[0] <= verb.start
                and verb.end <= doc.start
                and len(gap) <= 6
                and (not gap or scope.tokenise(gap) is not None)
                and not scope.negated_before(verb.start)
            ):
                self._add("withholds_id_card", verb, verb.start, doc.end)
        for verb in after:
            if verb.end <= clause[1] and not (
                scope.negated_before(verb.start, floor=doc.end) or scope.negated_before(doc.start)
            ):
                self._add("withholds_id_card", verb, doc.start, verb.end)

    def _taken_in_charge(self, start: int, end: int) -> bool:
        """Whether text[start:end] puts a document in the employer's hands (由公司统一办理)."""
        rest = self.text.text[start:end]
        at = rest.find("由")
        return at >= 0 and any(rest.startswith(bearer, at + 1) for bearer in self.vocab.bearers)

    def training(self) -> None:
        vocab, scope = self.vocab, self.scope
        for hit in self._hits(vocab.training_always, "training_trap"):
            if hit.homophone and not find(self.text, vocab.training_money):
                continue
            if not scope.negated_before(hit.start) and not scope.warns(hit.start):
                self._add("training_trap", hit)
        if any(f.kind == "training_trap" for f in self.findings):
            return
        money = [h for h in find(self.text, vocab.training_money) if not self._cleared(h)]
        money += [
            h for h in find(self.text, vocab.training_priced) if scope.amount_beside(h.start, h.end)
        ]
        # whatever the posting was found asking the worker to pay counts beside training, too
        asked = [_as_hit(f) for f in self.findings if f.kind == "asks_for_money"]
        cues = find(self.text, vocab.training)
        money += [
            c for c in cues if payer.priced(self.text, c.end)
        ]  # a course with its price (课程包1999)
        for (
            cue
        ) in cues:  # 需先上手法课两周，课时费2000元: the worker is the one learning, and paying
            span = payer.learner_pays(self.text, cue.start, cue.end)
            if span is not None and not scope.negated_before(cue.start):
                self._span("training_trap", cue.phrase.text, *span)
                return
        asked += [
            _as_hit(Finding("training_trap", "每期价格", "", False, *span))
            for span in payer.term_prices(self.text)
        ]
        loans = find(self.text, vocab.training_loans)
        if loans:
            about = [*cues, *money]
            money += [
                h for h in loans if not self._cleared(h) and self._loan_for_training(h, about)
            ]
        if not money and not asked:
            return
        for cue in cues:
            # 培训 inside the word 培训费 is the fee, not a second sign
            if any(m.start <= cue.start and cue.end <= m.end for m in (*money, *asked)):
                continue
            near = [m for m in (*money, *asked) if abs(m.start - cue.start) <= _TRAINING_REACH]
            if near:
                first = min(near, key=lambda m: abs(m.start - cue.start))
                self._add(
                    "training_trap", cue, min(cue.start, first.start), max(cue.end, first.end)
                )
                return
        for fee in (
            money
        ):  # a fee that names the training itself (拜师费, 课程费5000), not a listed fee (培训费)
            if fee.phrase.text not in vocab.money_words and any(
                fee.start <= cue.start and cue.end <= fee.end for cue in cues
            ):
                self._add("training_trap", fee)
                return

    def _loan_for_training(self, loan: Hit, about: list[Hit]) -> bool:
        """An instalment or loan in the clause of the training, or near it and about nothing
        else."""
        norm = self.text.norm
        start = norm.clause_start(loan.start)
        if any(norm.clause_start(a.start) == start for a in about):
            return True
        clause = self.text.text[start : norm.clause_end(loan.start)]
        if any(word in clause for word in self.vocab.loans_for_other_things):
            return False
        return any(abs(a.start - loan.start) <= _TRAINING_REACH for a in about)

    def bait(self) -> None:
        vocab, scope = self.vocab, self.scope
        for hit in self._hits(vocab.bait, "bait_wording", vocab.bait_exceptions):
            if not scope.negated_before(hit.start) and not scope.warns(hit.start):
                self._add("bait_wording", hit)
        if any(f.kind == "bait_wording" for f in self.findings):
            return
        for start, end in (
            *payer.advances_repaid(self.text, scope),
            *payer.paid_per_action(self.text, scope),
            *payer.identity_lent(self.text),
            *payer.minutes_for_money(self.text, scope),
        ):
            self._span("bait_wording", STRUCTURAL[3], start, end)
            return
        homes = [
            h
            for h in find(self.text, vocab.bait_home, vocab.bait_exceptions)
            if not scope.negated_before(h.start)
        ]
        if not homes:
            return
        for task in find(self.text, vocab.bait_tasks, vocab.bait_exceptions):
            near = [h for h in homes if abs(h.start - task.start) <= vocab.bait_pair_reach]
            if near and not scope.negated_before(task.start) and not scope.warns(task.start):
                home = near[0]
                self._add(
                    "bait_wording", task, min(home.start, task.start), max(home.end, task.end)
                )
                return


def compile_extra(
    extra_phrases: Iterable[Mapping[str, Any]], kinds: Iterable[str]
) -> dict[str, tuple[Phrase, ...]]:
    """Extra phrases ({"kind", "phrase"}) by kind, compiled; unknown kinds and blanks are
    skipped."""
    known = set(kinds)
    out: dict[str, list[Phrase]] = {}
    for item in extra_phrases:
        kind = item.get("kind")
        phrase = compile_phrase(str(item.get("phrase") or ""))
        if kind in known and phrase is not None:
            out.setdefault(str(kind), []).append(phrase)
    return {kind: tuple(phrases) for kind, phrases in out.items()}


def screen_text(
    source: str, extra: Mapping[str, tuple[Phrase, ...]] | None = None
) -> list[Finding]:
    """Every finding in this text, in the order money, ID cards, training, bait."""
    screen = _Screen(source, vocabulary(), extra or {})
    screen.money()
    screen.cards()
    screen.training()
    screen.bait()
    return _widest(screen.findings)


def _as_hit(finding: Finding) -> Hit:
    """A finding as a hit of its own words, for pairing with other hits."""
    return Hit(
        Phrase(finding.phrase, (finding.phrase,), None, None, False), finding.start, finding.end
    )


def _lead(hit: Hit) -> int:
    """Characters of a gapped phrase's first part (收取 in 收取…费), 0 for a plain word."""
    return len(hit.phrase.parts[0]) if hit.phrase.pattern is not None else 0


def _near(hits: list[Hit], starts: list[int], low: int, high: int) -> list[Hit]:
    """The hits (sorted by start; `starts` theirs) starting between low and high."""
    return hits[bisect.bisect_left(starts, low) : bisect.bisect_right(starts, high)]


def _widest(findings: list[Finding]) -> list[Finding]:
    """One finding per stretch of text: those inside a wider one of the same kind are dropped."""
    per_kind: dict[str, int] = {}
    bounded = []
    for finding in sorted(findings, key=lambda f: f.start):
        per_kind[finding.kind] = per_kind.get(finding.kind, 0) + 1
        if per_kind[finding.kind] <= _FINDINGS_KEPT:
            bounded.append(finding)
    ordered = sorted(bounded, key=lambda f: (f.start - f.end, f.homophone))
    kept: list[Finding] = []
    for finding in ordered:
        if not any(
            k.kind == finding.kind and k.start <= finding.start and finding.end <= k.end
            for k in kept
        ):
            kept.append(finding)
    return sorted(kept, key=lambda f: (f.start, f.end))
