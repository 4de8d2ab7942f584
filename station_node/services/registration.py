"""Registering workers and employers, the day's check-in, and looking at an unmasked ID number.

Birth date and sex come from the ID number (never asked). The number itself is stored only
encrypted, hashed (look-up, duplicates) and masked; the change log carries hash and mask only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import peewee

from kuaigong import clock
from kuaigong.errors import Conflict, FieldError, FieldErrors, InvalidInput
from kuaigong.states import WorkerStatus
from station_node import catalog, changelog, db, identity
from station_node.models import Employer, IdAccess, Presence, PriorityConsent, Staff, Worker
from station_node.services import employer_blocks, get_or_404, local_today, require_staff
from station_node.validation import (
    EMPLOYER_MIN_AGE,
    WORKER_MIN_AGE,
    birth_date_of,
    clean_availability,
    clean_bool,
    clean_choice,
    clean_codes,
    clean_credit_code,
    clean_mobile,
    clean_resident_id,
    clean_text,
    normalise_mobile,
    sex_of,
)

_WORKER_LOGGED = (
    "name",
    "id_hash",
    "id_masked",
    "birth_date",
    "sex",
    "mobile",
    "skills",
    "areas",
    "availability",
    "priority_groups",
    "status",
)


def _as_mapping(data: Any) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise InvalidInput([_body_error()])
    return data


def _body_error() -> FieldError:
    return FieldError(
        "body",
        "wrong_type",
        "提交的内容应为表单或 JSON 对象",
        "The body must be a form or JSON object",
    )


def _clean_consent(data: Mapping[str, Any], errs: FieldErrors) -> str | None:
    """The consent purpose when consent was given, else a field error on `consent`."""
    consent = data.get("consent")
    if not isinstance(consent, Mapping):
        errs.add(
            "consent",
            "consent_required",
            "登记重点人群身份须取得本人单独同意并写明用途",
            "Priority groups need the person's separate consent with its purpose",
        )
        return None
    given = clean_bool(
        consent.get("given"), errs, "consent.given", "同意", "Consent", default=False
    )
    if not given:
        errs.add(
            "consent.given",
            "consent_required",
            "本人未同意，不能登记重点人群身份",
            "Without the person's consent priority groups cannot be recorded",
        )
    return clean_text(
        consent.get("purpose"), errs, "consent.purpose", "同意用途", "Consent purpose", max_len=200
    )


def _worker_profile(data: Mapping[str, Any], errs: FieldErrors, partial: bool) -> dict[str, Any]:
    """Clean the profile fields a worker may give or change (only those present when partial)."""
    out: dict[str, Any] = {}
    if not partial or "name" in data:
        out["name"] = clean_text(data.get("name"), errs, "name", "姓名", "Name", max_len=64)
    if not partial or "mobile" in data:
        out["mobile"] = clean_mobile(data.get("mobile"), errs)
    if not partial or "skills" in data:
        out["skills"] = clean_codes(
            data.get("skills"), errs, "skills", "技能", "Skills", catalog.SKILLS, required=True
        )
    if not partial or "areas" in data:
        out["areas"] = clean_codes(
            data.get("areas"), errs, "areas", "服务社区", "Areas", catalog.areas(), required=True
        )
    if not partial or "availability" in data:
        out["availability"] = clean_availability(data.get("availability"), errs)
    if not partial or "priority_groups" in data:
        out["priority_groups"] = clean_codes(
            data.get("priority_groups"),
            errs,
            "priority_groups",
            "重点人群",
            "Priority groups",
            catalog.PRIORITY_GROUPS,
            required=False,
        )
    return out


def register_worker(data: Mapping[str, Any], actor: Staff | None) -> Worker:
    """Register a worker; Conflict `duplicate_worker` when the ID number is already registered."""
    data = _as_mapping(data)
    errs = FieldErrors()
    number = clean_resident_id(
        data.get("id_number"), errs, today=local_today(), min_age=WORKER_MIN_AGE
    )
    profile = _worker_profile(data, errs, partial=False)
    purpose = _clean_consent(data, errs) if profile.get("priority_groups") else None
    errs.raise_if_any()
    assert number is not None
    id_hash = identity.hash_id(number)
    now = clock.now()
    with db.atomic():
        _refuse_duplicate_worker(id_hash)
        try:
            worker = Worker.create(
                id_cipher=identity.encrypt_id(number),
                id_hash=id_hash,
                id_masked=identity.mask_id(number),
                birth_date=birth_date_of(number),
                sex=sex_of(number),
                created_at=now,
                updated_at=now,
                **profile,
            )
        except peewee.IntegrityError:
            _refuse_duplicate_worker(id_hash)
            raise
        changelog.record(
            "worker",
            worker.id,
            "create",
            {f: getattr(worker, f) for f in _WORKER_LOGGED} | {"created_at": now},
        )
        if worker.priority_groups:
            _record_consent(worker, worker.priority_groups, purpose or "", actor)
    return worker


def _refuse_duplicate_worker(id_hash: str) -> None:
    existing = Worker.get_or_none(Worker.id_hash == id_hash)
    if existing is not None:
        raise Conflict(
            "duplicate_worker",
            f"该身份证号码已登记（{existing.name}，{existing.id_masked}）",
            f"This ID number is already registered ({existing.id_masked})",
            worker_id=existing.id,
        )


def _record_consent(worker: Worker, groups: list[str], purpose: str, actor: Staff | None) -> None:
    consent = PriorityConsent.create(
        worker=worker, groups=groups, purpose=purpose, recorded_by=actor, consented_at=clock.now()
    )
    changelog.record(
        "priority_consent",
        consent.id,
        "create",
        {
            "worker_id": worker.id,
            "groups": groups,
            "purpose": purpose,
            "recorded_by": actor.username if actor else None,
            "consented_at": consent.consented_at,
        },
    )


def update_worker(worker_id: str, data: Mapping[str, Any], actor: Staff | None) -> Worker:
    """Change a worker's profile (only the keys given); the ID number cannot be changed here."""
    data = _as_mapping(data)
    worker = get_or_404(Worker, worker_id, "该劳动者", "Worker")
    errs = FieldErrors()
    if "id_number" in data:
        errs.add(
            "id_number",
            "not_changeable",
            "身份证号码登记后不能修改；如有错误请注销后重新登记",
            "The ID number cannot be changed; register again if it was wrong",
        )
    profile = _worker_profile(data, errs, partial=True)
    new_groups = profile.get("priority_groups")
    added = (
        sorted(set(new_groups or []) - set(worker.priority_groups))
        if new_groups is not None
        else []
    )
    purpose = _clean_consent(data, errs) if added else None
    errs.raise_if_any()
    with db.atomic():
        worker = get_or_404(Worker, worker_id, "该劳动者", "Worker")
        changed = {k: v for k, v in profile.items() if getattr(worker, k) != v}
        if not changed:
            return worker
        for key, value in changed.items():
            setattr(worker, key, value)
        worker.updated_at = clock.now()
        worker.save()
        changelog.record("worker", worker.id, "update", changed | {"updated_at": worker.updated_at})
        if added:
            _record_consent(worker, worker.priority_groups, purpose or "", actor)
        if new_groups == []:
            _withdraw_consents(worker)
    return worker


def _withdraw_consents(worker: Worker) -> None:
    now = clock.now()
    active = (PriorityConsent.worker == worker) & PriorityConsent.withdrawn_at.is_null()
    for consent in PriorityConsent.select().where(active):
        consent.withdrawn_at = now
        consent.save()
        changelog.record("priority_consent", consent.id, "update", {"withdrawn_at": now})


def _block_reason(reason: str | None, blocked: bool, actor: Staff | None) -> str | None:
    """Staff only: the reason kept with a block (required to block, dropped when lifting)."""
    require_staff(actor)
    errs = FieldErrors()
    text = clean_text(reason, errs, "reason", "原因", "Reason", max_len=200, required=blocked)
    errs.raise_if_any()
    return text if blocked else None


def _update(row: Worker | Employer, entity: str, changes: dict[str, Any]) -> None:
    """Set `changes` and updated_at on a row, save it and log them (caller's transaction)."""
    changes = {**changes, "updated_at": clock.now()}
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()
    changelog.record(entity, row.id, "update", changes)


def set_worker_status(
    worker_id: str, blocked: bool, reason: str | None, actor: Staff | None
) -> Worker:
    """Block a worker from dispatch (with a reason) or make them active again."""
    text = _block_reason(reason, blocked, actor)
    with db.atomic():
        worker = get_or_404(Worker, worker_id, "该劳动者", "Worker")
        _update(
            worker,
            "worker",
            {
                "status": WorkerStatus.BLOCKED if blocked else WorkerStatus.ACTIVE,
                "block_reason": text,
            },
        )
    return worker


def find_worker_by_id_number(id_number: str) -> Worker | None:
    """The worker registered with this ID number (looked up by its keyed hash), if any."""
    if not isinstance(id_number, str) or not id_number.strip():
        return None
    return Worker.get_or_none(Worker.id_hash == identity.hash_id(id_number))


def search_workers(q: str, limit: int = 200) -> peewee.ModelSelect:
    """Workers, newest first, whose name or mobile holds `q` (the mobile read however typed:
    full-width, +86, spaces) or whose whole ID number is `q` (matched by its keyed hash)."""
    query = Worker.select().order_by(Worker.created_at.desc())
    if q:
        mobile = normalise_mobile(q) or q
        query = query.where(
            Worker.name.contains(q)
            | Worker.mobile.contains(mobile)
            | (Worker.id_hash == identity.hash_id(q))
        )
    return query.limit(limit)


def normalise_stored_id_numbers() -> dict[str, list[str]]:
    """Bring ID numbers stored before typed numbers were normalised (full-width digits were
    accepted and kept) to their one form — cipher, keyed hash, mask — and log each change.
    A record whose normal form another record already holds is left as it is and named under
    "clashes": the same person registered twice, for staff to resolve."""
    done: dict[str, list[str]] = {"changed": [], "clashes": []}
    models: list[tuple[str, type[Worker] | type[Employer]]] = [
        ("worker", Worker),
        ("employer", Employer),
    ]
    with db.atomic():
        for entity, model in models:
            for row in model.select().where(model.id_cipher.is_null(False)).order_by(model.id):
                stored = identity.decrypt_id(row.id_cipher)
                number = identity.normalise_id(stored)
                new_hash = identity.hash_id(number)
                if number == stored and new_hash == row.id_hash:
                    continue
                if (
                    model.get_or_none((model.id_hash == new_hash) & (model.id != row.id))
                    is not None
                ):
                    done["clashes"].append(f"{entity}:{row.id}")
                    continue
                row.id_cipher = identity.encrypt_id(number)
                _update(row, entity, {"id_hash": new_hash, "id_masked": identity.mask_id(number)})
                done["changed"].append(f"{entity}:{row.id}")
    return done


def register_employer(data: Mapping[str, Any], actor: Staff | None) -> Employer:
    """Register a person (resident ID) or organisation (credit code) that offers work."""
    data = _as_mapping(data)
    errs = FieldErrors()
    kind = clean_choice(
        data.get("kind"), errs, "kind", "雇主类型", "Employer kind", catalog.EMPLOYER_KINDS
    )
    name = clean_text(data.get("name"), errs, "name", "名称", "Name", max_len=128)
    number = credit_code = None
    if kind == "person":
        number = clean_resident_id(
            data.get("id_number"), errs, today=local_today(), min_age=EMPLOYER_MIN_AGE
        )
    elif kind == "organisation":
        credit_code = clean_credit_code(data.get("credit_code"), errs)
    contact = data.get("contact_name") or (name if kind == "person" else None)
    contact_name = clean_text(contact, errs, "contact_name", "联系人", "Contact name", max_len=64)
    mobile = clean_mobile(data.get("mobile"), errs)
    address = clean_text(data.get("address"), errs, "address", "地址", "Address", max_len=200)
    errs.raise_if_any()
    id_hash = identity.hash_id(number) if number else None
    city_block = employer_blocks.city_block(credit_code, id_hash)
    now = clock.now()
    with db.atomic():
        clash = Employer.get_or_none(
            (Employer.id_hash == id_hash) if id_hash else (Employer.credit_code == credit_code)
        )
        if clash is not None:
            raise Conflict(
                "duplicate_employer",
                f"该雇主已登记（{clash.name}）",
                f"This employer is already registered ({clash.name})",
                employer_id=clash.id,
            )
        employer = Employer.create(
            kind=kind,
            name=name,
            id_cipher=identity.encrypt_id(number) if number else None,
            id_hash=id_hash,
            id_masked=identity.mask_id(number) if number else None,
            credit_code=credit_code,
            contact_name=contact_name,
            mobile=mobile,
            address=address,
            blocked=city_block is not None,
            block_reason=city_block,
            created_at=now,
            updated_at=now,
        )
        fields = (
            "kind",
            "name",
            "id_hash",
            "id_masked",
            "credit_code",
            "contact_name",
            "mobile",
            "address",
            "blocked",
            "block_reason",
        )
        changelog.record(
            "employer",
            employer.id,
            "create",
            {f: getattr(employer, f) for f in fields} | {"created_at": now},
        )
    return employer


def _set_employer_block(
    employer_id: str, blocked: bool, reason: str | None, actor: Staff | None
) -> Employer:
    text = _block_reason(reason, blocked, actor)
    with db.writing():
        employer = get_or_404(Employer, employer_id, "该雇主", "Employer")
        if not blocked and employer_blocks.city_block(employer.credit_code, employer.id_hash):
            raise Conflict(
                "city_rule",
                "该用工方被市级规则停用，驿站不能解除；如有异议请联系市级中心",
                "A city rule blocks this employer; the station cannot lift it (ask the city hub)",
            )
        _update(employer, "employer", {"blocked": blocked, "block_reason": text})
        if blocked:
            employer_blocks.hold_open_jobs(employer)
    return employer


def block_employer(employer_id: str, reason: str, actor: Staff | None) -> Employer:
    """Block an employer: its open jobs are held for review at once (pending offers withdrawn)
    and its new postings are held too. A reason is required."""
    return _set_employer_block(employer_id, True, reason, actor)


def unblock_employer(employer_id: str, actor: Staff | None, reason: str | None = None) -> Employer:
    """Lift an employer's block; its held jobs stay held until staff release them."""
    return _set_employer_block(employer_id, False, reason, actor)


def check_in_worker(worker_id: str, actor: Staff | None) -> Presence:
    """Put a worker in today's present pool (checking in twice a day keeps the first time)."""
    day = local_today()
    with db.atomic():
        worker = get_or_404(Worker, worker_id, "该劳动者", "Worker")
        if worker.status != WorkerStatus.ACTIVE:
            raise Conflict(
                "worker_blocked", "该劳动者已被暂停派工", "This worker is blocked from dispatch"
            )
        presence = Presence.get_or_none((Presence.worker == worker) & (Presence.day == day))
        if presence is not None and presence.checked_out_at is None:
            return presence
        now = clock.now()
        if presence is None:
            presence = Presence.create(worker=worker, day=day, checked_in_at=now)
            op = "create"
        else:
            presence.checked_in_at, presence.checked_out_at = now, None
            presence.save()
            op = "update"
        changelog.record(
            "presence",
            f"{worker.id}:{day.isoformat()}",
            op,
            {"worker_id": worker.id, "day": day, "checked_in_at": now, "checked_out_at": None},
        )
    return presence


def check_out_worker(worker_id: str, actor: Staff | None) -> Presence:
    """Take a worker out of today's present pool (they left the station); offers for the rest
    of the day go to those still here. Checking out twice keeps the first time."""
    day = local_today()
    with db.atomic():
        worker = get_or_404(Worker, worker_id, "该劳动者", "Worker")
        presence = Presence.get_or_none((Presence.worker == worker) & (Presence.day == day))
        if presence is None:
            raise Conflict(
                "not_checked_in", "该劳动者今天没有签到", "This worker has not checked in today"
            )
        if presence.checked_out_at is not None:
            return presence
        now = clock.now()
        presence.checked_out_at = now
        presence.save()
        changelog.record(
            "presence",
            f"{worker.id}:{day.isoformat()}",
            "update",
            {
                "worker_id": worker.id,
                "day": day,
                "checked_in_at": presence.checked_in_at,
                "checked_out_at": now,
            },
        )
    return presence


def reveal_id_number(entity: str, entity_id: str, actor: Staff | None, purpose: str) -> str:
    """Decrypt a worker's or employer's ID number for staff, logging who looked and why."""
    staff = require_staff(actor)
    errs = FieldErrors()
    models: dict[str, type[Worker] | type[Employer]] = {"worker": Worker, "employer": Employer}
    model = models.get(entity) if isinstance(entity, str) else None
    if model is None:
        errs.add(
            "entity",
            "unknown_choice",
            "只能查看劳动者或雇主的证件号",
            "Entity must be worker or employer",
        )
    reason = clean_text(purpose, errs, "purpose", "查看用途", "Purpose", max_len=200)
    errs.raise_if_any()
    assert model is not None
    with db.atomic():
        row = get_or_404(model, entity_id, "该记录", "Record")
        if row.id_cipher is None:
            raise Conflict(
                "no_id_number",
                "该雇主登记的是统一社会信用代码，没有身份证号",
                "This employer has no ID number",
            )
        number = identity.decrypt_id(row.id_cipher)
        access = IdAccess.create(
            staff=staff, entity=entity, entity_id=row.id, purpose=reason, at=clock.now()
        )
        changelog.record(
            "id_access",
            access.id,
            "create",
            {
                "staff": staff.username,
                "entity": entity,
                "entity_id": row.id,
                "purpose": reason,
                "at": access.at,
            },
        )
    return number
