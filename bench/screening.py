"""Screening: recall on postings that must be held, false holds on ordinary ones, time per posting.

Runs station_node.services.screening.screen_job (pure: no database, no app) over the labelled
corpus tests/data/screening_corpus.jsonl, one posting per line with its label (hold / ok) and,
for holds, the reason code it must be held for. A must-hold posting counts as caught only when
that reason is among those returned. Time per posting: every posting screened ROUNDS times
after one warm-up pass, in this process on one core; the first posting in a fresh process
(vocabulary, pinyin and opencc tables loading) is timed separately in a subprocess.

Run: `.venv/bin/python -m bench.screening`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.report import write_section

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data" / "screening_corpus.jsonl"
BLIND = CORPUS.with_name("screening_blind_batches.json")
ROUNDS = int(os.environ.get("BENCH_SCREENING_ROUNDS", "20"))
RECALL_GOAL = 0.98
FALSE_HOLD_GOAL = 0.02
_COLD = (
    "import time; t = time.perf_counter(); "
    "from station_node.services.screening import screen_job; t1 = time.perf_counter(); "
    "screen_job({'description': '需交押 金300元'}, None); t2 = time.perf_counter(); "
    "print(t1 - t, t2 - t1)"
)


def _load() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CORPUS.read_text("utf-8").splitlines() if line.strip()]


def evaluate(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall per reason and overall, false holds, and the postings that went wrong."""
    from station_node.services.screening import screen_job

    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[dict[str, Any]] = []
    wrongly: list[tuple[dict[str, Any], list[str]]] = []
    for row in rows:
        codes = [r["code"] for r in screen_job(row, None)]
        if row["label"] == "hold":
            total[row["reason"]] += 1
            if row["reason"] in codes:
                caught[row["reason"]] += 1
            else:
                missed.append(row)
        elif codes:
            wrongly.append((row, codes))
    holds = sum(total.values())
    ordinary = sum(1 for r in rows if r["label"] == "ok")
    return {
        "caught": caught,
        "total": total,
        "holds": holds,
        "ordinary": ordinary,
        "missed": missed,
        "wrongly": wrongly,
        "recall": sum(caught.values()) / holds,
        "false_holds": len(wrongly) / ordinary,
    }


def timing(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Microseconds of CPU per posting (the machine is shared): median, p99, mean, slowest."""
    from station_node.services.screening import screen_job

    for row in rows:
        screen_job(row, None)
    samples: list[float] = []
    walls: list[float] = []
    for _ in range(ROUNDS):
        for row in rows:
            start, wall = time.thread_time(), time.perf_counter()
            screen_job(row, None)
            samples.append(time.thread_time() - start)
            walls.append(time.perf_counter() - wall)
    samples.sort()
    return {
        "median": statistics.median(samples) * 1e6,
        "p99": samples[int(len(samples) * 0.99) - 1] * 1e6,
        "mean": statistics.fmean(samples) * 1e6,
        "max": samples[-1] * 1e6,
        "wall_median": statistics.median(walls) * 1e6,
        "n": float(len(samples)),
    }


LONG_POSTINGS = {
    "negations": ("不收押金不收保证金无需体检费免服装费" * 120)[:2000],
    "fee words and pinyin": ("押金ya jin身份证shen fen zheng交由" * 80)[:2000],
}


def long_postings() -> dict[str, float]:
    """Milliseconds of CPU for one 2,000-character description dense with fee words (the worst
    kind of posting for the negation and pinyin passes), best of five."""
    from station_node.services.screening import screen_job

    spent: dict[str, float] = {}
    for name, text in LONG_POSTINGS.items():
        row = {"title": "保洁", "description": text, "category": "cleaning", "pay_unit": "day"}
        screen_job(row, None)
        runs = []
        for _ in range(5):
            start = time.thread_time()
            screen_job(row, None)
            runs.append(time.thread_time() - start)
        spent[name] = min(runs) * 1000
    return spent


def cold_start() -> tuple[float, float]:
    """Seconds to import screening in a fresh process, and to screen the first posting after."""
    out = subprocess.run(
        [sys.executable, "-c", _COLD],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    imported, first = out.stdout.split()
    return float(imported), float(first)


def blind_batches() -> list[dict[str, Any]]:
    """The blind batches as first scored (before the engine was corrected on them)."""
    return list(json.loads(BLIND.read_text("utf-8"))["batches"])


def _blind_table(batches: list[dict[str, Any]]) -> str:
    rows = [
        f"| {b['batch']} | {b['scored']} | {b['caught']} / {b['holds']} "
        f"({b['caught'] / b['holds']:.0%}) "
        f"| {b['held']} / {b['ordinary']} ({b['held'] / b['ordinary']:.0%}) "
        f"| {b.get('missed', '')} "
        f"{('— held: ' + b['false']) if b.get('false') else ''} |"
        for b in batches
    ]
    caught, holds = sum(b["caught"] for b in batches), sum(b["holds"] for b in batches)
    held, ordinary = sum(b["held"] for b in batches), sum(b["ordinary"] for b in batches)
    rows.append(
        f"| all | | {caught} / {holds} ({caught / holds:.0%}) "
        f"| {held} / {ordinary} ({held / ordinary:.1%}) | |"
    )
    head = (
        "| batch | scored | must-hold caught | ordinary held | what it missed / held wrongly |\n"
        "| --- | --- | ---: | ---: | --- |"
    )
    return head + "\n" + "\n".join(rows)


def _goal(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> None:
    rows = _load()
    result = evaluate(rows)
    times = timing(rows)
    long = long_postings()
    imported, first = cold_start()
    load = os.getloadavg()[0]
    by_reason = "\n".join(
        f"| {code} | {result['caught'][code]} / {n} | {result['caught'][code] / n:.1%} |"
        for code, n in sorted(result["total"].items())
    )
    missed = "\n".join(
        f"- missed ({r['reason']}): {r['title']} — {r['description']}" for r in result["missed"]
    )
    wrongly = "\n".join(
        f"- held ({', '.join(c)}): {r['title']} — {r['description']}" for r, c in result["wrongly"]
    )
    batches = blind_batches()
    last = batches[-1]
    recent = batches[-5:]
    recent_caught, recent_holds = sum(b["caught"] for b in recent), sum(b["holds"] for b in recent)
    recent_held, recent_ordinary = (
        sum(b["held"] for b in recent),
        sum(b["ordinary"] for b in recent),
    )
    body = f"""
`screen_job` over the labelled corpus `tests/data/screening_corpus.jsonl`: {len(rows)} postings
written like gig-market job ads (household, moving, catering, property, construction, courier,
elderly care, farming, events …), {result["holds"]} that must be held and {result["ordinary"]}
ordinary ones, among them hard cases both ways (traditional characters, full-width digits,
spaces and zero-width characters inside words, homophones and pinyin, fees named only to say
there are none, 押运员, ID cards shown but not kept, 免费培训). A must-hold posting counts only when
held for its own reason. The corpus was written in batches, each before the engine was scored on
it, but the engine was then corrected on what it got wrong, so these are figures on postings it
has seen. The honest figure is the blind batches below: postings written after the engine was
built, scored once before any correction, then added to the corpus. The latest batch
({last["batch"]}) caught {last["caught"]} of {last["holds"]} must-hold postings and held
{last["held"]} of
{last["ordinary"]} ordinary ones as first scored; the last five batches together caught
{recent_caught} of {recent_holds} ({recent_caught / recent_holds:.1%}) and held {recent_held} of
{recent_ordinary} ({recent_held / recent_ordinary:.1%}). The goal (≥ 98 % and ≤ 2 % on unseen
postings) is not yet met on first sight; the corpus figures below are on postings the engine has
seen.
Policy: wages held back as a deposit or forfeited on leaving are held (Chinese labour law forbids
withholding wages); payroll paid a month in arrears on a fixed day (押一发一, 每月15号发上月工资)
is ordinary.
Time: CPU time of the screening thread (the machine is shared), each
posting screened {ROUNDS} times after one warm-up pass ({int(times["n"]):,} samples); wall-clock
median {times["wall_median"]:.0f} µs; load average when measured: {load:.2f}.

| figure | value | goal | |
| --- | ---: | ---: | --- |
| recall on must-hold postings | {result["recall"]:.1%} \
({result["holds"] - len(result["missed"])} / {result["holds"]}) | ≥ {RECALL_GOAL:.0%} | \
{_goal(result["recall"] >= RECALL_GOAL)} |
| false holds on ordinary postings | {result["false_holds"]:.1%} ({len(result["wrongly"])} / \
{result["ordinary"]}) | ≤ {FALSE_HOLD_GOAL:.0%} | \
{_goal(result["false_holds"] <= FALSE_HOLD_GOAL)} |
| time per posting, median | {times["median"]:.0f} µs | ~1 ms | {_goal(times["median"] <= 1000)} |
| time per posting, p99 | {times["p99"]:.0f} µs | | |
| time per posting, mean / slowest | {times["mean"]:.0f} / {times["max"]:.0f} µs | | |
| 2,000 characters dense with fee words ({" / ".join(long)}) | \
{" / ".join(f"{v:.1f}" for v in long.values())} ms | ≤ 100 ms | {_goal(max(long.values()) <= 100)} |
| fresh process: import (tables loaded at import) / first posting | {imported * 1000:.0f} ms / \
{first * 1000:.2f} ms | | |

| reason | held / must hold | recall |
| --- | ---: | ---: |
{by_reason}

Blind batches, as first scored (`tests/data/screening_blind_batches.json`; A–D from the first
day, E onwards written for the generalisation work):

{_blind_table(batches)}

{missed or "No must-hold posting was missed."}
{wrongly or "No ordinary posting was held."}
"""
    write_section("Screening", body)


if __name__ == "__main__":
    main()
