"""Sign-in that cannot be guessed: failures counted per account and per client address.

Every attempt is counted before the credentials are checked (`begin`), so parallel guesses
cannot slip past the limit; a success takes its count back (`succeeded`). After a few failures
the next attempts must wait a growing delay (30 s, 60 s, 120 s), then the account or address is
locked for 15 minutes; while blocked, even the right credentials are refused. The kiosk is one
address shared by every resident, so an address may fail more often than one account before it
waits. Locks and unlocks go into the change log, where the console's audit trail reads them.
The policy itself (delays, lock, quiet spell) is kuaigong.signin_policy, shared with the hub.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import peewee

from kuaigong import clock
from kuaigong.errors import KuaigongError
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
from station_node import changelog, db
from station_node.models import ChangeEntry, SigninThrottle, Staff
from station_node.services import get_or_404, utc_offset_hours

T = TypeVar("T")

log = logging.getLogger(__name__)

AUDIT_ENTITY = "signin_lock"
KINDS = {
    "console": ("控制台", "console"),
    "kiosk": ("自助服务一体机", "kiosk"),
    "phone": ("手机登录", "phone sign-in"),
}
SCOPES = {"account": ("账号", "account"), "address": ("设备地址", "client address")}


class TooManyAttempts(KuaigongError):
    """Sign-in refused until a delay or lock passes (429)."""

    def __init__(self, until: dt.datetime, locked: bool, kind: str, now: dt.datetime) -> None:
        waiting = wait(until, now, utc_offset_hours())
        local, when_zh, when_en = waiting.local, waiting.when_zh, waiting.when_en
        what_zh = "已暂时锁定" if locked else "请稍候再试"
        what_en = "Sign-in is locked for now" if locked else "Please wait before trying again"
        if kind in ("kiosk", "phone"):  # residents: the desk helps them
            zh = (
                f"登录失败次数太多，{what_zh}。请在 {when_zh}后（{local} 以后）再试，"
                "或请服务台工作人员帮您登录。"
            )
            en = (
                f"Too many failed sign-ins. {what_en}: try again in {when_en} (after {local} "
                "station time), or ask the staff at the desk for help."
            )
        else:
            zh = (
                f"登录失败次数太多，{what_zh}。请在 {when_zh}后（{local} 以后）再试，"
                "或请驿站管理员解锁。"
            )
            en = (
                f"Too many failed sign-ins. {what_en}: try again in {when_en} (after {local} "
                "station time), or ask a station admin to unlock it."
            )
        super().__init__(
            "too_many_attempts",
            zh,
            en,
            status=429,
            details={"retry_after": waiting.seconds, "locked": locked},
        )
        self.retry_after = waiting.seconds


@dataclass
class Attempt:
    """One counted sign-in attempt, to be settled with `succeeded` or `failed`."""

    kind: str
    keys: dict[str, str]  # scope -> key
    before: dict[str, Before] = field(default_factory=dict)
    after: dict[str, After] = field(default_factory=dict)


def _row(kind: str, scope: str, key: str, label: str) -> SigninThrottle:
    SigninThrottle.insert(
        kind=kind, scope=scope, key=key, label=label[:64]
    ).on_conflict_ignore().execute()
    return SigninThrottle.get(
        (SigninThrottle.kind == kind)
        & (SigninThrottle.scope == scope)
        & (SigninThrottle.key == key)
    )


def address_key(address: str | None) -> str:
    """The client address as stored (a placeholder when the server does not know it)."""
    return (address or "unknown")[:64]


def begin(kind: str, account: tuple[str, str] | None, address: str | None) -> Attempt:
    """Count an attempt against the account (key, label) and the address, or refuse it (429)."""
    now = clock.now()
    targets = {"address": (address_key(address), address_key(address))}
    if account is not None:
        targets["account"] = (account[0][:64], account[1])
    attempt = Attempt(kind, {scope: key for scope, (key, _label) in targets.items()})
    with db.atomic():
        forget_old(SigninThrottle, now)
        rows = {scope: _row(kind, scope, key, label) for scope, (key, label) in targets.items()}
        block = blocked_by(rows.values(), now)
        if block is not None:
            raise TooManyAttempts(*block, kind, now)
        for scope, row in rows.items():
            attempt.before[scope], attempt.after[scope] = add_failure(scope, row, now)
            row.save()
    return attempt


def succeeded(attempt: Attempt) -> None:
    """The credentials were right: clear the account's count and take back the address's."""
    with db.atomic():
        if "account" in attempt.keys:
            SigninThrottle.delete().where(
                _where(attempt.kind, "account", attempt.keys["account"])
            ).execute()
        row = SigninThrottle.get_or_none(_where(attempt.kind, "address", attempt.keys["address"]))
        if row is None:
            return
        take_back(row, attempt.before["address"], attempt.after["address"])
        row.save()


def failed(attempt: Attempt) -> TooManyAttempts | None:
    """The credentials were wrong: log a lock this failure started; say how long to wait, if at
    all."""
    now = clock.now()
    for scope, (failures, until, locked) in attempt.after.items():
        if locked and until is not None:  # `begin` refuses while blocked: every lock here is new
            _audit_lock(attempt.kind, scope, attempt.keys[scope], failures, until)
    wait_for = longest_wait(attempt.after.values())
    return None if wait_for is None else TooManyAttempts(*wait_for, attempt.kind, now)


@dataclass
class Outcome(Generic[T]):
    """What a guarded sign-in came to: who signed in, or why not and how long to wait."""

    who: T | None = None
    refused: TooManyAttempts | None = None  # blocked before the credentials were looked at (429)
    wait: TooManyAttempts | None = None  # wrong credentials, and the next try must wait


def guarded(
    kind: str, account: tuple[str, str] | None, address: str | None, check: Callable[[], T | None]
) -> Outcome[T]:
    """Count the attempt, run `check` (the credentials' own test) unless blocked, settle it."""
    try:
        attempt = begin(kind, account, address)
    except TooManyAttempts as exc:
        return Outcome(refused=exc)
    who = check()
    if who is not None:
        succeeded(attempt)
        return Outcome(who=who)
    return Outcome(wait=failed(attempt))


def _where(kind: str, scope: str, key: str) -> peewee.Expression:
    return (
        (SigninThrottle.kind == kind)
        & (SigninThrottle.scope == scope)
        & (SigninThrottle.key == key)
    )


def _entity_id(row: SigninThrottle) -> str:
    return f"{row.kind}-{row.scope}-{row.id}"


def _record(row: SigninThrottle, fields: dict[str, object]) -> None:
    """Append an audit entry; a station whose log is paused still keeps the lock itself."""
    try:
        with db.atomic():
            changelog.record(
                AUDIT_ENTITY,
                _entity_id(row),
                "update",
                {"kind": row.kind, "scope": row.scope, "label": row.label, **fields},
            )
    except KuaigongError as exc:
        log.warning("sign-in audit entry not written: %s", exc)


def _audit_lock(kind: str, scope: str, key: str, failures: int, until: dt.datetime) -> None:
    row = SigninThrottle.get_or_none(_where(kind, scope, key))
    if row is not None:
        reason = f"{failures} failed sign-ins"
        _record(row, {"event": "locked", "failures": failures, "until": until, "reason": reason})


def blocked_rows() -> list[SigninThrottle]:
    """Accounts and addresses that must wait or are locked now, the longest block first."""
    return blocked_now(SigninThrottle, clock.now())


def unlock(row_id: int, actor: Staff) -> SigninThrottle:
    """A station admin lifts a block and clears the count; the unlock is logged with their name."""
    with db.atomic():
        row = get_or_404(SigninThrottle, row_id, "该登录限制", "Sign-in block")
        SigninThrottle.delete().where(SigninThrottle.id == row.id).execute()
        changelog.record(
            AUDIT_ENTITY,
            _entity_id(row),
            "update",
            {
                "kind": row.kind,
                "scope": row.scope,
                "label": row.label,
                "event": "unlocked",
                "by": actor.username,
                "failures": row.failures,
                "until": row.blocked_until,
            },
        )
    return row


def audit_trail(limit: int = 50) -> list[dict[str, object]]:
    """The latest lock and unlock entries of the change log, newest first."""
    rows = (
        ChangeEntry.select()
        .where(ChangeEntry.entity == AUDIT_ENTITY)
        .order_by(ChangeEntry.seq.desc())
        .limit(limit)
    )
    trail = []
    for row in rows:
        entry = {"at": row.created_at, **row.fields}
        if isinstance(entry.get("until"), str):
            entry["until"] = dt.datetime.fromisoformat(str(entry["until"]).rstrip("Z"))
        trail.append(entry)
    return trail
