"""The sign-in limit both apps apply: how failures turn into delays and locks, and how long a
refused person must wait. Pure apart from reading the app's config: the counts live in each
app's own table (its services/signin_limits.py), whose rows these functions read and change
in place; the app saves them inside its own transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from flask import current_app, has_app_context


@dataclass(frozen=True)
class Policy:
    """How many failures pass freely, when the delays start and when the long lock comes."""

    free: int  # failures answered at once; the next ones wait
    lock_after: int  # this many failures lock for `lock_seconds`
    first_delay: int = 30  # seconds; doubles with each further failure
    lock_seconds: int = 15 * 60
    forget_after: int = 24 * 3600  # a quiet spell this long wipes the count

    def block_for(self, failures: int) -> tuple[int, bool]:
        """Seconds to refuse further attempts after this many failures, and whether it is the
        lock."""
        if failures >= self.lock_after:
            return self.lock_seconds, True
        if failures >= self.free:
            return self.first_delay * 2 ** (failures - self.free), False
        return 0, False


ACCOUNT = Policy(free=5, lock_after=8)
ADDRESS = Policy(free=20, lock_after=23, forget_after=15 * 60)


def policy(scope: str) -> Policy:
    """The policy for a scope, with SIGNIN_ACCOUNT_POLICY / SIGNIN_ADDRESS_POLICY overrides."""
    base = ACCOUNT if scope == "account" else ADDRESS
    if has_app_context():
        over = current_app.config.get(f"SIGNIN_{scope.upper()}_POLICY")
        if isinstance(over, dict):
            return Policy(**{**base.__dict__, **over})
    return base


@dataclass(frozen=True)
class Count:
    """A scope's failure count after one more failure, and what it blocks."""

    failures: int
    blocked_until: dt.datetime | None
    locked: bool


def count_failure(
    scope: str, failures: int, last_failure_at: dt.datetime | None, now: dt.datetime
) -> Count:
    """One more failure at `now` on a count (wiped first after the policy's quiet spell)."""
    rule = policy(scope)
    if last_failure_at is not None and (now - last_failure_at).total_seconds() > rule.forget_after:
        failures = 0
    failures += 1
    seconds, locked = rule.block_for(failures)
    return Count(failures, now + dt.timedelta(seconds=seconds) if seconds else None, locked)


# A count as it was before an attempt (failures, last failure, blocked until, locked) and after
# it (failures, blocked until, locked): what an attempt keeps to settle itself later.
Before = tuple[int, dt.datetime | None, dt.datetime | None, bool]
After = tuple[int, dt.datetime | None, bool]


class Counted(Protocol):
    """A row of failures for one account or address (each app's SigninThrottle)."""

    failures: int
    last_failure_at: dt.datetime | None
    blocked_until: dt.datetime | None
    locked: bool


def blocked_by(rows: Iterable[Counted], now: dt.datetime) -> tuple[dt.datetime, bool] | None:
    """The latest block in force at `now` among the rows and whether any is a lock; None if none."""
    blocked = [r for r in rows if r.blocked_until is not None and r.blocked_until > now]
    if not blocked:
        return None
    return max(r.blocked_until for r in blocked if r.blocked_until is not None), any(
        r.locked for r in blocked
    )


def add_failure(scope: str, row: Counted, now: dt.datetime) -> tuple[Before, After]:
    """Count one more failure on the row (not saved) and return the count before and after."""
    before = (row.failures, row.last_failure_at, row.blocked_until, row.locked)
    count = count_failure(scope, row.failures, row.last_failure_at, now)
    row.failures, row.last_failure_at = count.failures, now
    row.blocked_until, row.locked = count.blocked_until, count.locked
    return before, (row.failures, row.blocked_until, row.locked)


def take_back(row: Counted, before: Before, after: After) -> None:
    """Undo one counted failure on the row (not saved): as before when no attempt came since."""
    if row.failures == after[0]:
        row.failures, row.last_failure_at, row.blocked_until, row.locked = before
    else:
        row.failures = max(0, row.failures - 1)


def longest_wait(after: Iterable[After]) -> tuple[dt.datetime, bool] | None:
    """The latest block the counted failures started and whether any is a lock; None if none."""
    waits = [(until, locked) for _n, until, locked in after if until is not None]
    if not waits:
        return None
    return max(until for until, _locked in waits), any(locked for _until, locked in waits)


def forget_before(now: dt.datetime) -> dt.datetime:
    """Counts whose last failure is older than this are forgotten (when they block nothing)."""
    return now - dt.timedelta(
        seconds=max(policy("account").forget_after, policy("address").forget_after)
    )


@dataclass(frozen=True)
class Wait:
    """How long a refused sign-in must wait, for the message: seconds, local clock time, words."""

    seconds: int
    local: str  # HH:MM:SS at the given UTC offset
    when_zh: str
    when_en: str


def wait(until: dt.datetime, now: dt.datetime, utc_offset_hours: int) -> Wait:
    """The wait from `now` to `until` (naive UTC), rounded up to a second, in words."""
    local = (until + dt.timedelta(hours=utc_offset_hours)).strftime("%H:%M:%S")
    seconds = max(1, int((until - now).total_seconds() + 0.999))
    minutes = (seconds + 59) // 60
    when_zh = f"{minutes} 分钟" if seconds >= 60 else f"{seconds} 秒"
    when_en = (
        f"{minutes} minute{'s' if minutes > 1 else ''}" if seconds >= 60 else f"{seconds} seconds"
    )
    return Wait(seconds, local, when_zh, when_en)


def forget_old(table: Any, now: dt.datetime) -> None:
    """Drop an app's counts nobody added to for a day and that block nothing (typed names pile
    up otherwise); `table` is the app's own peewee SigninThrottle model."""
    table.delete().where(
        (table.last_failure_at.is_null() | (table.last_failure_at < forget_before(now)))
        & (table.blocked_until.is_null() | (table.blocked_until <= now))
    ).execute()


def blocked_now(table: Any, now: dt.datetime) -> list[Any]:
    """The rows of an app's SigninThrottle that must wait or are locked now, longest first."""
    query = table.select().where(table.blocked_until > now)
    return list(query.order_by(table.blocked_until.desc(), table.id))
