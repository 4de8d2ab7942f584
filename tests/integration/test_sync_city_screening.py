"""End to end over HTTP, a real hub process and real stations: a screening phrase a hub admin
adds holds a matching posting at a station after one sync, and a city block of a credit code or
an ID number blocks the employer at the station that holds it (its open job held) and the moment
it is registered again at another station."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from integration_helpers import HubProcess, Station, credit_code, id_number

from kuaigong import clock

PASSWORD = "hub-admin-password-1"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub_process(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubProcess]:
    """The hub served by a process of its own, with an admin account."""
    from central_hub.services import admins

    hub = HubProcess(tmp_path, request.param)
    try:
        hub.start()
        with hub.ctx():
            admins.create_admin("chen", "陈管理员", "admin", PASSWORD)
        yield hub
    finally:
        hub.close()


def _hub_admin(hub: HubProcess) -> requests.Session:
    """A browser-like session signed in at the hub's admin pages."""
    session = requests.Session()
    session.post(
        f"{hub.url}/login",
        data={
            "username": "chen",
            "password": PASSWORD,
            "csrf_token": _csrf(session, f"{hub.url}/login"),
        },
        timeout=10,
    )
    return session


def _csrf(session: requests.Session, url: str) -> str:
    page = session.get(url, timeout=10).text
    found = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def _add_rule(session: requests.Session, hub: HubProcess, data: dict[str, str]) -> None:
    answer = session.post(
        f"{hub.url}/rules/",
        data={**data, "csrf_token": _csrf(session, f"{hub.url}/rules/")},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text


def _enrolled(tmp_path: Path, hub: HubProcess, name: str) -> Station:
    st = Station(tmp_path, name)
    _, code = hub.new_code(name)
    st.enroll(hub, code)
    return st


def _post(st: Station, employer_id: str, description: str) -> dict[str, Any]:
    """Post a job through the station's JSON API as its admin; the job as answered."""
    from station_node.services.staff import rotate_staff_token

    with st.ctx():
        token = rotate_staff_token(st.staff.id)
        day = (clock.now() + dt.timedelta(hours=8, days=3)).date()  # the station's own clock
    client = st.app.test_client()
    answer = client.post(
        "/api/v1/jobs",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "employer_id": employer_id,
            "title": "商场促销",
            "category": "property",
            "description": description,
            "headcount": 2,
            "pay_fen": 2500,
            "pay_unit": "hour",
            "address": "团结湖北里3号楼",
            "community": "团结湖社区",
            "starts_at": f"{day}T08:00",
            "ends_at": f"{day}T17:00",
            "dispatch_mode": "grab",
        },
    )
    st.activate()
    assert answer.status_code == 201, answer.get_json()
    return dict(answer.get_json()["job"])


def _codes(job: dict[str, Any]) -> list[str]:
    return [r["code"] for r in job["screening"]["reasons"]]


def test_a_city_phrase_holds_a_matching_posting_after_one_sync(
    tmp_path: Path, hub_process: HubProcess
) -> None:
    st = _enrolled(tmp_path, hub_process, "east")
    employer = st.employer()
    posting = "周末锦 鯉 岗位，欢迎报名"
    assert _post(st, employer, posting)["status"] == "open"

    admin = _hub_admin(hub_process)
    _add_rule(
        admin,
        hub_process,
        {"kind": "screening_phrase", "phrase_kind": "bait_wording", "phrase": "锦鲤岗位"},
    )
    from station_node.services import vocabulary

    with st.ctx():  # the station's own phrase travels up in its change log like any change
        vocabulary.add_phrase({"kind": "training_trap", "phrase": "学技术包分配"}, st.staff)
    out = st.sync()
    assert out.accepted_seq == st.entries()
    held = _post(st, employer, posting)
    assert held["status"] == "held" and "bait_wording" in _codes(held)

    # withdrawn at the hub: the next sync drops it here
    from central_hub.models import CityRule

    with hub_process.ctx():
        rule_id = CityRule.get(CityRule.kind == "screening_phrase").id
    answer = admin.post(
        f"{hub_process.url}/rules/{rule_id}/withdraw",
        data={"csrf_token": _csrf(admin, f"{hub_process.url}/rules/")},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    st.sync()
    assert _post(st, employer, posting)["status"] == "open"


def test_a_city_block_reaches_the_station_holding_the_employer_and_its_registration_elsewhere(
    tmp_path: Path, hub_process: HubProcess
) -> None:
    from station_node.models import Employer, Job
    from station_node.services.registration import register_employer

    east, west = _enrolled(tmp_path, hub_process, "east"), _enrolled(tmp_path, hub_process, "west")
    code = credit_code(4242)
    employer = east.employer(4242)
    job = _post(east, employer, "楼道和地库清扫，工具由物业提供")
    assert job["status"] == "open"
    east.sync()

    admin = _hub_admin(hub_process)
    _add_rule(
        admin,
        hub_process,
        {
            "kind": "blocked_employer",
            "name": "朝阳物业",
            "credit_code": code.lower(),
            "reason": "收取押金",
        },
    )
    number = id_number(77, "19700303")
    _add_rule(
        admin,
        hub_process,
        {"kind": "blocked_employer", "name": "王某", "id_number": number, "reason": "扣押身份证"},
    )
    from central_hub.models import CityRule, HubLogEntry

    with hub_process.ctx():
        for entry in HubLogEntry.select().where(HubLogEntry.entity == "city_rule"):
            assert number not in entry.raw  # the hub keeps the keyed hash, never the number
        assert all(number not in str(r.body) for r in CityRule.select())

    east.sync()
    with east.ctx():
        assert Employer.get_by_id(employer).blocked
        assert Job.get_by_id(job["id"]).status == "held"

    west.sync()
    with west.ctx():
        again = register_employer(
            {
                "kind": "organisation",
                "name": "朝阳物业（新址）",
                "credit_code": code,
                "contact_name": "李经理",
                "mobile": "13912345678",
                "address": "团结湖路9号",
            },
            west.staff,
        )
        person = register_employer(
            {
                "kind": "person",
                "name": "王某",
                "id_number": number,
                "contact_name": "王某",
                "mobile": "13912345679",
                "address": "团结湖路10号",
            },
            west.staff,
        )
        clean = register_employer(
            {
                "kind": "organisation",
                "name": "团结湖保洁",
                "credit_code": credit_code(4343),
                "contact_name": "赵经理",
                "mobile": "13912345670",
                "address": "团结湖路11号",
            },
            west.staff,
        )
        assert (again.blocked, again.block_reason) == (True, "市级规则：收取押金")
        assert (person.blocked, person.block_reason) == (True, "市级规则：扣押身份证")
        assert not clean.blocked
    held = _post(west, again.id, "楼道和地库清扫，工具由物业提供")
    assert held["status"] == "held" and _codes(held) == ["employer_blocked"]
