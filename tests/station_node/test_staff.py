"""Staff accounts and tokens; workers' personal tokens."""

from __future__ import annotations

import pytest

from kuaigong.errors import Conflict, Forbidden, InvalidInput
from station_node.models import ChangeEntry, Staff
from station_node.services import staff as staff_service


def test_create_and_authenticate(app):
    member, token = staff_service.create_staff("li", "李娜", "staff", "correct horse")
    assert member.role == "staff" and token
    assert staff_service.authenticate_password("li", "correct horse").id == member.id
    assert staff_service.authenticate_password("li", "wrong horse") is None
    assert staff_service.authenticate_password("nobody", "correct horse") is None
    assert staff_service.authenticate_token(token).id == member.id
    assert staff_service.authenticate_token(token + "x") is None
    assert token not in Staff.get_by_id(member.id).token_hash
    entry = ChangeEntry.get(ChangeEntry.entity == "staff")
    assert entry.fields == {
        "username": "li",
        "display_name": "李娜",
        "role": "staff",
        "active": True,
    }


def test_bad_staff_input_and_duplicates(app):
    with pytest.raises(InvalidInput) as caught:
        staff_service.create_staff("a b", "", "boss", "short")
    assert {f.field: f.code for f in caught.value.fields} == {
        "username": "bad_username",
        "display_name": "required",
        "role": "unknown_choice",
        "password": "weak_password",
    }
    staff_service.create_staff("li", "李娜", "staff", "correct horse")
    with pytest.raises(Conflict) as caught:
        staff_service.create_staff("li", "李娜二", "admin", "correct horse")
    assert caught.value.code == "staff_exists"


def test_inactive_staff_cannot_sign_in(app):
    member, token = staff_service.create_staff("li", "李娜", "staff", "correct horse")
    Staff.update(active=False).where(Staff.id == member.id).execute()
    assert staff_service.authenticate_password("li", "correct horse") is None
    assert staff_service.authenticate_token(token) is None


def test_rotating_a_staff_token(app):
    member, old = staff_service.create_staff("li", "李娜", "staff", "correct horse")
    new = staff_service.rotate_staff_token(member.id)
    assert staff_service.authenticate_token(old) is None
    assert staff_service.authenticate_token(new).id == member.id


def test_worker_tokens(app, staff, make_worker):
    worker = make_worker()
    with pytest.raises(Forbidden):
        staff_service.issue_worker_token(worker.id, None)
    token = staff_service.issue_worker_token(worker.id, staff)
    assert staff_service.authenticate_worker_token(token).id == worker.id
    newer = staff_service.issue_worker_token(worker.id, staff)
    assert staff_service.authenticate_worker_token(token) is None
    assert staff_service.authenticate_worker_token(newer).id == worker.id
    assert staff_service.authenticate_worker_token("") is None
