"""Pure checks of user input. Each `clean_*` returns the cleaned value (or None) and adds a
FieldError — Chinese and English message, machine-readable code — to the collector for every
problem; the `*_errors` helpers return the FieldError list for one value (forms, live checks).

No database, no Flask: time and options come in as arguments.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from stdnum.cn import ric, uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidLength, ValidationError

from kuaigong.characters import (
    bidi_controls,
    control_characters,
    describe,
    fold_width,
    foreign_digits,
    normalise_credit_code,
    normalise_id_number,
    normalise_mobile,
    tidy_text,
)
from kuaigong.errors import FieldError, FieldErrors

__all__ = ["normalise_credit_code", "normalise_id_number", "normalise_mobile"]

WORKER_MIN_AGE = 16
EMPLOYER_MIN_AGE = 18
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_WHOLE = re.compile(r"[+-]?[0-9]+")
_MAX_DIGITS = 18  # longer digit strings are out of any field's range: no int() of 400 digits
MAX_LEAD = dt.timedelta(days=365)  # how far ahead a job may start
_TRUE = {"1", "true", "yes", "on", "y", "t", "是"}
_FALSE = {"0", "false", "no", "off", "n", "f", "", "否"}


def _wrong_type(errs: FieldErrors, field: str, zh: str, en: str) -> None:
    errs.add(field, "wrong_type", f"{zh}格式不对", f"{en} has the wrong type")


def _required(errs: FieldErrors, field: str, zh: str, en: str) -> None:
    errs.add(field, "required", f"请填写{zh}", f"{en} is required")


def clean_text(
    value: Any,
    errs: FieldErrors,
    field: str,
    zh: str,
    en: str,
    *,
    max_len: int,
    required: bool = True,
    multiline: bool = False,
) -> str | None:
    """A trimmed text value of at most `max_len` characters (None when blank and optional).

    Invisible characters (zero-width, soft hyphen, fillers) are dropped; direction controls
    and control characters are refused. Line breaks and tabs stay only when `multiline`.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            _required(errs, field, zh, en)
        return None
    if not isinstance(value, str):
        _wrong_type(errs, field, zh, en)
        return None
    if _refused_characters(value, errs, field, zh, en):
        return None
    text = tidy_text(value, multiline=multiline)
    if not text:
        if required:
            _required(errs, field, zh, en)
        return None
    if len(text) > max_len:
        errs.add(
            field,
            "too_long",
            f"{zh}不能超过{max_len}个字",
            f"{en} must be at most {max_len} characters",
        )
        return None
    return text


def _refused_characters(value: str, errs: FieldErrors, field: str, zh: str, en: str) -> bool:
    """Add an error and say True when `value` holds a direction control or a control character."""
    bidi = bidi_controls(value)
    if bidi:
        errs.add(
            field,
            "bidi_characters",
            f"{zh}含有改变文字方向的隐藏字符（{describe(bidi)}），请删除后重新输入",
            f"{en} contains hidden text-direction characters ({describe(bidi)}); "
            "please type it again without them",
        )
        return True
    controls = control_characters(value)
    if controls:
        errs.add(
            field,
            "bad_characters",
            f"{zh}含有无效的控制字符（{describe(controls)}），请删除后重新输入",
            f"{en} contains invalid control characters ({describe(controls)})",
        )
        return True
    return False


def _foreign_digit_error(errs: FieldErrors, field: str, zh: str, en: str, chars: list[str]) -> None:
    shown = "".join(dict.fromkeys(chars))[:5]
    errs.add(
        field,
        "non_ascii_digit",
        f"{zh}只能用阿拉伯数字0–9填写，不能用“{shown}”这样的字符",
        f"{en} must use the digits 0-9 only, not characters like '{shown}'",
    )


def clean_int(
    value: Any,
    errs: FieldErrors,
    field: str,
    zh: str,
    en: str,
    *,
    minimum: int,
    maximum: int,
    required: bool = True,
) -> int | None:
    """A whole number in [minimum, maximum]; strings of 0-9 (full-width too) are accepted,
    fractions, other digits (², ١, ①, 三), NaN/Infinity and out-of-range sizes are not."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            _required(errs, field, zh, en)
        return None
    number = _whole_number(value, errs, field, zh, en, minimum=minimum, maximum=maximum)
    if number is None:
        return None
    if number < minimum:
        errs.add(field, "too_small", f"{zh}不能小于{minimum}", f"{en} must be at least {minimum}")
        return None
    if number > maximum:
        errs.add(field, "too_large", f"{zh}不能大于{maximum}", f"{en} must be at most {maximum}")
        return None
    return number


def _whole_number(
    value: Any, errs: FieldErrors, field: str, zh: str, en: str, *, minimum: int, maximum: int
) -> int | None:
    """The int a JSON number or typed string stands for, or None with the reason added."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            errs.add(field, "not_a_number", f"{zh}不是有效的数字", f"{en} is not a valid number")
            return None
        if value.is_integer():
            return int(value)
    if isinstance(value, str):
        text = fold_width(value).strip()
        strange = foreign_digits(text)
        if strange:
            _foreign_digit_error(errs, field, zh, en, strange)
            return None
        if _WHOLE.fullmatch(text):
            if len(text.lstrip("+-").lstrip("0")) > _MAX_DIGITS:
                return minimum - 1 if text.startswith("-") else maximum + 1
            return int(text)
    errs.add(field, "not_integer", f"{zh}必须是整数", f"{en} must be a whole number")
    return None


def clean_bool(
    value: Any, errs: FieldErrors, field: str, zh: str, en: str, *, default: bool
) -> bool:
    """True/False, also from form strings ("1", "true", "on", "是"); absent gives the default."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    errs.add(field, "not_boolean", f"{zh}只能选是或否", f"{en} must be yes or no")
    return default


def clean_choice(
    value: Any,
    errs: FieldErrors,
    field: str,
    zh: str,
    en: str,
    options: Mapping[str, Any],
    *,
    default: str | None = None,
) -> str | None:
    """One code from `options`; absent gives `default` (or a required error when no default)."""
    if value is None or value == "":
        if default is None:
            _required(errs, field, zh, en)
        return default
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(options)
        errs.add(
            field,
            "unknown_choice",
            f"{zh}的取值无效（可选：{allowed}）",
            f"{en} must be one of: {allowed}",
        )
        return None
    return value


def _as_list(value: Any) -> list[Any] | None:
    """Lists as given; a comma- or space-separated string (from a form) split into one."""
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        return [part for part in re.split(r"[,，、\s]+", value) if part]
    return None


def clean_codes(
    value: Any,
    errs: FieldErrors,
    field: str,
    zh: str,
    en: str,
    options: Iterable[str],
    *,
    required: bool,
    max_items: int = 20,
) -> list[str]:
    """A list of codes, each from `options`, without duplicates (order kept)."""
    if value is None or value == "" or value == []:
        if required:
            errs.add(field, "required", f"请至少选择一项{zh}", f"Choose at least one {en.lower()}")
        return []
    # Only a real list: a lone string ("cleaning" or "a,b") is a client sending the wrong type.
    items = list(value) if isinstance(value, list | tuple) else None
    if items is None or not all(isinstance(v, str) for v in items):
        errs.add(
            field, "wrong_type", f"{zh}应为列表，每项一个", f"{en} must be a list, one item each"
        )
        return []
    allowed = set(options)
    unknown = [v for v in items if v not in allowed]
    if unknown:
        names = "、".join(unknown[:5])
        errs.add(
            field, "unknown_code", f"{zh}不在标准列表中：{names}", f"Unknown {en.lower()}: {names}"
        )
        return []
    if len(items) > max_items:
        errs.add(field, "too_many", f"{zh}最多{max_items}项", f"At most {max_items} {en.lower()}")
        return []
    return list(dict.fromkeys(items))


def clean_resident_id(
    value: Any,
    errs: FieldErrors,
    field: str = "id_number",
    *,
    today: dt.date,
    min_age: int = WORKER_MIN_AGE,
) -> str | None:
    """A mainland resident ID number (GB 11643) of someone old enough, in its one stored form.

    Normalised first (`normalise_id_number`), so a full-width or spaced number is the same
    person; any digit other than 0-9 left after that is refused, then stdnum.cn.ric checks it.
    """
    number = _identifier(value, errs, field, "身份证号码", "ID number", normalise_id_number)
    if number is None:
        return None
    if not number.isascii():
        errs.add(field, "id_format", "身份证号码格式不正确", "The ID number is not well formed")
        return None
    try:
        ric.validate(number)
    except InvalidLength:
        errs.add(field, "id_length", "身份证号码应为18位", "The ID number must have 18 characters")
        return None
    except InvalidChecksum:
        errs.add(
            field,
            "id_checksum",
            "身份证号码校验位不正确，请核对",
            "The ID number's check character is wrong; please check it",
        )
        return None
    except InvalidComponent:
        _id_component_error(errs, field, number)
        return None
    except ValidationError:
        errs.add(field, "id_format", "身份证号码格式不正确", "The ID number is not well formed")
        return None
    birth = ric.get_birth_date(number)
    if birth > today:
        errs.add(
            field,
            "id_future_birth",
            "身份证号码中的出生日期晚于今天",
            "The birth date in the ID number is in the future",
        )
        return None
    if birth.year < 1900:
        errs.add(
            field,
            "id_birth_date",
            "身份证号码中的出生日期不可能",
            "The birth date in the ID number is impossible",
        )
        return None
    if age_on(birth, today) < min_age:
        errs.add(
            field,
            "too_young",
            f"未满{min_age}周岁，不能登记",
            f"Must be at least {min_age} years old to register",
        )
        return None
    return number


def _id_component_error(errs: FieldErrors, field: str, number: str) -> None:
    try:
        ric.get_birth_date(number)
    except InvalidComponent:
        errs.add(
            field,
            "id_birth_date",
            "身份证号码中的出生日期不存在",
            "The birth date in the ID number does not exist",
        )
        return
    errs.add(field, "id_area", "身份证号码的地区码无效", "The ID number's area code is not valid")


def age_on(birth: dt.date, today: dt.date) -> int:
    """Whole years of age on `today`."""
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def birth_date_of(id_number: str) -> dt.date:
    """The birth date written in a (valid) resident ID number."""
    return ric.get_birth_date(id_number)


def sex_of(id_number: str) -> str:
    """'M' or 'F' from the sequence digit of a resident ID number (odd means male)."""
    return "M" if int(ric.compact(id_number)[16]) % 2 else "F"


def _identifier(
    value: Any, errs: FieldErrors, field: str, zh: str, en: str, normalise: Any
) -> str | None:
    """A typed identifier normalised, or None with an error: blank, not text, or a foreign digit."""
    if value is None or (isinstance(value, str) and not value.strip()):
        _required(errs, field, zh, en)
        return None
    if not isinstance(value, str):
        _wrong_type(errs, field, zh, en)
        return None
    number = str(normalise(value))
    strange = foreign_digits(number)
    if strange:
        _foreign_digit_error(errs, field, zh, en, strange)
        return None
    if not number:
        _required(errs, field, zh, en)
        return None
    return number


def clean_credit_code(value: Any, errs: FieldErrors, field: str = "credit_code") -> str | None:
    """An organisation's unified social credit code (GB 32100), normalised
    (`normalise_credit_code`), then checked by stdnum.cn.uscc."""
    code = _identifier(
        value, errs, field, "统一社会信用代码", "Unified social credit code", normalise_credit_code
    )
    if code is None:
        return None
    if not code.isascii():
        errs.add(
            field,
            "credit_code_format",
            "统一社会信用代码格式不正确",
            "The credit code is not well formed",
        )
        return None
    try:
        return str(uscc.validate(code))
    except InvalidLength:
        errs.add(
            field,
            "credit_code_length",
            "统一社会信用代码应为18位",
            "The credit code must have 18 characters",
        )
    except InvalidChecksum:
        errs.add(
            field,
            "credit_code_checksum",
            "统一社会信用代码校验位不正确",
            "The credit code's check character is wrong",
        )
    except ValidationError:
        errs.add(
            field,
            "credit_code_format",
            "统一社会信用代码格式不正确",
            "The credit code is not well formed",
        )
    return None


def clean_mobile(value: Any, errs: FieldErrors, field: str = "mobile") -> str | None:
    """A mainland mobile number, 11 digits 1[3-9]…, normalised (`normalise_mobile`: full-width
    folded, +86 / 86 / 0086 and separators removed).

    Only text: a number sent as a JSON number is refused (it loses leading zeros and "+").
    """
    if value is not None and not isinstance(value, str):
        errs.add(
            field,
            "wrong_type",
            '手机号码应以文字提交（如 "13812345678"），不能是数字类型',
            'The mobile number must be sent as text (e.g. "13812345678"), not as a number',
        )
        return None
    digits = _identifier(value, errs, field, "手机号码", "Mobile number", normalise_mobile)
    if digits is None:
        return None
    if not _MOBILE.match(digits):
        errs.add(
            field,
            "bad_mobile",
            "手机号码应为以1开头的11位数字",
            "A mobile number has 11 digits starting with 1[3-9]",
        )
        return None
    return digits


def clean_hhmm(value: Any, errs: FieldErrors, field: str, zh: str, en: str) -> str | None:
    """A time of day "HH:MM" (24-hour; full-width digits are folded)."""
    if not isinstance(value, str) or not _HHMM.match(fold_width(value).strip()):
        errs.add(
            field, "bad_time", f"{zh}应为 时:分（如 08:30）", f"{en} must be HH:MM (e.g. 08:30)"
        )
        return None
    return fold_width(value).strip()


def clean_availability(
    value: Any, errs: FieldErrors, field: str = "availability"
) -> dict[str, Any]:
    """Weekly availability {"days": [0..6], "from": "HH:MM", "to": "HH:MM"}; {} when not given."""
    if value is None or value == {} or value == "":
        return {}
    if not isinstance(value, Mapping):
        _wrong_type(errs, field, "可工作时间", "Availability")
        return {}
    days_raw = value.get("days", list(range(7)))
    days = _as_list(days_raw) if not isinstance(days_raw, int) else None
    clean_days: list[int] = []
    if days is None:
        errs.add(
            f"{field}.days", "wrong_type", "可工作日格式不对", "Working days have the wrong type"
        )
    else:
        for day in days:
            sub = FieldErrors()
            number = clean_int(
                day, sub, f"{field}.days", "可工作日", "Working day", minimum=0, maximum=6
            )
            if number is None:
                errs.add(
                    f"{field}.days",
                    "bad_day",
                    "可工作日应为0（周一）到6（周日）",
                    "Working days are 0 (Monday) to 6 (Sunday)",
                )
                break
            clean_days.append(number)
    start = clean_hhmm(value.get("from", "00:00"), errs, f"{field}.from", "开始时间", "Start time")
    end = clean_hhmm(value.get("to", "23:59"), errs, f"{field}.to", "结束时间", "End time")
    if start and end and start >= end:
        errs.add(
            f"{field}.to",
            "end_before_start",
            "结束时间应晚于开始时间",
            "The end time must be after the start time",
        )
    return {"days": sorted(set(clean_days)), "from": start, "to": end}


def clean_datetime(
    value: Any, errs: FieldErrors, field: str, zh: str, en: str, *, utc_offset_hours: int
) -> dt.datetime | None:
    """An ISO 8601 date-time as naive UTC; one without an offset is the station's local time."""
    if value is None or (isinstance(value, str) and not value.strip()):
        _required(errs, field, zh, en)
        return None
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(fold_width(value).strip().replace("Z", "+00:00"))
        except ValueError:
            errs.add(
                field,
                "bad_datetime",
                f"{zh}应为日期时间（如 2025-05-01T08:00）",
                f"{en} must be a date and time like 2025-05-01T08:00",
            )
            return None
    else:
        _wrong_type(errs, field, zh, en)
        return None
    try:
        if parsed.tzinfo is None:
            parsed = parsed - dt.timedelta(hours=utc_offset_hours)
        else:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    except OverflowError:  # 0001-01-01T00:00 or 9999-12-31T23:59 across the time zone
        errs.add(
            field,
            "out_of_range",
            f"{zh}超出了可用的日期范围",
            f"{en} is outside the usable range of dates",
        )
        return None
    return parsed.replace(microsecond=0)


def refuse_far_future(
    when: dt.datetime | None,
    now: dt.datetime,
    errs: FieldErrors,
    field: str,
    zh: str,
    en: str,
    *,
    utc_offset_hours: int,
) -> None:
    """Add an error when `when` (naive UTC) is more than MAX_LEAD after `now` (naive UTC)."""
    if when is None or when <= now + MAX_LEAD:
        return
    latest = (now + MAX_LEAD + dt.timedelta(hours=utc_offset_hours)).date().isoformat()
    errs.add(
        field,
        "too_far_ahead",
        f"{zh}不能晚于一年以后（最晚为 {latest}）",
        f"{en} cannot be more than a year ahead (latest {latest})",
    )


def resident_id_errors(
    value: Any, today: dt.date, min_age: int = WORKER_MIN_AGE
) -> list[FieldError]:
    """The problems with one resident ID number (empty when valid)."""
    errs = FieldErrors()
    clean_resident_id(value, errs, today=today, min_age=min_age)
    return errs.errors


def credit_code_errors(value: Any) -> list[FieldError]:
    """The problems with one unified social credit code (empty when valid)."""
    errs = FieldErrors()
    clean_credit_code(value, errs)
    return errs.errors


def mobile_errors(value: Any) -> list[FieldError]:
    """The problems with one mobile number (empty when valid)."""
    errs = FieldErrors()
    clean_mobile(value, errs)
    return errs.errors
