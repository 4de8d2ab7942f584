"""Sealed ID numbers: the hub shows a person's number masked; an admin (not an auditor) may open
the copy a station sealed to the hub's key, stating why. Every opening is logged (IdAccess)."""

from __future__ import annotations

from typing import Any

from central_hub import clock, db, keys
from central_hub.errors import Conflict, FieldErrors, Forbidden, HubError, NotFound
from central_hub.models import Admin, IdAccess, Person, Worker

PURPOSE_MAX = 200


def person_view(id_hash: str) -> dict[str, Any]:
    """A person as admins see them: masked number, their records at each station, who opened
    the sealed number and why (newest first). Never the number itself."""
    person = Person.get_or_none(Person.id_hash == str(id_hash))
    workers = list(Worker.select(Worker.id, Worker.station, Worker.name, Worker.data)
                   .where((Worker.id_hash == str(id_hash)) & ~Worker.deleted)
                   .order_by(Worker.station, Worker.id))
    if person is None and not workers:
        raise NotFound(f"人员 {str(id_hash)[:16]}…", f"Person {str(id_hash)[:16]}…")
    masked = (person.id_masked if person else None) or next(
        (w.data.get("id_masked") for w in workers if w.data.get("id_masked")), None)
    accesses = list(IdAccess.select(IdAccess, Admin).join(Admin).where(
        IdAccess.id_hash == str(id_hash)).order_by(IdAccess.id.desc()).limit(50))
    return {"id_hash": str(id_hash), "id_masked": masked, "workers": workers,
            "sealed": _sealed_copy(str(id_hash), person, workers) is not None, "accesses": accesses}


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
    if actor is None or actor.role != "admin":
        raise Forbidden("read_only", "只有管理员可以查看完整证件号，审计员只能查看脱敏号码",
                        "Only admins may open a full ID number; auditors see it masked")
    text = purpose.strip() if isinstance(purpose, str) else ""
    errs = FieldErrors()
    if not text:
        errs.add("purpose", "required", "请说明查看完整证件号的用途", "State why the full ID number is needed")
    elif len(text) > PURPOSE_MAX:
        errs.add("purpose", "too_long", f"用途最多 {PURPOSE_MAX} 个字",
                 f"The purpose is longer than {PURPOSE_MAX} characters")
    errs.raise_if_any()
    with db.atomic():
        person = Person.get_or_none(Person.id_hash == str(id_hash))
        workers = list(Worker.select(Worker.data).where(
            (Worker.id_hash == str(id_hash)) & ~Worker.deleted))
        if person is None and not workers:
            raise NotFound(f"人员 {str(id_hash)[:16]}…", f"Person {str(id_hash)[:16]}…")
        sealed = _sealed_copy(str(id_hash), person, workers)
        if sealed is None:
            raise Conflict("no_sealed_copy", "驿站没有上传该人员的加密证件号，无法查看",
                           "No station sent a sealed copy of this person's ID number")
        try:
            number = keys.unseal(sealed)
        except ValueError:
            raise HubError("sealed_copy_unreadable", "加密证件号无法用本中心的密钥打开",
                           "The sealed ID number cannot be opened with this hub's key",
                           status=409) from None
        IdAccess.create(admin=actor, id_hash=str(id_hash), purpose=text, at=clock.now())
    return number
