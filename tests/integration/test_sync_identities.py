"""One person however their ID number is typed, across stations and the hub, end to end: one
station registers a full-width number, another the same number in ASCII with hyphens; after a
real sync the hub holds one keyed hash for both (a merge proposal names the two records), and a
hub admin finds that person by typing the number in yet another form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from integration_helpers import Hub, id_number

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # 09:00 at the stations (UTC+8); both apps run from here


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _pinned_stations(hub: Hub, make_station: Any, monkeypatch: Any, *names: str) -> list[Any]:
    """Stations enrolled with `hub`, every clock (hub, stations, their first log entries) at T0."""
    from kuaigong import clock as hub_clock
    from kuaigong import clock as station_clock

    monkeypatch.setattr(hub_clock, "_system", hub_clock.RunningClock(T0))
    monkeypatch.setattr(station_clock, "_system", station_clock.ManualClock(T0))
    hub_clock.install(hub.app, hub_clock.RunningClock(T0))
    made = []
    for name in names:
        st = make_station(name)
        station_clock.install(st.app, station_clock.ManualClock(T0))
        _, code = hub.new_code(name)
        st.enroll(hub, code)
        made.append(st)
    return made


def test_a_full_width_and_an_ascii_number_are_one_person_at_the_hub(
    sqlite_hub: Hub, make_station: Any, monkeypatch: Any
) -> None:
    from central_hub.models import Issue
    from central_hub.services import idnumbers

    east, west = _pinned_stations(sqlite_hub, make_station, monkeypatch, "east", "west")
    number = id_number(7, birth="19810203")
    first = east.worker(_full_width(number.lower()), name="周敏")
    second = west.worker("-".join((number[:6], number[6:14], number[14:])), name="周敏")
    for st in (east, west):
        out = st.sync()
        assert getattr(out, "error", None) in (None, ""), out

    with sqlite_hub.ctx():
        id_hash = idnumbers.hash_id_number(number)
        merge = Issue.get((Issue.kind == "merge") & (Issue.subject == id_hash))
        assert sorted(w["id"] for w in merge.details["workers"]) == sorted([first, second])
        assert idnumbers.find_person(f" {_full_width(number)} ") == id_hash

    from central_hub.services import admins

    with sqlite_hub.ctx():
        admins.create_admin("chen", "陈", "admin", "hub-admin-password-1")
    client = sqlite_hub.app.test_client()
    token = re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)
    )
    assert token
    assert (
        client.post(
            "/login",
            data={
                "username": "chen",
                "password": "hub-admin-password-1",
                "csrf_token": token.group(1),
            },
        ).status_code
        == 302
    )
    page = client.get("/people/").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert csrf
    found = client.post("/people/", data={"id_number": number.lower(), "csrf_token": csrf.group(1)})
    assert found.status_code == 303 and found.headers["Location"].endswith(f"/people/{id_hash}")
    person = client.get(found.headers["Location"]).get_data(as_text=True)
    assert "周敏" in person and "********" in person and number not in person
