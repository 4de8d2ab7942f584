"""After a long hub outage every station is back in sync within 2 minutes of the hub's return
(issue 9 §6), end to end: a real hub server (SQLite and PostgreSQL), three real stations each
with its own sync beat, driven as the scheduler drives it (every 2 s) over one pinned monotonic
clock. The hub goes away for an hour of simulated time while the stations keep registering
workers; it comes back on the same port; each station's lag is the simulated time from the
hub's return until the hub holds all of its entries.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from integration_helpers import Hub, Station

from station_node.sync.jobs import SyncBeat

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # the stations' pinned wall clock (09:00 at UTC+8)
TICK = 2.0  # the scheduler calls each station's beat this often (jobs.add_sync_job)


class Monotonic:
    """The beats' clock, moved by the test only."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _held_at_hub(hub: Hub, st: Station) -> int:
    from central_hub.models import Station as HubStation

    with hub.ctx():
        return int(HubStation.get_by_id(st.station_id).head_seq)


def _beat_all(beats: list[tuple[Station, SyncBeat]], clock: Monotonic, seconds: float) -> None:
    end = clock.t + seconds
    while clock.t < end:
        for st, beat in beats:
            st.activate()  # the station database proxy is per process: bind this station's file
            beat.tick()
        clock.t += TICK


def test_every_station_is_back_in_sync_within_two_minutes_of_the_hubs_return(
    hub: Hub, enrolled: Any, monkeypatch: Any
) -> None:
    from kuaigong import clock as station_clock

    monkeypatch.setattr(station_clock, "_system", station_clock.ManualClock(T0))
    stations = [enrolled(hub, name) for name in ("east", "west", "north")]
    for st in stations:
        station_clock.install(st.app, station_clock.ManualClock(T0))
    clock = Monotonic()
    beats = [
        (st, SyncBeat(st.app, rng=random.Random(i), monotonic=clock))
        for i, st in enumerate(stations)
    ]
    for st in stations:
        st.worker()
    _beat_all(beats, clock, TICK)
    assert all(_held_at_hub(hub, st) == st.entries() for st in stations)

    hub.stop()
    for minute in range(60):  # an hour without the hub; the stations keep working
        if minute % 10 == 0:
            for st in stations:
                st.worker()
        _beat_all(beats, clock, 60)
    assert all(beat.failures > 30 and beat.unreachable for _, beat in beats)
    for st in stations:
        assert st.status()["reachable"] is False and _held_at_hub(hub, st) < st.entries()

    hub.start()  # back on the same port
    back_at = clock.t
    lag: dict[str, float] = {}
    while len(lag) < len(stations) and clock.t - back_at <= 300:
        _beat_all(beats, clock, TICK)
        for st in stations:
            if st.name not in lag and _held_at_hub(hub, st) == st.entries():
                lag[st.name] = clock.t - back_at
    assert set(lag) == {"east", "west", "north"}, lag
    assert max(lag.values()) <= 120, lag  # the bound
    assert max(lag.values()) <= 10 + 2 * TICK, lag  # in fact: the next probe, then one round
    for st, beat in beats:
        assert beat.failures == 0 and st.status()["pending"] == 0
