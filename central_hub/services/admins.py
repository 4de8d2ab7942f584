"""Hub admin accounts: create, sign in (limited per username and address, see signin_limits)."""

from __future__ import annotations

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash

from central_hub import db
from central_hub.models import ROLES, Admin
from central_hub.services import signin_limits
from kuaigong import clock
from kuaigong.errors import Conflict, FieldErrors

MIN_PASSWORD = 8
_DUMMY_HASH = generate_password_hash("not-a-password", method="pbkdf2:sha256:1000")


def create_admin(username: str, display_name: str, role: str, password: str) -> Admin:
    """Create an admin (role admin) or a read-only auditor (role auditor)."""
    errs = FieldErrors()
    username = (username or "").strip()
    if (
        not username
        or len(username) > 64
        or not username.replace("_", "").replace("-", "").isalnum()
    ):
        errs.add(
            "username",
            "invalid",
            "用户名须为 1–64 位字母、数字、- 或 _",
            "Username must be 1–64 letters, digits, - or _",
        )
    if role not in ROLES:
        errs.add("role", "invalid", "角色须为 admin 或 auditor", "Role must be admin or auditor")
    if len(password or "") < MIN_PASSWORD:
        errs.add(
            "password",
            "too_short",
            f"密码至少 {MIN_PASSWORD} 位",
            f"Password needs at least {MIN_PASSWORD} characters",
        )
    errs.raise_if_any()
    with db.atomic():
        if Admin.select().where(Admin.username == username).exists():
            raise Conflict(
                "username_taken",
                f"用户名 {username} 已被使用",
                f"Username {username} is already taken",
                field="username",
            )
        return Admin.create(
            username=username,
            display_name=(display_name or username).strip()[:64],
            role=role,
            password_hash=generate_password_hash(
                password, method=current_app.config["PASSWORD_HASH_METHOD"]
            ),
        )


def authenticate(username: str, password: str) -> Admin | None:
    """The active admin with these credentials, or None."""
    admin = Admin.get_or_none(Admin.username == (username or "").strip())
    if admin is None:
        check_password_hash(_DUMMY_HASH, password or "")  # the same work either way
        return None
    if not admin.active or not check_password_hash(admin.password_hash, password or ""):
        return None
    with db.atomic():
        Admin.update(last_login_at=clock.now()).where(Admin.id == admin.id).execute()
    return admin


def sign_in(username: str, password: str, address: str | None) -> Admin:
    """The admin with these credentials; raises TooManyAttempts (429) while the username or the
    address is blocked (even for the right password), WrongCredentials (401) otherwise."""
    username = (username or "").strip()
    attempt = signin_limits.begin(username, address)
    admin = authenticate(username, password)
    if admin is None:
        raise signin_limits.failed(attempt)
    signin_limits.succeeded(attempt)
    return admin
