"""Pytest plugin of `make test-clock` (`-p clock_moments`): every test starts at a moment of its
own, just before or after a midnight somewhere, in a time zone of its own.

The run is under Debian's libfaketime with a plain offset (`faketime -m -f +0`) and
FAKETIME_NO_CACHE=1, so libfaketime reads the FAKETIME variable on every call: setting it (and
TZ) before a test moves this process's wall clock and zone at once, and the processes the test
starts inherit both. The clock then runs on at real speed through the test.

CLOCK_MOMENTS (set by .ci/clock_runs) lists the moments, one a line: "YYYY-MM-DD HH:MM:SS UTC|
zone|why". The tests take them in turn in collection order, test k of the run the moment
(k + CLOCK_PASS * CLOCK_STEP) mod the number of moments, so a module's neighbouring tests run on
different days and each pass gives a test another moment. Each test starts LEADS[...] seconds
from its moment (before it, and so crossing it when the test is longer; just after it; or well
before it). A module with fixtures wider than a test (a server for the whole module) keeps one
moment for all its tests, or its processes would disagree about the time.

A failing test's report shows its moment; CLOCK_MOMENT=<index> puts every test at that one moment
(to reproduce a failure: add `-k <test>`).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import zoneinfo
from collections import Counter
from dataclasses import dataclass

import pytest

# Seconds from the moment at which a test starts, taken in turn.
LEADS = (-0.3, 0.3, -30.0)


@dataclass(frozen=True)
class Moment:
    at: dt.datetime  # aware, UTC
    zone: str
    why: str

    def describe(self, lead: float) -> str:
        """The start as UTC and as local time in the zone, with their weekdays, and why."""
        start = self.at + dt.timedelta(seconds=lead)
        local = start.astimezone(zoneinfo.ZoneInfo(self.zone))
        return (
            f"{start:%a %Y-%m-%d %H:%M:%S}.{start.microsecond // 1000:03d} UTC"
            f" = {local:%a %H:%M:%S %Z} TZ={self.zone} ({self.why})"
        )


def _parse(spec: str) -> list[Moment]:
    moments = []
    for line in spec.strip().splitlines():
        if not line.strip():
            continue
        when, zone, why = (part.strip() for part in line.split("|", 2))
        at = dt.datetime.strptime(when.removesuffix(" UTC"), "%Y-%m-%d %H:%M:%S")
        moments.append(Moment(at.replace(tzinfo=dt.UTC), zone, why))
    return moments


class _Clock:
    """This process's libfaketime offset, moved through os.environ["FAKETIME"]."""

    def __init__(self) -> None:
        self.offset = float(os.environ["FAKETIME"])

    def real_now(self) -> float:
        return time.time() - self.offset

    def start_at(self, when: dt.datetime, zone: str) -> None:
        self.offset = when.timestamp() - self.real_now()
        os.environ["FAKETIME"] = f"{self.offset:+.6f}"
        os.environ["TZ"] = zone
        time.tzset()


_CLOCK: _Clock | None = None
_MOMENTS: list[Moment] = []
_COUNTS: Counter[int] = Counter()


def _refuse(why: str) -> None:
    raise pytest.UsageError(f"clock_moments: {why}")


def pytest_configure(config: pytest.Config) -> None:
    global _CLOCK
    if "faketime" not in os.environ.get("LD_PRELOAD", ""):
        _refuse("not under libfaketime (run through .ci/clock_runs)")
    if os.environ.get("FAKETIME_NO_CACHE") != "1":
        _refuse("FAKETIME_NO_CACHE=1 is needed, or a moved clock is seen seconds late")
    try:
        _CLOCK = _Clock()
    except (KeyError, ValueError):
        _refuse("FAKETIME must be a plain offset in seconds, such as +0")
    _MOMENTS[:] = _parse(os.environ.get("CLOCK_MOMENTS", ""))
    if not _MOMENTS:
        _refuse("CLOCK_MOMENTS lists no moments")
    assert _CLOCK is not None
    # The proof that moving the clock works here: a day on, then back.
    before = time.time()
    os.environ["FAKETIME"] = f"{_CLOCK.offset + 86400:+.6f}"
    moved = time.time() - before
    os.environ["FAKETIME"] = f"{_CLOCK.offset:+.6f}"
    if not 86399 < moved < 86460:
        _refuse(f"setting FAKETIME moved the clock by {moved:.0f} s instead of a day")


def pytest_report_header(config: pytest.Config) -> str:
    return (
        f"faked clock: {len(_MOMENTS)} moments, pass {os.environ.get('CLOCK_PASS', '0')}, "
        f"step {os.environ.get('CLOCK_STEP', '1')}, leads {LEADS} s"
    )


# Per test: the index of its moment, its lead, and whether it moves the clock (not when a module's
# earlier test did).
_KEY = pytest.StashKey[tuple[int, float, bool]]()


def _module(item: pytest.Item) -> str:
    module = getattr(item, "module", None)
    return module.__name__ if module is not None else item.nodeid


def _wide_fixtures(item: pytest.Item) -> bool:
    """Whether the test uses a fixture of the project's that outlives it (module, session)."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    for defs in info.name2fixturedefs.values():
        for fixturedef in defs:
            if fixturedef.scope != "function" and fixturedef.baseid:
                return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    n = len(_MOMENTS)
    shift = int(os.environ.get("CLOCK_PASS", "0")) * int(os.environ.get("CLOCK_STEP", "1"))
    pinned = os.environ.get("CLOCK_MOMENT")
    wide_modules = {_module(item) for item in items if _wide_fixtures(item)}
    unit, module_unit = -1, {}
    for item in items:
        first = True
        name = _module(item)
        if name in wide_modules:
            first = name not in module_unit
            if first:
                unit += 1
                module_unit[name] = unit
            k = module_unit[name]
        else:
            unit += 1
            k = unit
        index = int(pinned) % n if pinned is not None else (k + shift) % n
        lead = LEADS[(k // n + shift) % len(LEADS)]
        item.stash[_KEY] = (index, lead, first)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    index, lead, first = item.stash[_KEY]
    moment = _MOMENTS[index]
    assert _CLOCK is not None
    if first:  # a module's later tests run on from where its first one started
        _CLOCK.start_at(moment.at + dt.timedelta(seconds=lead), moment.zone)
    text = f"moment {index}: {moment.describe(lead)}"
    if not first:
        text += " (the module's first test started there; its clock ran on since)"
    item.user_properties.append(("faked clock", text))
    item.add_report_section("setup", "faked clock", text)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count the tests per moment (here, or from the reports of pytest-xdist's workers)."""
    if report.when == "setup":
        for name, value in report.user_properties:
            if name == "faked clock":
                _COUNTS[int(str(value).split(":", 1)[0].removeprefix("moment "))] += 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line("faked clock: tests started per moment:")
    for index, moment in enumerate(_MOMENTS):
        terminalreporter.write_line(f"  {_COUNTS[index]:5d}  {moment.describe(0)}")
