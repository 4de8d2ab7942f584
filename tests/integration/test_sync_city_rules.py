"""City rules are decisions of the hub, never one side of a field conflict (issue 9 §4), end to
end over HTTP with a real hub server (SQLite and PostgreSQL) and two real stations:

- an employer registered at both stations and blocked by a city rule raises no field-conflict
  item and no kept loser at the hub; it ends blocked at the hub and at both stations, its open
  job held;
- a station admin who unblocks it locally does not win against the rule at the hub: the hub
  keeps it blocked, queues nothing, and tells that station the rule again, so after its next
  sync the station shows the employer blocked once more (reason 市级规则：…);
- an employer a station registers before it has heard of the rule is held blocked by the hub at
  once, and blocked at the station when its sync brings the rule;
- once the rule is withdrawn, a station's unblock stands at the hub.

Every station's clock is pinned at T0; nothing asserted reads the real date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from integration_helpers import Hub, Station, credit_code

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # 09:00 at the stations (UTC+8)
CODE = 4242


def _pinned(hub: Hub, make_station: Any, monkeypatch: Any, *names: str) -> list[Station]:
    """Stations enrolled with `hub`, each station's clock held at T0. The hub keeps its own
    clock (its HTTP Date header, which stations sign pulls with, is the machine's): nothing
    asserted here depends on what time it is there; the hub outranks every station whatever
    the time."""
    from kuaigong import clock as station_clock

    made = []
    for name in names:
        st = make_station(name)
        station_clock.install(st.app, station_clock.ManualClock(T0))
        _, code = hub.new_code(name)
        st.enroll(hub, code)
        made.append(st)
    return made


def _add_block(hub: Hub, reason: str = "收取押金") -> int:
    from central_hub.services import admins, rules

    with hub.ctx():
        admin = admins.create_admin("chen", "陈管理员", "admin", "hub-admin-password-1")
        return int(
            rules.add_rule(
                "blocked_employer",
                {"name": "朝阳物业", "credit_code": credit_code(CODE), "reason": reason},
                admin,
            ).id
        )


def _hub_state(hub: Hub) -> dict[str, Any]:
    """What the hub holds: field items queued, losers kept, each employer's blocked flag."""
    from central_hub.models import Employer, FieldLoss, Issue

    with hub.ctx():
        return {
            "field_items": [
                (i.details.get("entity"), i.details.get("field"))
                for i in Issue.select().where(Issue.kind == "field")
            ],
            "losses": [(f.entity, f.field) for f in FieldLoss.select()],
            "blocked": {e.id: (e.blocked, e.data.get("blocked")) for e in Employer.select()},
        }


def _station_employer(st: Station, employer_id: str) -> tuple[bool, str | None]:
    from station_node.models import Employer

    with st.ctx():
        row = Employer.get_by_id(employer_id)
        return bool(row.blocked), row.block_reason


def _sync_all(*stations: Station, rounds: int = 2) -> None:
    for _ in range(rounds):  # the second round carries up what applying the hub's entries wrote
        for st in stations:
            st.sync()


def test_a_city_block_of_an_employer_at_two_stations_is_the_hubs_decision_not_a_conflict(
    hub: Hub, make_station: Any, monkeypatch: Any
) -> None:
    from station_node.models import Job
    from station_node.services import registration

    east, west = _pinned(hub, make_station, monkeypatch, "east", "west")
    at_east, at_west = east.employer(CODE), west.employer(CODE)
    job = east.job(at_east, east.today() + dt.timedelta(days=2))
    _sync_all(east, west, rounds=1)
    rule_id = _add_block(hub)
    state = _hub_state(hub)
    assert state["blocked"] == {
        at_east: (True, True),
        at_west: (True, True),
    }  # the hub's own decision

    _sync_all(east, west)
    state = _hub_state(hub)
    assert state["field_items"] == [] and state["losses"] == []
    assert state["blocked"] == {at_east: (True, True), at_west: (True, True)}
    assert _station_employer(east, at_east) == (True, "市级规则：收取押金")
    assert _station_employer(west, at_west) == (True, "市级规则：收取押金")
    with east.ctx():
        assert Job.get_by_id(job).status == "held"

    # The desk cannot lift a block the city decided ...
    from kuaigong.errors import Conflict
    from station_node.hub_records import CityRule

    with east.ctx():
        with pytest.raises(Conflict) as refused:
            registration.unblock_employer(at_east, east.staff, "误封")
        assert refused.value.code == "city_rule"
    # ... but a station that has lost its copy of the rule (an old backup) may lift it: that
    # holds there only until the station syncs ...
    with east.ctx():
        CityRule.update(active=False).where(CityRule.kind == "blocked_employer").execute()
        registration.unblock_employer(at_east, east.staff, "误封")
    assert _station_employer(east, at_east)[0] is False
    _sync_all(east)
    # ... the hub keeps the rule's block and queues nothing; the station is told the rule again.
    state = _hub_state(hub)
    assert state["field_items"] == [] and state["losses"] == []
    assert state["blocked"][at_east] == (True, True)
    assert _station_employer(east, at_east) == (True, "市级规则：收取押金")
    from station_node.hub_records import HubEntry

    with east.ctx():
        told = [
            h for h in HubEntry.select() if h.entity == "city_rule" and h.entity_id == str(rule_id)
        ]
    assert [h.op for h in told] == ["create", "update"]  # the rule, then the rule again for us
    from central_hub.models import HubLogEntry

    with hub.ctx():
        again = HubLogEntry.get((HubLogEntry.entity == "city_rule") & (HubLogEntry.op == "update"))
        assert again.targets == [east.station_id]  # told to that station only
        log_seq = HubLogEntry.select().count()
    _sync_all(east, west)  # the re-block travels up as the hub's decision: quiet from here on
    with hub.ctx():
        assert HubLogEntry.select().count() == log_seq
    assert _hub_state(hub)["field_items"] == []


def test_an_employer_registered_before_the_station_knew_the_rule_is_blocked_by_the_hub(
    hub: Hub, make_station: Any, monkeypatch: Any
) -> None:
    from central_hub.services import rules
    from station_node.services import registration

    east, west = _pinned(hub, make_station, monkeypatch, "east", "west")
    rule_id = _add_block(hub)
    late = west.employer(CODE)  # west has not synced since the rule: it starts unblocked there
    assert _station_employer(west, late) == (False, None)
    west.sync()  # push (the create) then pull (the rule)
    assert _hub_state(hub)["blocked"][late] == (True, True)
    assert _station_employer(west, late) == (True, "市级规则：收取押金")
    _sync_all(west, east)
    state = _hub_state(hub)
    assert state["field_items"] == [] and state["losses"] == []

    # Withdrawn: a station's unblock from then on stands at the hub.
    from central_hub.models import Admin

    with hub.ctx():
        rules.withdraw_rule(rule_id, Admin.get(Admin.username == "chen"))
    west.sync()
    with west.ctx():
        registration.unblock_employer(late, west.staff, "规则已撤销")
    west.sync()
    state = _hub_state(hub)
    assert state["blocked"][late] == (False, False)
    assert state["field_items"] == []
    assert _station_employer(west, late)[0] is False


def test_a_field_item_queued_before_about_a_rule_blocked_employer_cannot_unblock_it(
    hub: Hub, make_station: Any, monkeypatch: Any
) -> None:
    """An item such as this hub queued before the fix (the rule's block against the station's
    create): choosing the station's value is refused with a 4xx naming the decision, the hub's
    record stays blocked; the rule's own value may be accepted."""
    import pytest

    from central_hub.models import Admin, Employer, Issue
    from central_hub.services import reconcile
    from kuaigong.errors import InvalidInput

    (east,) = _pinned(hub, make_station, monkeypatch, "east")
    employer = east.employer(CODE)
    east.sync()
    _add_block(hub)
    with hub.ctx():
        for field, hub_value in (("blocked", True), ("block_reason", "市级规则：收取押金")):
            reconcile.open_issue(
                "field",
                f"legacy:{field}",
                employer,
                [east.station_id, "hub"],
                {
                    "entity": "employer",
                    "entity_id": employer,
                    "field": field,
                    "winner_value": hub_value,
                    "winner_station": "hub",
                    "loser_value": None if field == "block_reason" else False,
                    "loser_station": east.station_id,
                },
            )
        admin = Admin.get(Admin.username == "chen")
        items = list(Issue.select().where(Issue.kind == "field").order_by(Issue.id))
        with pytest.raises(InvalidInput) as refused:
            reconcile.decide(items[0].id, "use_loser", "", admin)
        assert [(e.field, e.code) for e in refused.value.fields] == [("decision", "city_rule")]
        assert Issue.get_by_id(items[0].id).status == "open"
        assert reconcile.decide(items[1].id, "accept_winner", "", admin).status == "decided"
        assert Employer.get_by_id(employer).blocked
