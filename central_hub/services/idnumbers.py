"""ID numbers at the hub: one form of a typed number, its keyed hash and the person it names;
shown masked; an admin (not an auditor) may open the copy a station sealed to the hub's key,
stating why. Every opening is logged (IdAccess).

The typed-identifier rules are the station's, shared through kuaigong.characters: full-width
forms folded to ASCII (not NFKC: ² is not 2), the spaces, hyphens and invisible characters
people type removed, upper-case; any digit other than 0-9 is refused. Both apps' tests feed
the same cases.
"""

from __future__ import annotations

from typing import Any

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from central_hub import db, keys
from central_hub.models import Admin, IdAccess, Person, Worker
from central_hub.states import Role
from kuaigong import clock
from kuaigong.characters import (
    fold_width,
    foreign_digits,
    normalise_credit_code,
    normalise_id_number,
    normalise_mobile,
)
from kuaigong.errors import Conflict, FieldErrors, Forbidden, KuaigongError, NotFound

__all__ = [
    "fold_width",
    "foreign_digits",
    "normalise_credit_code",
    "normalise_id_number",
    "normalise_mobile",
]

PURPOSE_MAX = 200


def _typed(
    value: Any, errs: FieldErrors, field: str, zh: str, en: str, normalise: Any
) -> str | None:
    if not isinstance(value, str) or not value.strip():
        errs.add(field, "required", f"请填写{zh}", f"{en} is required")
        return None
    number = str(normalise(value))
    strange = "".join(dict.fromkeys(foreign_digits(number)))[:5]
    if strange:
        errs.add(
            field,
            "non_ascii_digit",
            f"{zh}只能用阿拉伯数字0–9填写，不能用“{strange}”这样的字符",
            f"{en} must use the digits 0-9 only, not characters like '{strange}'",
        )
        return None
    return number


def clean_id_number(value: Any, errs: FieldErrors, field: str = "id_number") -> str | None:
    """A typed resident ID number in its one form, checked by stdnum.cn.ric; None with an error."""
    number = _typed(value, errs, field, "身份证号码", "ID number", normalise_id_number)
    if number is None:
        return None
    try:
        if not number.isascii():
            raise ValidationError()
        ric.validate(number)
    except ValidationError:
        errs.add(
            field,
            "id_invalid",
            "身份证号码不正确（应为18位，校验位须正确），请核对",
            "The ID number is not valid (18 characters with a correct check character)",
        )
        return None
    return number


def clean_credit_code(value: Any, errs: FieldErrors, field: str = "credit_code") -> str | None:
    """A typed unified social credit code in its one form, checked by stdnum.cn.uscc."""
    code = _typed(value, errs, field, "统一社会信用代码", "Credit code", normalise_credit_code)
    if code is None:
        return None
    try:
        if not code.isascii():
            raise ValidationError()
        return str(uscc.validate(code))
    except ValidationError:
        errs.add(
            field,
            "credit_code_invalid",
            "统一社会信用代码不正确（应为18位，校验位须正确）",
            "The credit code is not valid (18 characters with a correct check character)",
        )
        return None


def hash_id_number(id_number: str) -> str:
    """The city's keyed hash of a typed ID number, as every station computes it for that person."""
    return keys.hash_id(normalise_id_number(id_number))


def find_person(id_number: Any) -> str:
    """The keyed hash of the person a typed ID number names; InvalidInput when it is not a valid
    number, NotFound when no station has registered them."""
    errs = FieldErrors()
    number = clean_id_number(id_number, errs)
    errs.raise_if_any()
    id_hash = hash_id_number(str(number))
    known = Person.get_or_none(Person.id_hash == id_hash) or Worker.get_or_none(
        (Worker.id_hash == id_hash) & ~Worker.deleted
    )
    if known is None:
        raise NotFound(
            "该身份证号码对应的人员（尚无驿站登记）",
            "A person with this ID number (no station has registered them)",
        )
    return id_hash


def person_view(id_hash: str) -> dict[str, Any]:
    """A person as admins see them: masked number, their records at each station, who opened
    the sealed number and why (newest first). Never the number itself."""
    person = Person.get_or_none(Person.id_hash == str(id_hash))
    workers = list(
        Worker.select(Worker.id, Worker.station, Worker.name, Worker.data, Worker.created_at)
        .where((Worker.id_hash == str(id_hash)) & ~Worker.deleted)
        .order_by(Worker.station, Worker.id)
    )
    if person is None and not workers:
        raise NotFound(f"人员 {str(id_hash)[:16]}…", f"Person {str(id_hash)[:16]}…")
    masked = (person.id_masked if person else None) or next(
        (w.data.get("id_masked") for w in workers if w.data.get("id_masked")), None
    )
    accesses = list(
        IdAccess.select(IdAccess, Admin)
        .join(Admin)
        .where(IdAccess.id_hash == str(id_hash))
        .order_by(IdAccess.id.desc())
        .limit(50)
    )
    return {
        "id_hash": str(id_hash),
        "id_masked": masked,
        "workers": workers,
        "sealed": _sealed_copy(str(id_hash), person, workers) is not None,
        "accesses": accesses,
    }


def _sealed_copy(id_hash: str, person: Person | None, workers: list[Worker]) -> str | None:
    if person is not None and person.id_sealed:
        return str(person.id_sealed)
    for w in workers:
        sealed = w.data.get("id_sealed")
        if isinstance(sealed, str) and sealed:
            return sealed
    return None


def reveal_id_number(id_hash: str, actor: Admin | None, purpose: Any) -> str:
    """Open the person's sealed ID number for `actor` (role admin) with a stated purpose; the
    access is logged in the same transaction. Auditors and anonymous callers are refused."""
    if actor is None or actor.role != Role.ADMIN:
        raise Forbidden(
            "read_only",
            "只有管理员可以查看完整证件号，审计员只能查看脱敏号码",
            "Only admins may open a full ID number; auditors see it masked",
        )
    text = purpose.strip() if isinstance(purpose, str) else ""
    errs = FieldErrors()
    if not text:
        errs.add(
            "purpose",
            "required",
            "请说明查看完整证件号的用途",
            "State why the full ID number is needed",
        )
    elif len(text) > PURPOSE_MAX:
        errs.add(
            "purpose",
            "too_long",
            f"用途最多 {PURPOSE_MAX} 个字",
            f"The purpose is longer than {PURPOSE_MAX} characters",
        )
    errs.raise_if_any()
    with db.atomic():
        person = Person.get_or_none(Person.id_hash == str(id_hash))
        workers = list(
            Worker.select(Worker.data).where((Worker.id_hash == str(id_hash)) & ~Worker.deleted)
        )
        if person is None and not workers:
            raise NotFound(f"人员 {str(id_hash)[:16]}…", f"Person {str(id_hash)[:16]}…")
        sealed = _sealed_copy(str(id_hash), person, workers)
        if sealed is None:
            raise Conflict(
                "no_sealed_copy",
                "驿站没有上传该人员的加密证件号，无法查看",
                "No station sent a sealed copy of this person's ID number",
            )
        try:
            number = keys.unseal(sealed)
        except ValueError:
            raise KuaigongError(
                "sealed_copy_unreadable",
                "加密证件号无法用本中心的密钥打开",
                "The sealed ID number cannot be opened with this hub's key",
                status=409,
            ) from None
        IdAccess.create(admin=actor, id_hash=str(id_hash), purpose=text, at=clock.now())
    return number
