"""End to end: three stations work offline, then meet a real hub over HTTP (SQLite and
PostgreSQL). The same person registered at two stations becomes one merge proposal; one person
booked into overlapping jobs at two stations becomes one booking conflict; everything else is
applied once; the admin's decisions reach both stations through the hub-signed log."""

from __future__ import annotations

import datetime as dt
from typing import Any

from integration_helpers import Hub, id_number


def _hub_counts(hub: Hub) -> dict[str, Any]:
    from central_hub.models import AppliedEntry, Assignment, Issue, Job, Worker

    with hub.ctx():
        return {
            "applied": AppliedEntry.select().count(),
            "workers": Worker.select().count(),
            "jobs": Job.select().count(),
            "assignments": Assignment.select().count(),
            "issues": sorted(i.kind for i in Issue.select().where(Issue.status == "open")),
        }


def test_offline_stations_meet_at_the_hub(hub: Hub, enrolled: Any) -> None:
    a, b, c = enrolled(hub, "east"), enrolled(hub, "west"), enrolled(hub, "north")
    day = a.today() + dt.timedelta(days=3)
    same_person = id_number(7, "19750505")

    # Offline: each station registers and dispatches on its own.
    wa = a.worker(same_person, name="李四")
    wb = b.worker(same_person, name="李四")
    for st in (a, b, c):
        st.worker()
        st.worker()
    ja = a.job(a.employer(), day, "08:00", "12:00", title="东区保洁")
    jb = b.job(b.employer(), day, "10:00", "15:00", title="西区搬运")
    booked_a = a.assign(ja, wa)
    booked_b = b.assign(jb, wb)
    c.job(c.employer(), day)

    totals = {st.name: st.entries() for st in (a, b, c)}
    for st in (a, b, c):
        out = st.sync()
        assert out.accepted_seq == st.entries()
    counts = _hub_counts(hub)
    assert counts["applied"] == sum(totals.values())
    assert counts["workers"] == 8
    assert counts["jobs"] == 3
    assert counts["issues"] == ["booking", "merge"]

    # Syncing again sends nothing and changes nothing.
    for st in (a, b, c):
        assert st.sync().pushed == 0
    assert _hub_counts(hub) == counts

    # The admin decides; both stations learn it from the hub log.
    from central_hub.models import Issue
    from central_hub.services import reconcile

    with hub.ctx():
        merge = Issue.get((Issue.kind == "merge") & (Issue.status == "open"))
        booking = Issue.get((Issue.kind == "booking") & (Issue.status == "open"))
        assert set(merge.stations) == {a.station_id, b.station_id}
        reconcile.decide(merge.id, "confirm", "同一人", None)
        reconcile.decide(booking.id, "keep", "先到先得", None, keep=booked_a)

    for st in (a, b, c):
        st.sync()
    from station_node.hub_records import HubEntry
    from station_node.models import Assignment

    with b.ctx():
        assert Assignment.get_by_id(booked_b).status == "cancelled"
        outcomes = [h.outcome for h in HubEntry.select()]
        assert any(o.startswith("applied: merge confirm") for o in outcomes)
    from station_node.models import Worker
    from station_node.sync.decisions import person_decisions

    with a.ctx():
        assert Assignment.get_by_id(booked_a).status == "confirmed"
        [decided] = person_decisions(Worker.get_by_id(wa))  # shown on the worker's page
        assert decided.confirmed and decided.elsewhere == ["west"] and decided.note == "同一人"
    with c.ctx():
        assert not any(
            "merge" in h.outcome for h in HubEntry.select()
        )  # the decision does not concern c
    # b's cancellation, made on the hub's word, travels back with the hub as its origin.
    b.sync()
    from central_hub.models import Assignment as HubAssignment

    with hub.ctx():
        assert HubAssignment.get_by_id(booked_b).status == "cancelled"
