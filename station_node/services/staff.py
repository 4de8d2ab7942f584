"""Staff accounts (password for the console, token for the API) and workers' kiosk tokens.

Tokens are random and shown once; only their SHA-256 is stored.
"""

from __future__ import annotations

import hashlib
import re
import secrets

import peewee
from flask import current_app, has_app_context
from werkzeug.security import check_password_hash, generate_password_hash

from kuaigong.errors import Conflict, FieldErrors
from kuaigong.states import WorkerStatus
from station_node import changelog, db
from station_node.models import Staff, Worker
from station_node.services import get_or_404, require_staff
from station_node.services.registration import find_worker_by_id_number
from station_node.validation import clean_choice, clean_text, normalise_mobile

ROLES = {"staff": ("工作人员", "Staff"), "admin": ("驿站管理员", "Station admin")}
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1000")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _password_method() -> str:
    if has_app_context():
        return str(current_app.config.get("PASSWORD_HASH_METHOD", "scrypt"))
    return "scrypt"


def _staff_fields(staff: Staff) -> dict[str, object]:
    return {
        "username": staff.username,
        "display_name": staff.display_name,
        "role": staff.role,
        "active": staff.active,
    }


def create_staff(username: str, display_name: str, role: str, password: str) -> tuple[Staff, str]:
    """Create a staff account; return it with its API token (shown only this once)."""
    errs = FieldErrors()
    if not isinstance(username, str) or not _USERNAME.match(username.strip()):
        errs.add(
            "username",
            "bad_username",
            "用户名应为2到64位字母、数字或 _ . -",
            "The username must be 2-64 letters, digits or _ . -",
        )
    name = clean_text(display_name, errs, "display_name", "姓名", "Display name", max_len=64)
    role_code = clean_choice(role, errs, "role", "角色", "Role", ROLES, default="staff")
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        errs.add(
            "password",
            "weak_password",
            f"密码至少{MIN_PASSWORD}位",
            f"The password must have at least {MIN_PASSWORD} characters",
        )
    errs.raise_if_any()
    username = username.strip()
    token = secrets.token_urlsafe(32)
    with db.atomic():
        if Staff.get_or_none(Staff.username == username) is not None:
            raise Conflict(
                "staff_exists", f"用户名 {username} 已存在", f"Username {username} is taken"
            )
        try:
            staff = Staff.create(
                username=username,
                display_name=name,
                role=role_code,
                password_hash=generate_password_hash(password, method=_password_method()),
                token_hash=_token_hash(token),
            )
        except peewee.IntegrityError:
            raise Conflict(
                "staff_exists", f"用户名 {username} 已存在", f"Username {username} is taken"
            ) from None
        changelog.record("staff", staff.id, "create", _staff_fields(staff))
    return staff, token


def rotate_staff_token(staff_id: int) -> str:
    """Give a staff member a new API token (the old one stops working); return it."""
    token = secrets.token_urlsafe(32)
    with db.atomic():
        staff = get_or_404(Staff, staff_id, "工作人员", "Staff member")
        staff.token_hash = _token_hash(token)
        staff.save()
        changelog.record("staff", staff.id, "update", {"token_rotated": True})
    return token


def authenticate_password(username: str, password: str) -> Staff | None:
    """The active staff member with this username and password, else None."""
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    staff = Staff.get_or_none(Staff.username == username.strip())
    if staff is None:
        check_password_hash(_DUMMY_HASH, password)  # same work either way
        return None
    if not staff.active or not check_password_hash(staff.password_hash, password):
        return None
    return staff


def authenticate_token(token: str) -> Staff | None:
    """The active staff member holding this API token, else None."""
    if not isinstance(token, str) or not token:
        return None
    staff = db.get_row(Staff, "token_hash", _token_hash(token))  # on every API call: fixed SQL
    return staff if staff is not None and staff.active else None


def issue_worker_token(worker_id: str, actor: Staff | None) -> str:
    """Give a worker a personal token for the kiosk or phone (replacing any old one)."""
    require_staff(actor)
    token = secrets.token_urlsafe(24)
    with db.atomic():
        worker = get_or_404(Worker, worker_id, "该劳动者", "Worker")
        worker.user_token_hash = _token_hash(token)
        worker.save()
        changelog.record("worker", worker.id, "update", {"user_token_hash": worker.user_token_hash})
    return token


def authenticate_resident(token: str, id_number: str, mobile: str) -> Worker | None:
    """The active resident named by a personal token, or by ID number and mobile together."""
    if token:
        return authenticate_worker_token(token)
    if not id_number or not mobile:
        return None
    found = find_worker_by_id_number(id_number)
    if (
        found is None
        or found.mobile != normalise_mobile(mobile)
        or found.status != WorkerStatus.ACTIVE
    ):
        return None
    return found


def authenticate_worker_token(token: str) -> Worker | None:
    """The active worker holding this personal token, else None."""
    if not isinstance(token, str) or not token:
        return None
    worker = db.get_row(Worker, "user_token_hash", _token_hash(token))  # every kiosk tap: fixed SQL
    return worker if worker is not None and worker.status == WorkerStatus.ACTIVE else None
