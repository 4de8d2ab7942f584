"""The pure input checks: ID numbers, credit codes, mobiles, numbers, times, lists."""

from __future__ import annotations

import datetime as dt

import pytest
from stdnum.cn import ric, uscc

from kuaigong.errors import FieldErrors
from station_node import validation as v

TODAY = dt.date(2025, 5, 6)
EXAMPLE = "11010519491231002X"  # the example printed in GB 11643-1999


def _codes(errs: FieldErrors) -> list[str]:
    return [e.code for e in errs.errors]


def _with_check(body17: str) -> str:
    return body17 + ric.calc_check_digit(body17 + "0")


def test_standard_example_is_valid_and_yields_birth_date_and_sex():
    assert v.resident_id_errors(EXAMPLE, TODAY) == []
    assert v.birth_date_of(EXAMPLE) == dt.date(1949, 12, 31)
    assert v.sex_of(EXAMPLE) == "F"  # sequence 002: even
    assert v.sex_of(_with_check("11010519491231001")) == "M"


def test_lower_case_check_character_and_spaces_are_normalised():
    errs = FieldErrors()
    assert v.clean_resident_id(" 110105 19491231002x ", errs, today=TODAY) == EXAMPLE
    assert not errs


@pytest.mark.parametrize("last", list("0123456789"))
def test_any_other_check_character_is_refused(last):
    errs = FieldErrors()
    assert v.clean_resident_id(EXAMPLE[:-1] + last, errs, today=TODAY) is None
    assert _codes(errs) == ["id_checksum"]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("11010519491231002", "id_length"),
        ("1101051949123100AX", "id_format"),
        (_with_check("11010519490230002"), "id_birth_date"),  # 30 February
        (_with_check("11010519491331002"), "id_birth_date"),  # month 13
        (_with_check("99999919800101002"), "id_area"),
        (_with_check("11010520300101002"), "id_future_birth"),
        (_with_check("11010520150101002"), "too_young"),  # ten years old
        ("", "required"),
        (None, "required"),
        (110105194912310020, "wrong_type"),
    ],
)
def test_bad_id_numbers_are_named(value, code):
    errs = FieldErrors()
    assert v.clean_resident_id(value, errs, today=TODAY) is None
    assert _codes(errs) == [code]
    assert errs.errors[0].field == "id_number"
    assert errs.errors[0].message_zh  # Chinese first


def test_sixteenth_birthday_is_the_first_day_one_may_register():
    sixteen_today = _with_check("11010520090506002")
    sixteen_tomorrow = _with_check("11010520090507002")
    assert v.resident_id_errors(sixteen_today, TODAY) == []
    assert [e.code for e in v.resident_id_errors(sixteen_tomorrow, TODAY)] == ["too_young"]


def test_credit_codes_use_the_standard_check():
    good = "91110000600037341L"
    assert v.credit_code_errors(good) == []
    assert [e.code for e in v.credit_code_errors(good[:-1] + "M")] == ["credit_code_checksum"]
    assert [e.code for e in v.credit_code_errors("9111000060003734")] == ["credit_code_length"]
    body = "91110105MA0000001"
    assert v.credit_code_errors(body + uscc.calc_check_digit(body)) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
    ],
)
def test_mobile_numbers_are_normalised(raw, clean):
    errs = FieldErrors()
    assert v.clean_mobile(raw, errs) == clean
    assert not errs


@pytest.mark.parametrize(
    "raw", ["12812345678", "1381234567", "138123456789", "abc", "+1 2025550100"]
)
def test_bad_mobile_numbers_are_refused(raw):
    assert [e.code for e in v.mobile_errors(raw)] == ["bad_mobile"]


@pytest.mark.parametrize("raw", [13812345678, 13812345678.0, True, ["13812345678"]])
def test_a_mobile_number_that_is_not_text_is_the_wrong_type(raw):
    assert [e.code for e in v.mobile_errors(raw)] == ["wrong_type"]


@pytest.mark.parametrize(
    ("raw", "expected", "code"),
    [
        (5, 5, None),
        ("12", 12, None),
        (3.0, 3, None),
        (2.5, None, "not_integer"),
        ("2.5", None, "not_integer"),
        (True, None, "not_integer"),
        ([1], None, "not_integer"),
        (0, None, "too_small"),
        (501, None, "too_large"),
        ("", None, "required"),
    ],
)
def test_whole_numbers(raw, expected, code):
    errs = FieldErrors()
    assert (
        v.clean_int(raw, errs, "headcount", "人数", "Headcount", minimum=1, maximum=500) == expected
    )
    assert _codes(errs) == ([code] if code else [])


def test_text_codes_booleans_and_choices():
    errs = FieldErrors()
    assert v.clean_text("  你好 ", errs, "t", "标题", "Title", max_len=5) == "你好"
    assert v.clean_text("x" * 6, errs, "t", "标题", "Title", max_len=5) is None
    assert v.clean_text(12, errs, "t", "标题", "Title", max_len=5) is None
    assert _codes(errs) == ["too_long", "wrong_type"]
    errs = FieldErrors()
    options = {"a": 1, "b": 2}
    assert v.clean_codes(["a", "b", "a"], errs, "s", "技能", "Skills", options, required=True) == [
        "a",
        "b",
    ]
    assert v.clean_codes(["a", "zzz"], errs, "s", "技能", "Skills", options, required=True) == []
    assert "zzz" in errs.errors[0].message_zh
    assert v.clean_codes("a, b", errs, "s", "技能", "Skills", options, required=True) == []
    assert v.clean_codes("a", errs, "s", "技能", "Skills", options, required=True) == []
    assert v.clean_bool("on", errs, "b", "是否", "Flag", default=False) is True
    assert v.clean_bool("maybe", errs, "b", "是否", "Flag", default=False) is False
    assert v.clean_choice("c", errs, "c", "方式", "Mode", options) is None
    assert _codes(errs) == [
        "unknown_code",
        "wrong_type",
        "wrong_type",
        "not_boolean",
        "unknown_choice",
    ]


def test_datetimes_local_or_with_offset_become_naive_utc():
    errs = FieldErrors()
    local = v.clean_datetime(
        "2025-05-07T08:00", errs, "starts_at", "开始", "Start", utc_offset_hours=8
    )
    aware = v.clean_datetime(
        "2025-05-07T08:00+08:00", errs, "starts_at", "开始", "Start", utc_offset_hours=8
    )
    zulu = v.clean_datetime(
        "2025-05-07T00:00:00Z", errs, "starts_at", "开始", "Start", utc_offset_hours=8
    )
    assert local == aware == zulu == dt.datetime(2025, 5, 7, 0, 0)
    assert (
        v.clean_datetime("tomorrow", errs, "starts_at", "开始", "Start", utc_offset_hours=8) is None
    )
    assert _codes(errs) == ["bad_datetime"]


def test_availability():
    errs = FieldErrors()
    got = v.clean_availability({"days": [4, 0, 0], "from": "08:00", "to": "17:30"}, errs)
    assert got == {"days": [0, 4], "from": "08:00", "to": "17:30"} and not errs
    v.clean_availability({"days": [7], "from": "18:00", "to": "08:00"}, errs)
    assert {(e.field, e.code) for e in errs.errors} == {
        ("availability.days", "bad_day"),
        ("availability.to", "end_before_start"),
    }
    assert v.clean_availability(None, FieldErrors()) == {}
