"""One identity however it is typed, clean text, numbers that are numbers.

Pure checks of the normalisers and cleaners (the identifier cases are shared with the hub:
tests/data/identifiers.json), then end to end over HTTP with the app's clock pinned: a
full-width ID number is the same person at registration, at the kiosk and for the duplicate
check; foreign digits, bidi controls and far-future jobs are 4xx answers naming the field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from web_helpers import (
    Api,
    console_client,
    credit_code,
    csrf_token,
    employer_body,
    id_number,
    worker_body,
)

from kuaigong import clock
from kuaigong.characters import fold_width, foreign_digits
from kuaigong.errors import FieldErrors
from station_node import db, identity
from station_node import validation as v
from station_node.models import Job, Worker

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # 09:00 at the station (UTC+8)
TODAY = dt.date(2025, 5, 6)
EXAMPLE = "11010519491231002X"
CASES = json.loads((Path(__file__).parents[1] / "data" / "identifiers.json").read_text("utf-8"))[
    "cases"
]
RLO, ZWSP = "\u202e", "\u200b"


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _codes(errs: FieldErrors) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in errs.errors]


# --- pure: identifiers ---

_NORMALISE = {
    "id": v.normalise_id_number,
    "mobile": v.normalise_mobile,
    "credit_code": v.normalise_credit_code,
}


def _clean(kind: str, typed: str, errs: FieldErrors) -> str | None:
    if kind == "id":
        return v.clean_resident_id(typed, errs, "n", today=TODAY)
    if kind == "mobile":
        return v.clean_mobile(typed, errs, "n")
    return v.clean_credit_code(typed, errs, "n")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['kind']}: {c['note']}")
def test_typed_identifiers_have_one_form_and_foreign_digits_are_refused(
    case: dict[str, Any],
) -> None:
    typed = _NORMALISE[case["kind"]](case["typed"])
    if case["normal"] is None:
        assert foreign_digits(typed), typed
    else:
        assert typed == case["normal"] and not foreign_digits(typed)
    errs = FieldErrors()
    cleaned = _clean(case["kind"], case["typed"], errs)
    assert (cleaned is not None) == case["valid"], errs.errors
    if case["valid"]:
        assert cleaned == case["normal"] and not errs
    else:
        assert errs and all(e.field == "n" for e in errs.errors)
    if case["normal"] is None:
        assert [e.code for e in errs.errors] == ["non_ascii_digit"]
        assert "0–9" in errs.errors[0].message_zh


def test_only_width_is_folded_never_nfkc() -> None:
    assert fold_width("１２３ＡＢｘ\u3000－（）") == "123ABx -()"
    assert fold_width("²③١𝟏Ⅷ三") == "²③١𝟏Ⅷ三"
    assert foreign_digits("1²3①٤一x") == ["²", "①", "٤", "一"]


def test_a_full_width_number_is_the_same_hash_cipher_and_mask(app: Flask) -> None:
    full = _full_width(EXAMPLE.lower())
    assert (
        identity.hash_id(full)
        == identity.hash_id(EXAMPLE)
        == identity.hash_id("110105-19491231-002x")
    )
    assert identity.decrypt_id(identity.encrypt_id(full)) == EXAMPLE
    assert identity.mask_id(full) == "110105********002X"


def test_a_mobile_must_be_text_and_blank_after_cleaning_is_required() -> None:
    errs = FieldErrors()
    assert v.clean_mobile(13812345678, errs) is None and _codes(errs) == [("mobile", "wrong_type")]
    errs = FieldErrors()
    assert v.clean_resident_id(f"{ZWSP}\u3000", errs, today=TODAY) is None
    assert _codes(errs) == [("id_number", "required")]


def test_the_character_classes_follow_unicode_on_every_code_point() -> None:
    import unicodedata

    from kuaigong import characters as c

    breaks = set("\t\n\v\f\r\x1c\x1d\x1e\x85\u2028\u2029")
    for code in range(0x110000):
        ch = chr(code)
        category = unicodedata.category(ch)
        assert c.bidi_controls(ch) == ([ch] if ch in c.BIDI else []), hex(code)
        assert bool(c.control_characters(ch)) == (category in ("Cc", "Cs") and ch not in breaks), (
            hex(code)
        )
        invisible = ch in c.INVISIBLE or (category == "Cf" and ch not in c.BIDI)
        assert (
            (c.tidy_text(f"a{ch}b", multiline=True) == "ab") == invisible == c.is_invisible(ch)
        ), hex(code)


# --- pure: whole numbers ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), ("１２", 12), (" ＋５ ", 5), (7, 7), (8.0, 8), ("007", 7), ("-3", -3)],
)
def test_whole_numbers_in_ascii_or_full_width_digits_are_read(value: Any, expected: int) -> None:
    errs = FieldErrors()
    assert (
        v.clean_int(value, errs, "headcount", "招聘人数", "Headcount", minimum=-10, maximum=100)
        == expected
    )
    assert not errs


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("²", "non_ascii_digit"),
        ("2²", "non_ascii_digit"),
        ("١٢", "non_ascii_digit"),
        ("१२", "non_ascii_digit"),
        ("①", "non_ascii_digit"),
        ("三", "non_ascii_digit"),
        ("𝟏𝟐", "non_ascii_digit"),
        ("Ⅻ", "non_ascii_digit"),
        (1e30, "too_large"),
        (10**40, "too_large"),
        ("1" * 400, "too_large"),
        ("-" + "9" * 400, "too_small"),
        (-1e300, "too_small"),
        (float("nan"), "not_a_number"),
        (float("inf"), "not_a_number"),
        (float("-inf"), "not_a_number"),
        ("1e30", "not_integer"),
        ("NaN", "not_integer"),
        ("12.5", "not_integer"),
        (2.5, "not_integer"),
        (True, "not_integer"),
        ([1], "not_integer"),
        ({"n": 1}, "not_integer"),
    ],
)
def test_anything_but_a_whole_number_in_range_is_a_named_error(value: Any, code: str) -> None:
    errs = FieldErrors()
    assert (
        v.clean_int(value, errs, "pay_fen", "报酬（分）", "Pay (fen)", minimum=1, maximum=10**6)
        is None
    )
    assert _codes(errs) == [("pay_fen", code)]
    assert "报酬（分）" in errs.errors[0].message_zh and "Pay (fen)" in errs.errors[0].message_en


# --- pure: free text ---


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (f"张{ZWSP}三", "张三"),
        ("\ufeff王芳\u2060", "王芳"),
        ("李\u00ad四\u200c", "李四"),
        ("  赵\u3000六  ", "赵\u3000六"),
        ("周\n七\t八", "周 七 八"),
        ("陈\r\n九", "陈 九"),
    ],
)
def test_invisible_characters_are_stripped_and_one_line_stays_one_line(
    typed: str, expected: str
) -> None:
    errs = FieldErrors()
    assert v.clean_text(typed, errs, "name", "姓名", "Name", max_len=64) == expected
    assert not errs


def test_multi_line_text_keeps_its_lines_and_tabs() -> None:
    errs = FieldErrors()
    text = v.clean_text(
        "第一行\r\n第二行\t（工具自带）\u2028第三行",
        errs,
        "description",
        "工作内容",
        "Description",
        max_len=200,
        multiline=True,
    )
    assert text == "第一行\n第二行\t（工具自带）\n第三行" and not errs


@pytest.mark.parametrize(
    "control",
    [
        "\u202e",
        "\u202a",
        "\u202d",
        "\u2066",
        "\u2067",
        "\u2068",
        "\u2069",
        "\u200e",
        "\u200f",
        "\u061c",
    ],
)
def test_bidi_controls_are_refused_with_the_field_named(control: str) -> None:
    errs = FieldErrors()
    assert v.clean_text(f"张三{control}元0002", errs, "name", "姓名", "Name", max_len=64) is None
    assert _codes(errs) == [("name", "bidi_characters")]
    assert (
        errs.errors[0].message_zh.startswith("姓名")
        and f"U+{ord(control):04X}" in errs.errors[0].message_zh
    )


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x80", "\x9b", "\ud800"])
@pytest.mark.parametrize("multiline", [False, True])
def test_control_characters_are_refused_even_in_multi_line_text(
    control: str, multiline: bool
) -> None:
    errs = FieldErrors()
    assert (
        v.clean_text(
            f"楼道{control}清扫",
            errs,
            "title",
            "工作名称",
            "Title",
            max_len=64,
            multiline=multiline,
        )
        is None
    )
    assert _codes(errs) == [("title", "bad_characters")]


@pytest.mark.parametrize(
    "typed", [ZWSP, f"{ZWSP}\u200d\ufeff", "\u3164", "\u115f\u1160", f" {ZWSP} "]
)
def test_a_name_of_invisible_characters_only_is_required(typed: str) -> None:
    errs = FieldErrors()
    assert v.clean_text(typed, errs, "name", "姓名", "Name", max_len=64) is None
    assert _codes(errs) == [("name", "required")]
    errs = FieldErrors()
    assert (
        v.clean_text(typed, errs, "note", "备注", "Note", max_len=64, required=False) is None
        and not errs
    )


def test_length_is_counted_after_invisible_characters_are_dropped() -> None:
    errs = FieldErrors()
    assert (
        v.clean_text("张" * 64 + ZWSP * 10, errs, "name", "姓名", "Name", max_len=64) == "张" * 64
    )
    assert v.clean_text("张" * 65, errs, "name", "姓名", "Name", max_len=64) is None
    assert _codes(errs) == [("name", "too_long")]


# --- pure: age and far-future starts ---


@pytest.mark.parametrize(
    ("birth", "ok"), [("20090506", True), ("20090507", False), ("20100101", False)]
)
def test_a_worker_must_be_sixteen_on_the_stations_date(birth: str, ok: bool) -> None:
    errs = FieldErrors()
    result = v.clean_resident_id(id_number(birth=birth, seq=11), errs, today=TODAY)
    assert (result is not None) == ok
    assert ok or _codes(errs) == [("id_number", "too_young")]
    if not ok:
        assert "16" in errs.errors[0].message_zh


def test_a_start_more_than_a_year_ahead_is_refused() -> None:
    errs = FieldErrors()
    v.refuse_far_future(
        T0 + dt.timedelta(days=365),
        T0,
        errs,
        "starts_at",
        "开始时间",
        "Start time",
        utc_offset_hours=8,
    )
    assert not errs
    v.refuse_far_future(
        T0 + dt.timedelta(days=400),
        T0,
        errs,
        "starts_at",
        "开始时间",
        "Start time",
        utc_offset_hours=8,
    )
    assert (
        _codes(errs) == [("starts_at", "too_far_ahead")]
        and "2026-05-06" in errs.errors[0].message_zh
    )


def test_times_and_dates_typed_full_width_are_read_and_other_digits_refused() -> None:
    errs = FieldErrors()
    assert v.clean_hhmm("０８：３０", errs, "from", "开始时间", "Start time") == "08:30"
    assert v.clean_datetime(
        "２０２５－０５－０７Ｔ０８：００",
        errs,
        "starts_at",
        "开始时间",
        "Start time",
        utc_offset_hours=8,
    ) == dt.datetime(2025, 5, 7, 0, 0)
    assert not errs
    assert v.clean_hhmm("0８:3⁰", errs, "from", "开始时间", "Start time") is None
    assert (
        v.clean_datetime(
            "٢٠٢٥-05-07T08:00", errs, "starts_at", "开始时间", "Start time", utc_offset_hours=8
        )
        is None
    )
    assert _codes(errs) == [("from", "bad_time"), ("starts_at", "bad_datetime")]


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("180", 18000),
        ("25.50", 2550),
        ("１８０．５", 18050),
        ("¥30", 3000),
        ("²", None),
        ("١٢", None),
        ("1e30", None),
        ("NaN", None),
        ("12.555", None),
        ("9" * 400, None),
    ],
)
def test_the_console_reads_yuan_only_in_0_to_9(typed: str, fen: int | None) -> None:
    from station_node.views.forms import yuan_to_fen

    assert yuan_to_fen(typed) == fen


def test_dates_at_the_ends_of_the_calendar_are_errors_not_overflows() -> None:
    for typed in ("0001-01-01T00:00", "9999-12-31T23:59-08:00"):
        errs = FieldErrors()
        assert (
            v.clean_datetime(typed, errs, "starts_at", "开始时间", "Start time", utc_offset_hours=8)
            is None
        )
        assert _codes(errs) == [("starts_at", "out_of_range")]


# --- end to end over HTTP, with the app's clock pinned ---


@pytest.fixture
def pinned(web_app: Flask) -> Iterator[clock.ManualClock]:
    """The web app's clock pinned at T0 (2025-05-06 09:00 at the station)."""
    manual = clock.ManualClock(T0)
    clock.install(web_app, manual)
    yield manual


def _job(employer_id: str, days_ahead: int = 1, **over: Any) -> dict[str, Any]:
    day = (T0 + dt.timedelta(hours=8, days=days_ahead)).date()
    body: dict[str, Any] = {
        "employer_id": employer_id,
        "title": "小区保洁",
        "category": "property",
        "skills": ["cleaning"],
        "headcount": 1,
        "pay_fen": 2500,
        "pay_unit": "hour",
        "address": "团结湖北里3号楼",
        "community": "团结湖社区",
        "starts_at": f"{day}T08:00",
        "ends_at": f"{day}T17:00",
        "source": "walk_in",
        "dispatch_mode": "grab",
    }
    return body | over


def _fields(response: Any) -> dict[str, str]:
    data = response.get_json()
    return {f["field"]: f["code"] for f in data["error"].get("fields", [])}


def _count(app: Flask, model: Any) -> int:
    with app.app_context(), db.database.connection_context():
        return int(model.select().count())


def test_full_width_then_ascii_registration_is_one_person(
    web_app: Flask, api: Api, pinned: Any
) -> None:
    number = id_number(birth="19880808", seq=21)
    first = api.post(
        "/workers",
        worker_body(id_number=_full_width(number.lower()), mobile=_full_width("13800138000")),
    )
    assert first.status_code == 201, first.get_json()
    worker = first.get_json()["worker"]
    assert number[-4:] in json.dumps(worker)
    for again in (
        number,
        f" {number[:6]} {number[6:14]} {number[14:]} ",
        "-".join((number[:6], number[6:])),
    ):
        clash = api.post("/workers", worker_body(id_number=again))
        assert clash.status_code == 409, clash.get_json()
        assert clash.get_json()["error"]["code"] == "duplicate_worker"
    assert _count(web_app, Worker) == 1
    with web_app.app_context(), db.database.connection_context():
        row = Worker.get_by_id(worker["id"])
        assert row.mobile == "13800138000" and row.id_hash == identity.hash_id(number)
        assert identity.decrypt_id(row.id_cipher) == number


def test_ascii_then_full_width_employer_is_a_duplicate(
    web_app: Flask, api: Api, pinned: Any
) -> None:
    code = credit_code(777)
    assert api.post("/employers", employer_body(credit_code=code.lower())).status_code == 201
    clash = api.post("/employers", employer_body(credit_code=_full_width(code)))
    assert clash.status_code == 409 and clash.get_json()["error"]["code"] == "duplicate_employer"


def test_a_foreign_digit_in_an_identifier_is_named(web_app: Flask, api: Api, pinned: Any) -> None:
    number = id_number(birth="19880808", seq=22)
    bad = api.post(
        "/workers", worker_body(id_number=number[:-2] + "²" + number[-1], mobile="1380013800\u0663")
    )
    assert bad.status_code == 422
    assert _fields(bad) == {"id_number": "non_ascii_digit", "mobile": "non_ascii_digit"}
    assert _count(web_app, Worker) == 0


def test_kiosk_sign_in_with_a_full_width_id_number(web_app: Flask, api: Api, pinned: Any) -> None:
    number = id_number(birth="19900101", seq=23)
    assert (
        api.post("/workers", worker_body(id_number=number, mobile="13700137000")).status_code == 201
    )
    kiosk = web_app.test_client()
    token = csrf_token(kiosk, "/kiosk/signin")
    for typed_id, typed_mobile in (
        (_full_width(number), "+86 137-0013-7000"),
        (_full_width(number.lower()), _full_width("13700137000")),
    ):
        signed = kiosk.post(
            "/kiosk/signin",
            data={"csrf_token": token, "id_number": typed_id, "mobile": typed_mobile},
        )
        assert signed.status_code == 302, signed.get_data(as_text=True)
        kiosk.post("/kiosk/signout", data={"csrf_token": token})
    wrong = kiosk.post(
        "/kiosk/signin", data={"csrf_token": token, "id_number": number, "mobile": "1370013700⁰"}
    )
    assert wrong.status_code == 401


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("headcount", "²", "non_ascii_digit"),
        ("headcount", "١٢", "non_ascii_digit"),
        ("pay_fen", "25²", "non_ascii_digit"),
        ("pay_fen", "二千五", "non_ascii_digit"),
        ("pay_fen", 1e30, "too_large"),
        ("pay_fen", "1" * 400, "too_large"),
        ("headcount", 10**30, "too_large"),
    ],
)
def test_a_job_with_a_strange_number_is_refused_naming_the_field(
    web_app: Flask, api: Api, pinned: Any, employer_id: str, field: str, value: Any, code: str
) -> None:
    response = api.post("/jobs", _job(employer_id, **{field: value}))
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert _fields(response).get(field) == code, response.get_json()
    assert _count(web_app, Job) == 0


def test_full_width_digits_in_a_job_are_fine(
    web_app: Flask, api: Api, pinned: Any, employer_id: str
) -> None:
    response = api.post("/jobs", _job(employer_id, headcount="２", pay_fen="３０００"))
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["job"]["headcount"], response.get_json()["job"]["pay_fen"]) == (
        2,
        3000,
    )


def test_a_job_starting_400_days_ahead_is_refused(
    web_app: Flask, api: Api, pinned: Any, employer_id: str
) -> None:
    far = api.post("/jobs", _job(employer_id, days_ahead=400))
    assert far.status_code == 422 and _fields(far) == {"starts_at": "too_far_ahead"}
    assert "一年" in far.get_json()["error"]["message"]
    assert api.post("/jobs", _job(employer_id, days_ahead=300)).status_code == 201


def test_a_name_with_a_bidi_override_is_refused_and_zero_width_is_stripped(
    web_app: Flask, api: Api, pinned: Any, employer_id: str
) -> None:
    spoof = api.post("/workers", worker_body(name=f"王{RLO}芳"))
    assert spoof.status_code == 422 and _fields(spoof) == {"name": "bidi_characters"}
    title = api.post("/jobs", _job(employer_id, title=f"保洁{RLO}元0003"))
    assert title.status_code == 422 and _fields(title) == {"title": "bidi_characters"}
    blank = api.post("/workers", worker_body(name=f"{ZWSP}\u3164"))
    assert blank.status_code == 422 and _fields(blank) == {"name": "required"}
    assert _count(web_app, Worker) == 0
    ok = api.post("/workers", worker_body(name=f"王{ZWSP}芳"))
    assert ok.status_code == 201 and ok.get_json()["worker"]["name"] == "王芳"


def test_under_sixteen_is_refused_by_the_stations_date_not_utcs(
    web_app: Flask, api: Api, pinned: Any
) -> None:
    # 2025-05-05 17:00 UTC is already 2025-05-06 01:00 at the station: born 2009-05-06, 16 today.
    pinned.set(dt.datetime(2025, 5, 5, 17, 0))
    young = api.post("/workers", worker_body(id_number=id_number(birth="20090507", seq=24)))
    assert young.status_code == 422 and _fields(young) == {"id_number": "too_young"}
    assert "16" in young.get_json()["error"]["message"]
    assert (
        api.post("/workers", worker_body(id_number=id_number(birth="20090506", seq=25))).status_code
        == 201
    )
    person = api.post(
        "/employers",
        employer_body(
            kind="person",
            name="个人雇主",
            credit_code=None,
            id_number=id_number(birth="20080101", seq=26),
        ),
    )
    assert person.status_code == 422 and _fields(person) == {"id_number": "too_young"}


def test_the_console_form_registers_a_full_width_number_once(
    web_app: Flask, api: Api, pinned: Any
) -> None:
    number = id_number(birth="19770707", seq=27)
    console = console_client(web_app)
    form = {
        "csrf_token": csrf_token(console, "/console/workers/new"),
        "name": "刘洋",
        "mobile": "１３６ ００１３ ６０００",
        "skills": "cleaning",
        "areas": "团结湖社区",
    }
    first = console.post("/console/workers/new", data={**form, "id_number": _full_width(number)})
    assert first.status_code == 302, first.get_data(as_text=True)
    again = console.post("/console/workers/new", data={**form, "id_number": number.lower()})
    assert again.status_code in (409, 422) and "已登记" in again.get_data(as_text=True)
    young = console.post(
        "/console/workers/new", data={**form, "id_number": id_number(birth="20100101", seq=30)}
    )
    assert young.status_code == 422 and "未满16周岁" in young.get_data(as_text=True)
    days = console.post(
        "/console/workers/new",
        data={
            **form,
            "id_number": id_number(seq=28),
            "avail_days": "³",
            "avail_from": "08:00",
            "avail_to": "18:00",
        },
    )
    assert 400 <= days.status_code < 500
    pay = console.post(
        "/console/jobs/new",
        data={"csrf_token": form["csrf_token"], "pay_yuan": "2²", "headcount": "١"},
    )
    assert 400 <= pay.status_code < 500
    assert _count(web_app, Worker) == 1 and _count(web_app, Job) == 0


def test_a_hub_decision_cannot_set_a_spoofing_name(web_app: Flask, api: Api, pinned: Any) -> None:
    from test_hub_decisions import _apply, _enrol, _field

    _enrol(web_app)
    worker_id = api.post("/workers", worker_body(name="王芳")).get_json()["worker"]["id"]
    outcome = _apply(web_app, "worker", worker_id, _field(worker_id, "name", f"王{RLO}芳"))
    assert outcome.startswith("refused")
    with web_app.app_context(), db.database.connection_context():
        assert Worker.get_by_id(worker_id).name == "王芳"


def test_the_console_search_finds_a_worker_however_the_number_is_typed(
    web_app: Flask, api: Api, pinned: Any
) -> None:
    number = id_number(birth="19660606", seq=29)
    assert (
        api.post(
            "/workers", worker_body(name="孙丽", id_number=number, mobile="13500135000")
        ).status_code
        == 201
    )
    assert api.post("/workers", worker_body(name="钱军")).status_code == 201
    console = console_client(web_app)
    for typed in (
        _full_width("135 0013"),
        "+86 135-0013-5000",
        _full_width(number.lower()),
        number,
    ):
        page = console.get("/console/workers", query_string={"q": typed}).get_data(as_text=True)
        assert "孙丽" in page and "钱军" not in page, typed
        found = api.get("/workers?" + urlencode({"q": typed})).get_json()["workers"]
        assert [w["name"] for w in found] == ["孙丽"], typed


# --- numbers stored before typed numbers were normalised ---


def _store_as_typed_before(
    app: Flask, worker_id: str, typed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Store `typed` the way registration kept it before: only spaces removed, upper-cased."""
    with monkeypatch.context() as patch, app.app_context(), db.database.connection_context():
        patch.setattr(identity, "normalise_id_number", lambda text: "".join(text.split()).upper())
        Worker.update(
            id_cipher=identity.encrypt_id(typed),
            id_hash=identity.hash_id(typed),
            id_masked=identity.mask_id(typed),
        ).where(Worker.id == worker_id).execute()


def test_numbers_stored_full_width_are_brought_to_one_form_and_clashes_named(
    web_app: Flask, api: Api, pinned: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from kuaigong.cli import main
    from station_node.models import ChangeEntry

    number, twin = id_number(birth="19700101", seq=31), id_number(birth="19700101", seq=32)
    old = api.post("/workers", worker_body()).get_json()["worker"]["id"]
    dup = api.post("/workers", worker_body()).get_json()["worker"]["id"]
    ascii_twin = api.post("/workers", worker_body(id_number=twin)).get_json()["worker"]["id"]
    _store_as_typed_before(web_app, old, number[:10] + _full_width(number[10:]), monkeypatch)
    _store_as_typed_before(web_app, dup, _full_width(twin[:6]) + twin[6:], monkeypatch)
    assert (
        api.post("/workers", worker_body(id_number=number)).status_code == 201
    )  # the old hash missed it
    with web_app.app_context(), db.database.connection_context():
        Worker.delete().where(Worker.id_hash == identity.hash_id(number)).execute()
        before = ChangeEntry.select().count()
    db.database.close()

    result = CliRunner().invoke(
        main, ["station", "normalise-ids", "--data", web_app.config["DATA_DIR"]]
    )
    assert result.exit_code == 0, result.output
    assert "one form: 1" in result.output and f"worker:{dup}" in result.output

    with web_app.app_context(), db.database.connection_context():
        row = Worker.get_by_id(old)
        assert identity.decrypt_id(row.id_cipher) == number and row.id_hash == identity.hash_id(
            number
        )
        assert (
            row.id_masked == identity.mask_id(number) and ChangeEntry.select().count() == before + 1
        )
        assert Worker.get_by_id(ascii_twin).id_hash == identity.hash_id(twin)
    clash = api.post("/workers", worker_body(id_number=_full_width(number)))
    assert clash.status_code == 409 and clash.get_json()["error"]["details"]["worker_id"] == old
