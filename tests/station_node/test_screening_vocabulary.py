"""Screening vocabulary staff extend: a station admin adds and removes phrases (service, JSON
API, console in Chinese with the English switch), the city adds them through its rules, and a
posting that uses one is held for review at once — however the phrase is spaced or typed."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from typing import Any

import pytest
from flask import Flask
from web_helpers import ADMIN_PASSWORD, STAFF_PASSWORD, Api, console_client, employer_body

import sync_protocol as sp
from kuaigong import clock
from kuaigong.errors import Forbidden, InvalidInput, NotFound
from station_node import db
from station_node import station_state as state
from station_node.models import ChangeEntry, ScreeningPhrase, Staff
from station_node.services import vocabulary
from station_node.sync import decisions

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # Tuesday 09:00 at the station (UTC+8)
PHRASE = "星光会籍"  # a made-up bait: no built-in list knows it
POSTING = "入职即送星 光 會 籍，详询前台"  # spaced out, one character traditional
_hub_seq = itertools.count(1)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _codes(job: Any) -> list[str]:
    return [r["code"] for r in job.screening_reasons]


def _phrase_rows() -> int:
    return ScreeningPhrase.select().count()


# ---------------------------------------------------------------- the service


def test_an_admin_adds_a_phrase_stored_normalised_once_with_its_log_entry(
    app: Flask, staff: Staff
) -> None:
    row = vocabulary.add_phrase({"kind": "bait_wording", "phrase": " 星光　會籍！ "}, staff)
    assert (row.kind, row.phrase, row.typed, row.added_by) == (
        "bait_wording",
        PHRASE,
        "星光　會籍！",
        "wang",
    )
    entry = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).get()
    assert (entry.entity, entry.entity_id, entry.op) == ("screening_phrase", row.id, "create")
    assert entry.fields["phrase"] == PHRASE and entry.fields["kind"] == "bait_wording"

    # the same phrase typed another way is the same phrase: refused naming the field
    with pytest.raises(InvalidInput) as caught:
        vocabulary.add_phrase({"kind": "bait_wording", "phrase": "星 光 会 籍"}, staff)
    assert [(f.field, f.code) for f in caught.value.fields] == [("phrase", "duplicate")]
    assert "词库中已有该词语" in caught.value.fields[0].message_zh
    # under another kind it is another entry
    vocabulary.add_phrase({"kind": "asks_for_money", "phrase": "星光会籍"}, staff)
    assert _phrase_rows() == 2


@pytest.mark.parametrize(
    ("data", "field", "code"),
    [
        ({"kind": "", "phrase": "会员卡费"}, "kind", "required"),
        ({"kind": "pay_far_above_going_rate", "phrase": "会员卡费"}, "kind", "unknown_choice"),
        ({"kind": ["asks_for_money"], "phrase": "会员卡费"}, "kind", "unknown_choice"),
        ({"kind": "asks_for_money", "phrase": ""}, "phrase", "required"),
        ({"kind": "asks_for_money", "phrase": "！，。 ？"}, "phrase", "empty_after_normalising"),
        ({"kind": "asks_for_money", "phrase": "\u200b钱\u200b"}, "phrase", "too_short"),
        ({"kind": "asks_for_money", "phrase": "费" * 40}, "phrase", "too_long"),
        ({"kind": "asks_for_money", "phrase": "费" * 65}, "phrase", "too_long"),
        ({"kind": "asks_for_money", "phrase": 123}, "phrase", None),
    ],
)
def test_bad_phrases_are_refused_naming_the_field_and_nothing_is_written(
    app: Flask, staff: Staff, counts: Any, data: dict[str, Any], field: str, code: str | None
) -> None:
    before = counts()
    with pytest.raises(InvalidInput) as caught:
        vocabulary.add_phrase(data, staff)
    fields = {f.field: f for f in caught.value.fields}
    assert field in fields and (code is None or fields[field].code == code)
    assert re.search(r"[\u4e00-\u9fff]", fields[field].message_zh)
    assert counts() == before and _phrase_rows() == 0


def test_only_a_station_admin_changes_the_vocabulary(app: Flask, staff: Staff) -> None:
    from station_node.services.staff import create_staff

    clerk, _ = create_staff("li", "李", "staff", "password-2")
    with pytest.raises(Forbidden):
        vocabulary.add_phrase({"kind": "bait_wording", "phrase": PHRASE}, clerk)
    with pytest.raises(Forbidden):
        vocabulary.add_phrase({"kind": "bait_wording", "phrase": PHRASE}, None)
    row = vocabulary.add_phrase({"kind": "bait_wording", "phrase": PHRASE}, staff)
    with pytest.raises(Forbidden):
        vocabulary.remove_phrase(row.id, clerk)
    with pytest.raises(NotFound):
        vocabulary.remove_phrase("no-such-phrase", staff)
    assert _phrase_rows() == 1


def test_a_posting_using_a_station_phrase_is_held_until_the_phrase_is_removed(
    app: Flask,
    staff: Staff,
    manual_clock: clock.ManualClock,
    make_employer: Any,
    job_data: Any,
    no_dispatch: Any,
) -> None:
    from station_node.services.posting import post_job

    employer = make_employer()
    assert post_job(job_data(employer, description=POSTING), staff).status == "open"

    row = vocabulary.add_phrase({"kind": "bait_wording", "phrase": PHRASE}, staff)
    held = post_job(job_data(employer, description=POSTING), staff)
    assert held.status == "held" and "bait_wording" in _codes(held)
    assert any(
        PHRASE in str(r.get("matched") or r.get("message_zh")) for r in held.screening_reasons
    )

    vocabulary.remove_phrase(row.id, staff)
    entry = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).get()
    assert (entry.entity, entry.op, entry.fields["removed_by"]) == (
        "screening_phrase",
        "delete",
        "wang",
    )
    assert post_job(job_data(employer, description=POSTING), staff).status == "open"


def _enrol(app: Flask) -> None:
    state.save_enrolment(
        state.Enrolment("http://10.0.0.9:8090", "st-east", "东城", "hub", "00" * 32, "", "k")
    )


def _apply(entity_id: str, fields: dict[str, Any], op: str = "create") -> str:
    """Apply one hub-log entry as the sync client does once it verified it."""
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


def test_a_city_phrase_holds_postings_from_the_next_pull_until_it_is_withdrawn(
    app: Flask,
    staff: Staff,
    manual_clock: clock.ManualClock,
    make_employer: Any,
    job_data: Any,
    no_dispatch: Any,
) -> None:
    from station_node.services.posting import post_job

    _enrol(app)
    employer = make_employer()
    rule = {
        "kind": "screening_phrase",
        "phrase_kind": "bait_wording",
        "phrase": "锦鲤岗位",
        "typed": "锦鲤 岗位",
    }
    outcome = _apply("41", rule)
    assert outcome.startswith("applied: rule stored")
    assert vocabulary.city_phrases() == [
        {"kind": "bait_wording", "phrase": "锦鲤岗位", "typed": "锦鲤 岗位", "rule_id": "41"}
    ]
    posting = "本周锦 鯉 岗位，欢迎报名"
    held = post_job(job_data(employer, description=posting), staff)
    assert held.status == "held" and "bait_wording" in _codes(held)

    # a rule with a kind or phrase screening cannot use is kept but not used
    _apply("42", {"kind": "screening_phrase", "phrase_kind": "no_such_kind", "phrase": "随便什么"})
    _apply("43", {"kind": "screening_phrase", "phrase_kind": "bait_wording", "phrase": "！"})
    assert [p["rule_id"] for p in vocabulary.city_phrases()] == ["41"]

    assert _apply("41", {"kind": "screening_phrase"}, op="delete") == "applied: rule withdrawn"
    assert vocabulary.city_phrases() == []
    assert post_job(job_data(employer, description=posting), staff).status == "open"


def test_active_phrases_are_the_stations_and_the_citys_each_once(app: Flask, staff: Staff) -> None:
    _enrol(app)
    vocabulary.add_phrase({"kind": "bait_wording", "phrase": PHRASE}, staff)
    _apply("51", {"kind": "screening_phrase", "phrase_kind": "bait_wording", "phrase": PHRASE})
    _apply(
        "52", {"kind": "screening_phrase", "phrase_kind": "training_trap", "phrase": "学技术包分配"}
    )
    assert vocabulary.active_phrases() == [
        {"kind": "bait_wording", "phrase": PHRASE},
        {"kind": "training_trap", "phrase": "学技术包分配"},
    ]


def test_migration_5_adds_the_phrase_table_to_an_older_station_database(app: Flask) -> None:
    db.database.execute_sql('DROP TABLE "screening_phrase"')
    db.database.execute_sql("DELETE FROM schema_version WHERE version = 5")
    assert db.migrate() == [5]
    assert "screening_phrase" in db.database.get_tables()
    assert db.migrate() == []


# ---------------------------------------------------------------- over HTTP


def _pinned(web_app: Flask) -> None:
    clock.install(web_app, clock.ManualClock(T0))


def test_api_admin_adds_lists_and_removes_phrases(
    web_app: Flask, api: Api, staff_token: str
) -> None:
    _pinned(web_app)
    bad = api.post("/screening/phrases", {"kind": "fees", "phrase": " "})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {"kind", "phrase"}
    assert re.search(r"[\u4e00-\u9fff]", bad.get_json()["error"]["fields"][0]["message"])
    english = api.post(
        "/screening/phrases", {"kind": "fees", "phrase": "x"}, headers={"Accept-Language": "en"}
    )
    assert "Unknown kind" in english.get_data(as_text=True)
    assert (
        api.post(
            "/screening/phrases", json=None, data="[1]", content_type="application/json"
        ).status_code
        == 400
    )

    clerk = api.as_(staff_token)
    assert (
        clerk.post("/screening/phrases", {"kind": "bait_wording", "phrase": PHRASE}).status_code
        == 403
    )
    created = api.post("/screening/phrases", {"kind": "bait_wording", "phrase": "星光 會籍"})
    assert created.status_code == 201, created.get_json()
    phrase = created.get_json()["phrase"]
    assert (phrase["phrase"], phrase["typed"]) == (PHRASE, "星光 會籍")
    assert (
        api.post("/screening/phrases", {"kind": "bait_wording", "phrase": PHRASE}).status_code
        == 422
    )

    listed = clerk.get("/screening/phrases").get_json()
    assert [p["phrase"] for p in listed["phrases"]] == [PHRASE] and listed["city"] == []

    headers = {"Authorization": f"Bearer {staff_token}"}
    assert (
        api.client.delete(f"/api/v1/screening/phrases/{phrase['id']}", headers=headers).status_code
        == 403
    )
    headers = {"Authorization": f"Bearer {api.token}"}
    assert (
        api.client.delete(f"/api/v1/screening/phrases/{phrase['id']}", headers=headers).status_code
        == 200
    )
    assert (
        api.client.delete(f"/api/v1/screening/phrases/{phrase['id']}", headers=headers).status_code
        == 404
    )
    assert api.get("/screening/phrases").get_json()["phrases"] == []


def test_api_posting_with_an_added_phrase_is_held(web_app: Flask, api: Api) -> None:
    _pinned(web_app)
    employer = api.post("/employers", employer_body()).get_json()["employer"]["id"]
    day = (T0 + dt.timedelta(hours=8) + dt.timedelta(days=1)).date()
    job = {
        "employer_id": employer,
        "title": "商场促销",
        "category": "property",
        "headcount": 1,
        "pay_fen": 2500,
        "pay_unit": "hour",
        "address": "团结湖北里3号楼",
        "community": "团结湖社区",
        "description": POSTING,
        "starts_at": f"{day}T08:00",
        "ends_at": f"{day}T17:00",
        "dispatch_mode": "grab",
    }
    assert api.post("/jobs", job).get_json()["job"]["status"] == "open"
    assert (
        api.post("/screening/phrases", {"kind": "bait_wording", "phrase": PHRASE}).status_code
        == 201
    )
    held = api.post("/jobs", job).get_json()["job"]
    assert held["status"] == "held" and "bait_wording" in [
        r["code"] for r in held["screening"]["reasons"]
    ]


def test_the_openapi_document_describes_the_vocabulary(web_app: Flask, api: Api) -> None:
    doc = api.get("/openapi.json").get_json()
    assert set(doc["paths"]["/screening/phrases"]) == {"get", "post"}
    assert set(doc["paths"]["/screening/phrases/{phrase_id}"]) == {"delete", "parameters"}
    schema = doc["components"]["schemas"]["PhraseInput"]
    assert schema["required"] == ["kind", "phrase"]
    assert schema["properties"]["kind"]["enum"] == list(vocabulary.PHRASE_KINDS)


def _token(page: str) -> str:
    return CSRF.search(page).group(1)  # type: ignore[union-attr]


def test_console_page_in_chinese_and_english_admins_add_and_remove(
    web_app: Flask, admin_token: str, staff_token: str
) -> None:
    _pinned(web_app)
    admin = console_client(web_app, "admin", ADMIN_PASSWORD)
    page = admin.get("/console/screening").get_data(as_text=True)
    assert "筛查词库" in page and "添加词语" in page and "本站暂未添加词语" in page
    english = admin.get("/console/screening?lang=en").get_data(as_text=True)
    assert (
        "Screening vocabulary" in english
        and "Add a phrase" in english
        and "Bait wording" in english
    )
    admin.get("/console/screening?lang=zh_CN")  # the choice is kept: back to Chinese

    bad = admin.post(
        "/console/screening",
        data={"kind": "bait_wording", "phrase": "。。", "csrf_token": _token(page)},
    )
    assert bad.status_code == 422 and "去掉空格和标点后词语为空" in bad.get_data(as_text=True)
    assert 'value="。。"' in bad.get_data(as_text=True)  # the value is kept
    added = admin.post(
        "/console/screening",
        data={"kind": "bait_wording", "phrase": "星光 会籍", "csrf_token": _token(page)},
        follow_redirects=True,
    )
    assert added.status_code == 200 and "已加入筛查词库：星光会籍" in added.get_data(as_text=True)
    with web_app.app_context(), db.database.connection_context():
        phrase_id = ScreeningPhrase.get().id

    clerk = console_client(web_app, "clerk", STAFF_PASSWORD)
    seen = clerk.get("/console/screening").get_data(as_text=True)
    assert PHRASE in seen and "只有驿站管理员可以修改筛查词库" in seen and "添加词语" not in seen
    refused = clerk.post(
        f"/console/screening/{phrase_id}/remove", data={"csrf_token": _token(seen)}
    )
    assert refused.status_code == 403
    removed = admin.post(
        f"/console/screening/{phrase_id}/remove",
        data={"csrf_token": _token(page)},
        follow_redirects=True,
    )
    assert "已从筛查词库删除：星光会籍" in removed.get_data(as_text=True)
    with web_app.app_context(), db.database.connection_context():
        assert ScreeningPhrase.select().count() == 0
