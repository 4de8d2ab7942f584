"""Loaded (through PYTHONPATH) by every Python process of `make test-clock`, which runs the
suites under Debian's libfaketime with the real monotonic clock (FAKETIME_DONT_FAKE_MONOTONIC=1:
with a faked one, lock and queue timeouts never end, as libfaketime does not translate
sem_clockwait). libfaketime 0.9.10 still shifts the absolute CLOCK_MONOTONIC deadline that
time.sleep() hands to clock_nanosleep() by the faked wall-clock offset, and the kernel refuses
it (EINVAL); so under libfaketime time.sleep waits with select(), which takes a relative timeout."""

from __future__ import annotations

import os
import select
import time

_real_sleep = time.sleep


def _sleep(seconds: float) -> None:
    """time.sleep through select(): a relative wait libfaketime passes through unchanged."""
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


if (
    "faketime" in os.environ.get("LD_PRELOAD", "")
    and os.environ.get("FAKETIME_DONT_FAKE_MONOTONIC") == "1"
):
    time.sleep = _sleep
