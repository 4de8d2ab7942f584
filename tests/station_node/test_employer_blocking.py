"""Blocking an employer bites at once: its live jobs go to review (reason employer_blocked),
pending offers are withdrawn, grabs, offers and hand assignment are refused with a Chinese
message, a freed place does not reopen a job, and unblocking releases nothing by itself.
A block by city rule (credit code or keyed ID hash) does the same, and an employer on the
city's block list is blocked the moment it is registered again."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from dispatch_conftest import JOB_END, JOB_START, T0, add_job, add_worker, clock_at_t0, engine_app
from flask import Flask
from stdnum.cn import ric, uscc
from web_helpers import ADMIN_PASSWORD, Api, employer_body, worker_body

import sync_protocol as sp
from kuaigong import clock
from kuaigong.errors import Conflict
from station_node import identity
from station_node import station_state as state
from station_node.models import Assignment, ChangeEntry, Employer, Job, Offer, Staff
from station_node.services import dispatch, employer_blocks, posting, registration
from station_node.services.staff import create_staff
from station_node.sync import decisions

__all__ = ["clock_at_t0", "engine_app"]  # fixtures used by name

_hub_seq = itertools.count(1)
_codes = itertools.count(500)


def _credit_code() -> str:
    body = f"91110105MA0{next(_codes):06d}"
    return body + uscc.calc_check_digit(body)


def _id_number(seq: int) -> str:
    body = f"11010519750101{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def admin(engine_app: Flask) -> Staff:
    member, _ = create_staff("wang", "王主任", "admin", "password-1")
    return member


def _register(admin: Staff, **over: Any) -> Employer:
    data: dict[str, Any] = {
        "kind": "organisation",
        "name": "朝阳劳务有限公司",
        "credit_code": _credit_code(),
        "contact_name": "李经理",
        "mobile": "13912345678",
        "address": "团结湖路1号",
    }
    data.update(over)
    return registration.register_employer(data, admin)


def _pending(job: Job) -> int:
    return Offer.select().where((Offer.job == job.id) & (Offer.status == "pending")).count()


def _reasons(job_id: str) -> list[str]:
    return [r["code"] for r in Job.get_by_id(job_id).screening_reasons]


def test_a_block_holds_live_jobs_withdraws_offers_and_refuses_grabs_and_offers(
    engine_app: Flask, clock_at_t0: clock.ManualClock, admin: Staff
) -> None:
    workers = [add_worker(present=True) for _ in range(4)]
    offered = add_job(headcount=2, dispatch_mode="offer")
    employer = offered.employer
    grabbed = add_job(employer=employer, headcount=3, dispatch_mode="grab")
    other = add_job(dispatch_mode="grab")  # another employer's job is untouched
    assert _pending(offered) == 2
    first_offer = Offer.select().where(Offer.job == offered.id).first()
    dispatch.grab(grabbed.id, workers[3].id, None)  # one place taken before the block
    log_before = ChangeEntry.select().count()

    registration.block_employer(employer.id, "多次收取押金", admin)

    for job in (offered, grabbed):
        row = Job.get_by_id(job.id)
        assert row.status == "held" and _reasons(job.id) == ["employer_blocked"]
        assert "多次收取押金" in row.screening_reasons[0]["message_zh"]
    assert _pending(offered) == 0
    assert (
        Offer.select().where((Offer.job == offered.id) & (Offer.status == "withdrawn")).count() == 2
    )
    assert Job.get_by_id(other.id).status == "open"
    logged = ChangeEntry.select().where(ChangeEntry.seq > log_before)
    assert {(e.entity, e.fields.get("status")) for e in logged} >= {
        ("job", "held"),
        ("offer", "withdrawn"),
        ("employer", None),
    }
    # the confirmed worker keeps their place
    assert Assignment.select().where(Assignment.job == grabbed.id).get().status == "confirmed"

    with pytest.raises(Conflict) as grab:
        dispatch.grab(grabbed.id, workers[0].id, None)
    assert grab.value.code == "employer_blocked" and "该用工方已被暂停" in grab.value.message("zh")
    with pytest.raises(Conflict) as assign:
        dispatch.assign(offered.id, workers[0].id, admin)
    assert assign.value.code == "employer_blocked"
    with pytest.raises(Conflict) as accept:  # the withdrawn offer says why
        dispatch.accept_offer(first_offer.id, first_offer.worker_id, None)
    assert accept.value.code == "employer_blocked" and "暂停抢单和派单" in accept.value.message(
        "zh"
    )

    clock_at_t0.advance(3600)  # the engine's beats send nothing for it
    dispatch.tick()
    assert _pending(offered) == 0 and Offer.select().where(Offer.job == grabbed.id).count() == 0
    dispatch.grab(other.id, workers[0].id, None)  # other employers' jobs still take grabs


def test_unblocking_releases_nothing_and_staff_release_afterwards(
    engine_app: Flask, clock_at_t0: clock.ManualClock, admin: Staff
) -> None:
    for _ in range(3):
        add_worker(present=True)
    job = add_job(headcount=2, dispatch_mode="offer")
    registration.block_employer(job.employer_id, "投诉核实：扣押身份证", admin)
    with pytest.raises(Conflict) as refused:
        posting.release_job(job.id, admin)
    assert refused.value.code == "employer_blocked" and Job.get_by_id(job.id).status == "held"

    registration.unblock_employer(job.employer_id, admin)
    assert Job.get_by_id(job.id).status == "held" and _pending(job) == 0
    released = posting.release_job(job.id, admin)
    assert released.status == "open" and _pending(job) == 2


def test_a_freed_place_does_not_reopen_a_blocked_employers_job(
    engine_app: Flask, clock_at_t0: clock.ManualClock, admin: Staff
) -> None:
    from station_node.services.assignments import cancel_assignment

    worker = add_worker(present=True)
    add_worker(present=True)
    job = add_job(headcount=1, dispatch_mode="grab")
    taken = dispatch.grab(job.id, worker.id, None)
    assert Job.get_by_id(job.id).status == "filled"
    registration.block_employer(job.employer_id, "拖欠工资", admin)
    assert Job.get_by_id(job.id).status == "filled"  # nothing open to hold

    cancel_assignment(taken.id, "employer", "用工方取消", admin)
    row = Job.get_by_id(job.id)
    assert (
        row.status == "held" and "employer_blocked" in _reasons(job.id) and row.confirmed_count == 0
    )


def test_a_posting_by_a_blocked_employer_is_held(
    engine_app: Flask, clock_at_t0: clock.ManualClock, admin: Staff
) -> None:
    employer = _register(admin)
    registration.block_employer(employer.id, "拖欠工资", admin)
    day = (T0 + dt.timedelta(hours=8, days=1)).date()
    job = posting.post_job(
        {
            "employer_id": employer.id,
            "title": "小区保洁",
            "category": "property",
            "headcount": 1,
            "pay_fen": 2500,
            "pay_unit": "hour",
            "address": "团结湖北里3号楼",
            "community": "团结湖社区",
            "starts_at": f"{day}T08:00",
            "ends_at": f"{day}T17:00",
        },
        admin,
    )
    assert job.status == "held" and "employer_blocked" in _reasons(job.id)


# ---------------------------------------------------------------- the city's block list


def _enrol() -> None:
    state.save_enrolment(
        state.Enrolment("http://10.0.0.9:8090", "st-east", "东城", "hub", "00" * 32, "", "k")
    )


def _apply(entity_id: str, fields: dict[str, Any], op: str = "create") -> str:
    entry = sp.make_entry(
        station="hub",
        epoch=1,
        seq=next(_hub_seq),
        prev_hash=None,
        hlc=(1_780_000_000_000, 0),
        entity="city_rule",
        entity_id=entity_id,
        op=op,
        fields=fields,
        origin="hub",
    )
    raw = sp.encode_entry(entry)
    return decisions.apply_entry(sp.AcceptedEntry(entry, raw, sp.entry_hash(raw)), blocked=False)


def test_a_city_block_by_credit_code_or_id_hash_holds_the_jobs_here(
    engine_app: Flask, clock_at_t0: clock.ManualClock, admin: Staff
) -> None:
    identity.ensure_keys(engine_app)
    _enrol()
    for _ in range(3):
        add_worker(present=True)
    organisation = _register(admin)
    person = _register(admin, kind="person", name="王某", id_number=_id_number(7), credit_code=None)
    jobs = [
        add_job(employer=organisation, dispatch_mode="offer"),
        add_job(employer=person, dispatch_mode="grab"),
    ]

    outcome = _apply(
        "71",
        {
            "kind": "blocked_employer",
            "name": "朝阳劳务",
            "credit_code": organisation.credit_code.lower(),
            "reason": "收取押金",
        },
    )
    assert outcome == "applied: rule stored, 1 employer(s) blocked"
    assert (
        Employer.get_by_id(organisation.id).blocked and Job.get_by_id(jobs[0].id).status == "held"
    )
    assert Employer.get_by_id(organisation.id).block_reason == "市级规则：收取押金"
    assert Job.get_by_id(jobs[1].id).status == "open"
    with pytest.raises(Conflict) as lifted:  # the desk cannot lift what the city decided
        registration.unblock_employer(organisation.id, admin)
    assert lifted.value.code == "city_rule" and "市级规则" in lifted.value.message_zh
    assert Employer.get_by_id(organisation.id).blocked

    outcome = _apply(
        "72",
        {
            "kind": "blocked_employer",
            "name": "王某",
            "credit_code": None,
            "id_hash": identity.hash_id(_id_number(7)),
            "reason": "扣押身份证",
        },
    )
    assert outcome == "applied: rule stored, 1 employer(s) blocked"
    assert Job.get_by_id(jobs[1].id).status == "held" and _pending(jobs[0]) == 0
    entry = (
        ChangeEntry.select()
        .where(ChangeEntry.entity == "employer")
        .order_by(ChangeEntry.seq.desc())
        .get()
    )
    assert entry.origin == "hub" and entry.fields["blocked"] is True


def test_an_employer_on_the_citys_block_list_is_blocked_when_registered_again(
    engine_app: Flask, clock_at_t0: clock.ManualClock, admin: Staff
) -> None:
    identity.ensure_keys(engine_app)
    _enrol()
    code, withdrawn_code = _credit_code(), _credit_code()
    number = _id_number(9)
    _apply(
        "81",
        {"kind": "blocked_employer", "name": "黑中介", "credit_code": code, "reason": "收取押金"},
    )
    _apply(
        "82",
        {
            "kind": "blocked_intermediary",
            "name": "某中介",
            "id_hash": identity.hash_id(number),
            "credit_code": None,
            "reason": "培训贷",
        },
    )
    _apply(
        "83",
        {
            "kind": "blocked_employer",
            "name": "已撤销",
            "credit_code": withdrawn_code,
            "reason": "误报",
        },
    )
    _apply("83", {"kind": "blocked_employer"}, op="delete")

    again = _register(admin, credit_code=f" {code.lower()} ")
    assert again.blocked and again.block_reason == "市级规则：收取押金"
    created = (
        ChangeEntry.select()
        .where((ChangeEntry.entity == "employer") & (ChangeEntry.entity_id == again.id))
        .get()
    )
    assert (
        created.fields["blocked"] is True and created.fields["block_reason"] == "市级规则：收取押金"
    )

    person = _register(
        admin, kind="person", name="赵某", id_number=number.lower(), credit_code=None
    )
    assert person.blocked and person.block_reason == "市级规则：培训贷"

    cleared = _register(admin, credit_code=withdrawn_code)
    assert not cleared.blocked
    assert employer_blocks.city_block(None, None) is None


# ---------------------------------------------------------------- over HTTP


def test_api_block_holds_the_job_and_a_grab_is_told_why(web_app: Flask, api: Api) -> None:
    clock.install(web_app, clock.ManualClock(T0))
    employer = api.post("/employers", employer_body()).get_json()["employer"]["id"]
    worker = api.post("/workers", worker_body()).get_json()["worker"]["id"]
    assert api.post(f"/workers/{worker}/checkin").status_code == 200
    start, end = (
        (JOB_START + dt.timedelta(hours=8)).isoformat(),
        (JOB_END + dt.timedelta(hours=8)).isoformat(),
    )
    job = api.post(
        "/jobs",
        {
            "employer_id": employer,
            "title": "小区保洁",
            "category": "property",
            "headcount": 2,
            "pay_fen": 2500,
            "pay_unit": "hour",
            "address": "团结湖北里3号楼",
            "community": "团结湖社区",
            "starts_at": start,
            "ends_at": end,
            "dispatch_mode": "grab",
            "skills": ["cleaning"],
        },
    ).get_json()["job"]
    assert job["status"] == "open"

    assert api.post(f"/employers/{employer}/block", {"reason": "收取押金"}).status_code == 200
    shown = api.get(f"/jobs/{job['id']}").get_json()["job"]
    assert shown["status"] == "held" and [r["code"] for r in shown["screening"]["reasons"]] == [
        "employer_blocked"
    ]

    refused = api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "employer_blocked" and "暂停抢单和派单" in error["message"]
    english = api.post(
        f"/jobs/{job['id']}/grab", {"worker_id": worker}, headers={"Accept-Language": "en"}
    )
    assert "takes no grabs or offers" in english.get_json()["error"]["message"]

    assert api.post(f"/employers/{employer}/unblock").status_code == 200
    assert api.get(f"/jobs/{job['id']}").get_json()["job"]["status"] == "held"
    assert api.post(f"/jobs/{job['id']}/release").get_json()["job"]["status"] == "open"
    assert api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker}).status_code == 201


def test_the_console_warns_when_a_registration_hits_the_citys_block_list(
    web_app: Flask, admin_token: str
) -> None:
    import re

    from station_node import db

    clock.install(web_app, clock.ManualClock(T0))
    code = _credit_code()
    with web_app.app_context(), db.database.connection_context():
        _enrol()
        _apply(
            "91",
            {
                "kind": "blocked_employer",
                "name": "黑中介",
                "credit_code": code,
                "reason": "收取押金",
            },
        )
    client = web_app.test_client()
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    login = client.get("/console/login").get_data(as_text=True)
    client.post(
        "/console/login",
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": token.search(login).group(1),
        },
    )  # type: ignore[union-attr]
    form = client.get("/console/employers/new").get_data(as_text=True)
    page = client.post(
        "/console/employers/new",
        follow_redirects=True,
        data={
            "kind": "organisation",
            "name": "黑中介（新址）",
            "credit_code": code,
            "contact_name": "李经理",
            "mobile": "13912345678",
            "address": "团结湖路1号",
            "csrf_token": token.search(form).group(1),  # type: ignore[union-attr]
        },
    ).get_data(as_text=True)
    assert "该用工方在全市禁止名单上，已自动停用（市级规则：收取押金）" in page
