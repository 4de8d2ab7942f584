"""The shared package on its own: the sign-in policy's arithmetic, the wait in words, strict
JSON bodies and the clocks. The apps' own tests drive the same code end to end over HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from flask import Flask

from kuaigong import jsonbody, signin_policy
from kuaigong.clock import ManualClock, RunningClock

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)


def test_failures_pass_then_wait_doubling_then_lock() -> None:
    rule = signin_policy.ACCOUNT
    assert [rule.block_for(n) for n in range(1, 9)] == [
        (0, False),
        (0, False),
        (0, False),
        (0, False),
        (30, False),
        (60, False),
        (120, False),
        (900, True),
    ]


def test_a_quiet_spell_wipes_the_count_and_config_overrides_the_policy() -> None:
    counted = signin_policy.count_failure("account", 4, T0, T0 + dt.timedelta(seconds=5))
    assert counted == signin_policy.Count(5, T0 + dt.timedelta(seconds=35), False)
    later = T0 + dt.timedelta(days=1, seconds=1)
    assert signin_policy.count_failure("account", 7, T0, later) == signin_policy.Count(
        1, None, False
    )
    app = Flask(__name__)
    app.config["SIGNIN_ACCOUNT_POLICY"] = {"free": 1, "lock_after": 2}
    with app.app_context():
        assert signin_policy.count_failure("account", 1, T0, T0).locked
        assert signin_policy.forget_before(T0) == T0 - dt.timedelta(days=1)


@dataclass
class _Row:
    failures: int = 0
    last_failure_at: dt.datetime | None = None
    blocked_until: dt.datetime | None = None
    locked: bool = False


def test_a_row_counts_failures_blocks_and_takes_one_back() -> None:
    row = _Row(failures=4, last_failure_at=T0)
    before, after = signin_policy.add_failure("account", row, T0)
    assert before == (4, T0, None, False) and after == (5, T0 + dt.timedelta(seconds=30), False)
    assert signin_policy.blocked_by([row, _Row()], T0) == (T0 + dt.timedelta(seconds=30), False)
    assert signin_policy.blocked_by([row], T0 + dt.timedelta(seconds=30)) is None
    assert signin_policy.longest_wait([after, (1, None, False)]) == (
        T0 + dt.timedelta(seconds=30),
        False,
    )
    assert signin_policy.longest_wait([(1, None, False)]) is None
    signin_policy.take_back(row, before, after)
    assert row == _Row(failures=4, last_failure_at=T0)
    signin_policy.add_failure("account", row, T0)
    row.failures += 1  # another attempt came in meanwhile: only ours is taken back
    signin_policy.take_back(row, before, after)
    assert row.failures == 5 and row.blocked_until == T0 + dt.timedelta(seconds=30)


def test_the_wait_is_rounded_up_and_shown_in_local_time() -> None:
    short = signin_policy.wait(T0 + dt.timedelta(seconds=29.2), T0, 8)
    assert (short.seconds, short.local, short.when_zh, short.when_en) == (
        30,
        "09:00:29",
        "30 秒",
        "30 seconds",
    )
    long = signin_policy.wait(T0 + dt.timedelta(minutes=15), T0, 8)
    assert (long.seconds, long.when_zh, long.when_en) == (900, "15 分钟", "15 minutes")


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        (b'{"a": 1, "a": 2}', "duplicate_key", "a"),
        (b'{"pay": NaN}', "invalid_number", "pay"),
        (b'{"pay": [1, 1' + b"0" * 400 + b"]}", "invalid_number", "pay"),
        (b"1e999", "invalid_number", "body"),
        (b"\xff{}", "body_not_utf8", "body"),
        (b"[" * 100_000 + b"]" * 100_000, "body_too_deep", "body"),
        (b"{", "invalid_json", "body"),
        (b"[1, 2]", "body_not_object", "body"),
    ],
)
def test_strict_bodies_are_refused_naming_the_field(raw: bytes, code: str, field: str) -> None:
    with pytest.raises(jsonbody.BodyError) as caught:
        jsonbody.parse_object(raw)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert caught.value.whole_body == (field == "body") and caught.value.message_zh


def test_a_good_body_reads_as_its_object() -> None:
    assert jsonbody.parse_object('{"名字": "张三", "pay": 12.5, "n": [1, -2]}'.encode()) == {
        "名字": "张三",
        "pay": 12.5,
        "n": [1, -2],
    }


def test_the_manual_clock_moves_only_when_told_and_the_running_clock_starts_pinned() -> None:
    manual = ManualClock(T0)
    assert manual.now() == T0 and manual.advance(90) == T0 + dt.timedelta(seconds=90)
    manual.set(T0)
    assert manual.now() == T0
    running = RunningClock(T0)
    assert T0 <= running.now() < T0 + dt.timedelta(minutes=1)
