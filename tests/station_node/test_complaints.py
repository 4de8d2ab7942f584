"""Complaints: filed at the desk, by API or at the kiosk, resolved by staff, counted in the figures;
money demanded or an ID card kept puts a block prompt in front of staff (never an automatic
block)."""

from __future__ import annotations

import re

import pytest
from web_helpers import (
    ADMIN_PASSWORD,
    STAFF_PASSWORD,
    Api,
    console_client,
    csrf_token,
    job_body,
    worker_body,
    worker_token,
)

from kuaigong.errors import Conflict, Forbidden, InvalidInput, NotFound
from station_node import db
from station_node.models import ChangeEntry, Complaint, Employer
from station_node.services import complaints as service
from station_node.services.stats import station_stats

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _fields(error: InvalidInput) -> dict[str, str]:
    return {f.field: f.code for f in error.fields}


def _log(entity_id: str) -> list[ChangeEntry]:
    return list(
        ChangeEntry.select().where(ChangeEntry.entity_id == entity_id).order_by(ChangeEntry.seq)
    )


# --- the service ---------------------------------------------------------------------------


def test_a_complaint_about_a_job_names_its_employer_and_is_logged(
    app, staff, make_worker, make_job
):
    worker = make_worker()
    job = make_job()
    row = service.file_complaint(
        {
            "by": "worker",
            "kind": "unpaid_wages",
            "text": "干了三天，工资一直没给",
            "job_id": job.id,
            "worker_id": worker.id,
        },
        staff,
    )
    assert (row.status, row.employer_id, row.worker_id, row.job_id) == (
        "open",
        job.employer_id,
        worker.id,
        job.id,
    )
    [entry] = _log(row.id)
    assert (entry.entity, entry.op) == ("complaint", "create")
    assert entry.fields["kind"] == "unpaid_wages" and entry.fields["status"] == "open"
    assert (
        entry.fields["employer_id"] == job.employer_id
        and entry.fields["taken_by"] == staff.username
    )
    assert entry.fields["created_at"].endswith("Z")
    assert Complaint.get_by_id(row.id).taken_by == staff.username


def test_every_bad_field_is_named_and_nothing_is_written(app, staff, make_employer, make_job):
    job = make_job()
    other = make_employer()
    complaints_before, log_before = Complaint.select().count(), ChangeEntry.select().count()
    with pytest.raises(InvalidInput) as caught:
        service.file_complaint(
            {
                "by": "neighbour",
                "kind": "rudeness",
                "text": "太差了",
                "job_id": "nope",
                "worker_id": 42,
            },
            staff,
        )
    assert _fields(caught.value) == {
        "by": "unknown_choice",
        "kind": "unknown_choice",
        "text": "too_short",
        "job_id": "not_found",
        "worker_id": "wrong_type",
    }
    assert caught.value.status == 422 and "投诉内容至少5个字" in caught.value.message_zh
    with pytest.raises(InvalidInput) as caught:
        service.file_complaint(
            {
                "by": "resident",
                "kind": "other",
                "text": "字" * 1001,
                "job_id": job.id,
                "employer_id": other.id,
            },
            staff,
        )
    assert _fields(caught.value) == {"text": "too_long", "employer_id": "not_this_jobs_employer"}
    with pytest.raises(InvalidInput) as caught:
        service.file_complaint(["not", "a", "dict"], staff)  # type: ignore[arg-type]
    assert _fields(caught.value) == {"body": "wrong_type"}
    assert (Complaint.select().count(), ChangeEntry.select().count()) == (
        complaints_before,
        log_before,
    )
    # the limits themselves are fine
    assert (
        service.file_complaint({"by": "resident", "kind": "other", "text": "路灯坏了呀"}, None).text
        == "路灯坏了呀"
    )
    assert (
        len(
            service.file_complaint(
                {"by": "resident", "kind": "other", "text": "字" * 1000}, None
            ).text
        )
        == 1000
    )


def test_staff_resolve_once_with_what_was_done(app, staff):
    row = service.file_complaint(
        {"by": "resident", "kind": "unsafe_work", "text": "脚手架没有护栏"}, None
    )
    with pytest.raises(Forbidden):
        service.resolve_complaint(row.id, "已整改", None)
    with pytest.raises(InvalidInput) as caught:
        service.resolve_complaint(row.id, "  ", staff)
    assert _fields(caught.value) == {"resolution": "required"}
    with pytest.raises(NotFound):
        service.resolve_complaint("missing", "已整改", staff)
    done = service.resolve_complaint(row.id, "已通知用工方加装护栏，复查合格", staff)
    assert done.status == "resolved" and done.resolved_at is not None
    stored = Complaint.get_by_id(row.id)
    assert (stored.taken_by, stored.resolved_by) == (None, staff.username)  # taken at the kiosk
    assert _log(row.id)[-1].fields | {"resolved_at": None} == {
        "status": "resolved",
        "resolution": "已通知用工方加装护栏，复查合格",
        "resolved_at": None,
        "resolved_by": staff.username,
    }
    with pytest.raises(Conflict) as caught:
        service.resolve_complaint(row.id, "再办一次", staff)
    assert caught.value.code == "already_resolved"


def test_open_first_newest_first_and_counted_in_the_figures(app, staff, manual_clock):
    first = service.file_complaint(
        {"by": "resident", "kind": "other", "text": "第一条投诉内容"}, None
    )
    manual_clock.advance(60)
    second = service.file_complaint(
        {"by": "resident", "kind": "other", "text": "第二条投诉内容"}, None
    )
    manual_clock.advance(60)
    third = service.file_complaint(
        {"by": "resident", "kind": "other", "text": "第三条投诉内容"}, None
    )
    service.resolve_complaint(third.id, "已答复", staff)
    assert [c.id for c in service.list_complaints()] == [second.id, first.id, third.id]
    assert [c.id for c in service.list_complaints(status="resolved")] == [third.id]
    assert service.complaint_counts() == {"open": 2, "resolved": 1}
    assert station_stats()["complaints"] == {"open": 2, "resolved": 1}


def test_money_demanded_or_id_card_kept_prompts_a_block_but_never_blocks(app, staff, make_employer):
    employer = make_employer()
    fee = service.file_complaint(
        {
            "by": "worker",
            "kind": "fee_demanded",
            "text": "要先交200元押金",
            "employer_id": employer.id,
        },
        staff,
    )
    card = service.file_complaint(
        {
            "by": "worker",
            "kind": "id_card_withheld",
            "text": "身份证被老板扣下了",
            "employer_id": employer.id,
        },
        staff,
    )
    wages = service.file_complaint(
        {
            "by": "worker",
            "kind": "unpaid_wages",
            "text": "工资拖了两个星期",
            "employer_id": employer.id,
        },
        staff,
    )
    nobody = service.file_complaint(
        {
            "by": "worker",
            "kind": "fee_demanded",
            "text": "有人收介绍费",
        },
        staff,
    )
    assert [service.suggests_blocking(c) for c in (fee, card, wages, nobody)] == [
        True,
        True,
        False,
        False,
    ]
    assert Employer.get_by_id(employer.id).blocked is False  # staff decide
    from station_node.services.registration import block_employer

    block_employer(employer.id, "投诉核实：收取押金", staff)
    assert service.suggests_blocking(fee) is False  # already done


# --- the API -------------------------------------------------------------------------------


def test_api_file_list_and_resolve(api: Api, employer_id, staff_token):
    job = api.post("/jobs", job_body(employer_id)).get_json()["job"]
    made = api.post(
        "/complaints",
        {
            "by": "worker",
            "kind": "fee_demanded",
            "text": "面试时要交300元服装费",
            "job_id": job["id"],
        },
    )
    assert made.status_code == 201, made.get_json()
    c = made.get_json()["complaint"]
    assert (
        c["employer_id"] == employer_id
        and c["status"] == "open"
        and c["consider_blocking_employer"] is True
    )
    older = api.post(
        "/complaints", {"by": "resident", "kind": "other", "text": "驿站门口太挤"}
    ).get_json()["complaint"]
    api.post(f"/complaints/{older['id']}/resolve", {"resolution": "已调整排队区域"})
    listed = api.get("/complaints").get_json()["complaints"]
    assert [x["id"] for x in listed] == [c["id"], older["id"]]  # open first
    assert [x["id"] for x in api.get("/complaints?status=resolved").get_json()["complaints"]] == [
        older["id"]
    ]
    bogus = api.get("/complaints?status=maybe")
    assert bogus.status_code == 422 and bogus.get_json()["error"]["fields"][0]["field"] == "status"
    clerk = api.as_(staff_token)
    resolved = clerk.post(
        f"/complaints/{c['id']}/resolve", {"resolution": "已约谈用工方，退还服装费"}
    )
    assert resolved.status_code == 200 and resolved.get_json()["complaint"]["status"] == "resolved"
    again = clerk.post(f"/complaints/{c['id']}/resolve", {"resolution": "再办"})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_resolved"
    assert api.get("/stats").get_json()["complaints"] == {"open": 0, "resolved": 2}


def test_api_bad_input_is_named_in_chinese_and_nothing_written(web_app, api: Api):
    response = api.post(
        "/complaints", {"by": "worker", "kind": "unpaid_wages", "text": 12345, "employer_id": "x"}
    )
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert {f["field"]: f["code"] for f in error["fields"]} == {
        "text": "wrong_type",
        "employer_id": "not_found",
    }
    assert "投诉内容" in error["message"]
    assert (
        api.post(
            "/complaints", data="[1]", headers={"Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert api.post("/complaints/nope/resolve", {"resolution": "已处理"}).status_code == 404
    assert api.as_(None).get("/complaints").status_code == 401
    english = api.post(
        "/complaints", {"kind": "other"}, headers={"Accept-Language": "en"}
    ).get_json()["error"]
    assert "Filed by is required" in english["message"]
    with web_app.app_context(), db.database.connection_context():
        assert Complaint.select().count() == 0


def test_a_worker_token_files_and_sees_only_their_own(api: Api, worker_ids):
    mine, theirs = worker_ids[0], worker_ids[1]
    as_worker = api.as_(worker_token(api, mine))
    made = as_worker.post(
        "/complaints", {"by": "employer", "kind": "unfair_allocation", "text": "我先到的却没派给我"}
    )
    assert made.status_code == 201
    assert (made.get_json()["complaint"]["by"], made.get_json()["complaint"]["worker_id"]) == (
        "worker",
        mine,
    )
    other = as_worker.post(
        "/complaints", {"kind": "other", "text": "替别人投诉一下", "worker_id": theirs}
    )
    assert other.status_code == 403
    api.post(
        "/complaints",
        {"by": "worker", "kind": "other", "text": "别人的投诉内容", "worker_id": theirs},
    )
    assert [c["worker_id"] for c in as_worker.get("/complaints").get_json()["complaints"]] == [mine]
    denied = as_worker.post(
        f"/complaints/{made.get_json()['complaint']['id']}/resolve", {"resolution": "自己办结"}
    )
    assert denied.status_code == 403


# --- the console ---------------------------------------------------------------------------


def test_console_take_down_show_prompt_and_resolve(web_app, api: Api, employer_id):
    console = console_client(web_app, "admin", ADMIN_PASSWORD)
    home = console.get("/console/").get_data(as_text=True)
    assert 'href="/console/complaints"' in home  # in the menu
    form = console.get("/console/complaints/new?employer_id=" + employer_id).get_data(as_text=True)
    assert "登记投诉" in form and f'value="{employer_id}" selected' in form
    token = CSRF.search(form).group(1)
    assert (
        console.post(
            "/console/complaints/new", data={"by": "worker", "kind": "other", "text": "没有令牌"}
        ).status_code
        == 400
    )
    bad = console.post(
        "/console/complaints/new",
        data={"csrf_token": token, "by": "worker", "kind": "", "text": "太差"},
    )
    page = bad.get_data(as_text=True)
    assert (
        bad.status_code == 422
        and "请填写投诉类型" in page
        and "投诉内容至少5个字" in page
        and ">太差</textarea>" in page
    )
    good = console.post(
        "/console/complaints/new",
        data={
            "csrf_token": token,
            "by": "worker",
            "kind": "id_card_withheld",
            "text": "老板把身份证扣了不还",
            "employer_id": employer_id,
        },
    )
    assert good.status_code == 302
    shown = console.get(good.headers["Location"]).get_data(as_text=True)
    assert "已登记投诉" in shown and 'id="consider-block"' in shown and "停用该用工方" in shown
    assert (
        f"/console/employers/{employer_id}/block" in shown
    )  # an admin gets the button, not a block
    listed = console.get("/console/complaints").get_data(as_text=True)
    assert (
        "扣押身份证" in listed
        and "考虑停用用工方" in listed
        and 'id="complaints-open">1<' in listed
    )
    complaint_id = good.headers["Location"].rsplit("/", 1)[1]
    refused = console.post(
        f"/console/complaints/{complaint_id}/resolve", data={"csrf_token": token, "resolution": ""}
    )
    assert 'class="flash error"' in console.get(refused.headers["Location"]).get_data(as_text=True)
    done = console.post(
        f"/console/complaints/{complaint_id}/resolve",
        data={"csrf_token": token, "resolution": "已协调退还身份证"},
    )
    after = console.get(done.headers["Location"]).get_data(as_text=True)
    assert "投诉已办结" in after and "已协调退还身份证" in after and "f-resolution" not in after
    assert (
        "<dt>受理</dt><dd>admin（测试）</dd>" in after
        and "<dt>办结人</dt><dd>admin（测试）</dd>" in after
    )
    shown_api = api.get("/complaints?status=resolved").get_json()["complaints"][0]
    assert (shown_api["taken_by"], shown_api["resolved_by"]) == ("admin", "admin")
    stats = console.get("/console/stats").get_data(as_text=True)
    assert 'id="complaint-figures"' in stats and "已办结 <strong>1</strong>" in stats
    assert console.get("/console/complaints/missing").status_code == 404


def test_console_plain_staff_are_told_to_ask_an_admin_and_english_works(
    web_app, api: Api, employer_id, staff_token
):
    api.post(
        "/complaints",
        {
            "by": "worker",
            "kind": "fee_demanded",
            "text": "要交报名费100元",
            "employer_id": employer_id,
        },
    )
    console = console_client(web_app, "clerk", STAFF_PASSWORD)
    complaint_id = api.get("/complaints").get_json()["complaints"][0]["id"]
    page = console.get(f"/console/complaints/{complaint_id}").get_data(as_text=True)
    assert "请转告管理员" in page and "/block" not in page
    english = console.get("/console/complaints?lang=en").get_data(as_text=True)
    assert "Complaints" in english and "Fee or deposit demanded" in english


# --- the kiosk -----------------------------------------------------------------------------


def test_kiosk_resident_complains_about_their_own_job(web_app, api: Api, employer_id):
    body = worker_body()
    worker_id = api.post("/workers", body).get_json()["worker"]["id"]
    job = api.post("/jobs", job_body(employer_id, title="超市理货")).get_json()["job"]
    other_job = api.post("/jobs", job_body(employer_id, title="别人的活")).get_json()["job"]
    api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_id})
    kiosk = web_app.test_client()
    assert "我要投诉" in kiosk.get("/kiosk/").get_data(as_text=True)  # in the kiosk menu
    away = kiosk.get("/kiosk/complain")
    assert (
        away.status_code == 302 and "/kiosk/signin?then=/kiosk/complain" in away.headers["Location"]
    )
    token = csrf_token(kiosk, "/kiosk/signin")
    signed = kiosk.post(
        away.headers["Location"],
        data={"csrf_token": token, "id_number": body["id_number"], "mobile": body["mobile"]},
    )
    assert signed.headers["Location"].endswith("/kiosk/complain")
    page = kiosk.get("/kiosk/complain").get_data(as_text=True)
    assert "我要投诉" in page and "12333" in page and "超市理货" in page and "别人的活" not in page
    short = kiosk.post(
        "/kiosk/complain", data={"csrf_token": token, "kind": "unpaid_wages", "text": "没钱"}
    )
    assert short.status_code == 422 and "至少5个字" in short.get_data(as_text=True)
    sent = kiosk.post(
        "/kiosk/complain",
        data={
            "csrf_token": token,
            "kind": "unpaid_wages",
            "text": "理货三天的工资还没发",
            "job_id": job["id"],
        },
    )
    assert sent.status_code == 302
    kiosk.post(
        "/kiosk/complain",
        data={
            "csrf_token": token,
            "kind": "other",
            "text": "这份不是我的活",
            "job_id": other_job["id"],
        },
    )
    mine = kiosk.get("/kiosk/complain").get_data(as_text=True)
    assert "您的投诉已提交" in mine and "拖欠工资" in mine and "待处理" in mine
    with web_app.app_context(), db.database.connection_context():
        rows = {c.kind: c for c in Complaint.select()}
        assert (rows["unpaid_wages"].by, rows["unpaid_wages"].worker_id) == ("worker", worker_id)
        assert (rows["unpaid_wages"].job_id, rows["unpaid_wages"].employer_id) == (
            job["id"],
            employer_id,
        )
        assert rows["unpaid_wages"].taken_by is None  # the kiosk, not a member of staff
        assert rows["other"].job_id is None  # a job that is not theirs is not attached
    api.post(f"/complaints/{rows['unpaid_wages'].id}/resolve", {"resolution": "用工方已补发工资"})
    assert "用工方已补发工资" in kiosk.get("/kiosk/complain").get_data(as_text=True)


# --- an older database ---------------------------------------------------------------------


def test_a_database_from_before_staff_were_recorded_gains_the_columns_and_keeps_its_rows(
    app, staff
):
    """Migration 4 on a database whose complaint table has no taken_by / resolved_by yet."""
    row = service.file_complaint({"by": "resident", "kind": "other", "text": "旧库里的投诉"}, staff)
    with db.atomic():  # the table as release 1 made it
        db.database.execute_sql('ALTER TABLE "complaint" DROP COLUMN "taken_by"')
        db.database.execute_sql('ALTER TABLE "complaint" DROP COLUMN "resolved_by"')
        db.database.execute_sql('DELETE FROM "schema_version" WHERE "version" = 4')
    assert {"taken_by", "resolved_by"}.isdisjoint(
        c.name for c in db.database.get_columns("complaint")
    )
    assert db.migrate() == [4]
    assert db.migrate() == []
    kept = Complaint.get_by_id(row.id)
    assert (kept.text, kept.taken_by, kept.resolved_by) == ("旧库里的投诉", None, None)
    assert service.resolve_complaint(row.id, "已答复居民", staff).resolved_by == staff.username
