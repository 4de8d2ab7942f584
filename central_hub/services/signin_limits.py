"""Hub sign-in that cannot be guessed: failures counted per typed username and per address.

The counts live in the database, so every hub process behind the balancer sees the same ones;
each attempt is counted under a row lock before the password is checked (`begin`), so parallel
guesses through several processes cannot slip past the limit, and a success takes its count
back (`succeeded`). After 5 failures the next attempt waits 30 s, 60 s, 120 s, then the account
(or address) is locked for 15 minutes, refusing even the right password. Locks and unlocks are
written to `SigninEvent`, the audit hub admins read on the sign-in protection page. The policy
itself (delays, lock, quiet spell) is kuaigong.signin_policy, shared with the stations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import peewee
from flask import current_app, has_app_context

from central_hub import db
from central_hub.models import Admin, SigninEvent, SigninThrottle
from central_hub.states import SigninEventKind, ThrottleScope
from kuaigong import clock
from kuaigong.errors import KuaigongError, NotFound
from kuaigong.signin_policy import (
    After,
    Before,
    add_failure,
    blocked_by,
    blocked_now,
    forget_old,
    longest_wait,
    take_back,
    wait,
)


def _wait_text(until: dt.datetime, locked: bool, now: dt.datetime) -> tuple[str, str, int]:
    offset = int(current_app.config.get("UTC_OFFSET_HOURS", 8)) if has_app_context() else 8
    waiting = wait(until, now, offset)
    local, when_zh, when_en = waiting.local, waiting.when_zh, waiting.when_en
    zh = (
        f"登录失败次数太多，{'已暂时锁定' if locked else '请稍候再试'}。请在 {when_zh}后"
        f"（北京时间 {local} 以后）再试，或请其他管理员解锁。"
    )
    en = (
        f"Too many failed sign-ins. {'Sign-in is locked for now' if locked else 'Please wait'}: "
        f"try again in {when_en} (after {local}, UTC+{offset}), or ask another admin to unlock it."
    )
    return zh, en, waiting.seconds


def client_address(remote_addr: str | None, forwarded_for: str | None) -> str:
    """The address attempts are counted against. Behind the balancer, set SIGNIN_PROXY_HOPS to
    the number of proxies in front of the hub: the address that many hops back in
    X-Forwarded-For is taken (entries further left are the client's own word, never trusted)."""
    hops = int(current_app.config.get("SIGNIN_PROXY_HOPS", 0)) if has_app_context() else 0
    chain = [part.strip() for part in (forwarded_for or "").split(",") if part.strip()]
    if hops > 0 and len(chain) >= hops:
        return chain[-hops][:64]
    return (remote_addr or "unknown")[:64]


class TooManyAttempts(KuaigongError):
    """Sign-in refused until a delay or lock passes (429)."""

    def __init__(self, until: dt.datetime, locked: bool, now: dt.datetime) -> None:
        zh, en, wait = _wait_text(until, locked, now)
        super().__init__(
            "too_many_attempts", zh, en, status=429, details={"retry_after": wait, "locked": locked}
        )
        self.retry_after = wait


class WrongCredentials(KuaigongError):
    """The username or password was wrong (401); says how long to wait when a delay began."""

    def __init__(self, wait: TooManyAttempts | None = None) -> None:
        zh, en = "用户名或密码不正确", "Wrong username or password"
        if wait is not None:
            zh, en = f"{zh}。{wait.message_zh}", f"{en}. {wait.message_en}"
        super().__init__("bad_credentials", zh, en, status=401)
        self.retry_after = wait.retry_after if wait is not None else None


@dataclass
class Attempt:
    """One counted sign-in attempt, to be settled with `succeeded` or `failed`."""

    keys: dict[str, str]
    before: dict[str, Before] = field(default_factory=dict)
    after: dict[str, After] = field(default_factory=dict)


def _where(scope: str, key: str) -> peewee.Expression:
    return (SigninThrottle.scope == scope) & (SigninThrottle.key == key)


def _locked_row(scope: str, key: str) -> SigninThrottle:
    SigninThrottle.insert(scope=scope, key=key).on_conflict_ignore().execute()
    return db.locked(SigninThrottle.select().where(_where(scope, key))).get()


def begin(username: str, address: str | None) -> Attempt:
    """Count an attempt against the typed username and the address, or refuse it (429)."""
    now = clock.now()
    keys: dict[str, str] = {
        ThrottleScope.ACCOUNT: username[:64],
        ThrottleScope.ADDRESS: (address or "unknown")[:64],
    }
    if not keys[ThrottleScope.ACCOUNT]:
        del keys[ThrottleScope.ACCOUNT]
    attempt = Attempt(keys)
    with db.atomic():
        forget_old(SigninThrottle, now)
        rows = {scope: _locked_row(scope, key) for scope, key in sorted(keys.items())}
        block = blocked_by(rows.values(), now)
        if block is not None:
            raise TooManyAttempts(*block, now)
        for scope, row in rows.items():
            attempt.before[scope], attempt.after[scope] = add_failure(scope, row, now)
            row.save()
    return attempt


def succeeded(attempt: Attempt) -> None:
    """The password was right: clear the account's count and take back the address's."""
    with db.atomic():
        if ThrottleScope.ACCOUNT in attempt.keys:
            account = attempt.keys[ThrottleScope.ACCOUNT]
            SigninThrottle.delete().where(_where(ThrottleScope.ACCOUNT, account)).execute()
        row = db.locked(
            SigninThrottle.select().where(
                _where(ThrottleScope.ADDRESS, attempt.keys[ThrottleScope.ADDRESS])
            )
        ).first()
        if row is None:
            return
        address = ThrottleScope.ADDRESS
        take_back(row, attempt.before[address], attempt.after[address])
        row.save()


def failed(attempt: Attempt) -> WrongCredentials:
    """The password was wrong: audit a lock this failure started; the error to show."""
    now = clock.now()
    with db.atomic():
        for scope, (failures, until, locked) in sorted(attempt.after.items()):
            if (
                locked and until is not None
            ):  # `begin` refuses while blocked: every lock here is new
                SigninEvent.create(
                    event=SigninEventKind.LOCKED,
                    scope=scope,
                    key=attempt.keys[scope],
                    failures=failures,
                    until=until,
                    reason=f"{failures} failed sign-ins",
                    at=now,
                )
    wait_for = longest_wait(attempt.after.values())
    return WrongCredentials(None if wait_for is None else TooManyAttempts(*wait_for, now))


def blocked_rows() -> list[SigninThrottle]:
    """Usernames and addresses that must wait or are locked now, the longest block first."""
    return blocked_now(SigninThrottle, clock.now())


def unlock(row_id: int, actor: Admin) -> SigninThrottle:
    """An admin lifts a block and clears its count; the unlock is audited with their name."""
    with db.atomic():
        row = db.locked(SigninThrottle.select().where(SigninThrottle.id == row_id)).first()
        if row is None:
            raise NotFound("该登录限制（可能已解除）", "Sign-in block (already lifted?)")
        SigninThrottle.delete().where(SigninThrottle.id == row.id).execute()
        SigninEvent.create(
            event=SigninEventKind.UNLOCKED,
            scope=row.scope,
            key=row.key,
            failures=row.failures,
            until=row.blocked_until,
            by=actor.username,
            at=clock.now(),
        )
    return row


def audit_trail(limit: int = 50) -> list[SigninEvent]:
    """The latest locks and unlocks, newest first."""
    return list(SigninEvent.select().order_by(SigninEvent.id.desc()).limit(limit))
