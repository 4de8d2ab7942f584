"""A station sees the hub's annual evaluation of itself after a sync, end to end over HTTP with
a real hub server (SQLite and PostgreSQL) and two real stations: the score, the grade, each
indicator, what pulls the score down and the rectification deadline in local time; the other
station's evaluation never shows there; a re-evaluation reaches it on the next sync.

The hub's clock is pinned, in the past, while it evaluates (the deadline follows from it) and
real while the stations sync (they sign their pulls with its Date header, and take no hub entry
from ahead of it); every station's clock is pinned before that. Every pinned moment lies before
the earliest day the faked-clock runs start on (2026-03-02), so no run's "now" precedes them.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from integration_helpers import Hub, Station

T0 = dt.datetime(2024, 6, 1, 2, 0, 0)  # 10:00 at the stations (UTC+8)
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


def _pinned(hub: Hub, make_station: Any, *names: str) -> list[Station]:
    from kuaigong import clock as station_clock

    made = []
    for name in names:
        st = make_station(name)
        station_clock.install(st.app, station_clock.ManualClock(T0))
        _, code = hub.new_code(name)
        st.enroll(hub, code)
        made.append(st)
    return made


def _console_page(st: Station, path: str) -> str:
    client = st.app.test_client()
    st.activate()
    token = CSRF.search(client.get("/console/login").get_data(as_text=True))
    assert token
    signed = client.post(
        "/console/login",
        data={"username": "wang", "password": "password-1", "csrf_token": token.group(1)},
    )
    assert signed.status_code == 302
    st.activate()
    page = client.get(path)
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_a_station_sees_its_own_evaluation_after_a_sync(hub: Hub, make_station: Any) -> None:
    from central_hub.models import RectificationCase
    from central_hub.services import admins, evaluation
    from kuaigong import clock as hub_clock

    east, west = _pinned(hub, make_station, "东城驿站", "西城驿站")
    east.worker()
    assert east.sync().pushed >= 1  # the hub holds east's registration

    hub_clock.install(hub.app, hub_clock.ManualClock(dt.datetime(2025, 1, 5, 2, 0, 0)))
    with hub.ctx():
        admin = admins.create_admin("chen", "陈管理员", "admin", "hub-admin-password-1")
        published = {r.station: r for r in evaluation.publish(2024, admin)}
        assert published[east.station_id].measured["registrations"] == 1
        case_id = RectificationCase.get(RectificationCase.station == east.station_id).id
    # Stations sign their pulls with the hub's real Date header: the hub answers in real time.
    hub_clock.install(hub.app, hub_clock.SystemClock())

    east.sync()
    west.sync()
    page = _console_page(east, "/console/evaluation")
    total = published[east.station_id].total
    assert f'id="score-2024">{total:g}</strong>' in page
    assert 'id="grade-2024">不合格</strong>' in page
    # 90 days from 2025-01-05 (Beijing), to the end of that local day.
    assert "2025-04-05 23:59" in page
    assert "整改中" in page
    pulls = page[page.index('class="pulls-down"') :]
    assert pulls.index("岗位满员率") < pulls.index("新登记人数")  # 12 points lost before 10
    assert '<tr data-indicator="registrations">' in page and "1人" in page
    # West sees its own evaluation, not east's.
    west_page = _console_page(west, "/console/evaluation")
    assert "2025-04-05 23:59" in west_page
    assert west_page.count('class="panel" id="evaluation-') == 1

    hub_clock.install(hub.app, hub_clock.ManualClock(dt.datetime(2025, 4, 6, 2, 0, 0)))
    with hub.ctx():
        evaluation.reevaluate(case_id, admin)
    hub_clock.install(hub.app, hub_clock.SystemClock())
    east.sync()
    page = _console_page(east, "/console/evaluation")
    assert "复评仍不合格，建议关停" in page
    english = _console_page(east, "/console/evaluation?lang=en")
    assert "Failed again: closure recommended" in english and "Registrations" in english
