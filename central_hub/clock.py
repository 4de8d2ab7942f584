"""The hub's clock. Services ask `now()`; tests install a ManualClock on the app (the clock
classes are kuaigong.clock's)."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, has_app_context

from kuaigong.clock import Clock, ManualClock, RunningClock, SystemClock

__all__ = ["Clock", "ManualClock", "RunningClock", "SystemClock", "install", "now", "now_ms"]

_system = SystemClock()


def install(app: Flask, clock: Clock) -> None:
    """Make `clock` the time source of every service called inside this app."""
    app.extensions["kuaigong_hub_clock"] = clock


def now() -> dt.datetime:
    """Current naive UTC time from the app's clock (system time outside an app)."""
    if has_app_context():
        clock = current_app.extensions.get("kuaigong_hub_clock")
        if clock is not None:
            return clock.now()
    return _system.now()


def now_ms() -> int:
    """Current time as milliseconds since the Unix epoch."""
    return int(now().replace(tzinfo=dt.UTC).timestamp() * 1000)
