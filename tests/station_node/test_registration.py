"""Registering workers and employers: derived facts, privacy, every bad field named, no half
writes."""

from __future__ import annotations

import pytest

from kuaigong.errors import Conflict, Forbidden, InvalidInput
from station_node import identity
from station_node.models import ChangeEntry, IdAccess, Presence, PriorityConsent, Worker
from station_node.services import registration as reg

EXAMPLE = "11010519491231002X"


def _fields(exc: InvalidInput) -> dict[str, str]:
    return {f.field: f.code for f in exc.fields}


def test_worker_gets_birth_date_and_sex_from_the_id_number(app, staff, worker_data):
    worker = reg.register_worker(
        worker_data(id_number=EXAMPLE.lower(), mobile="+86 139 0000 1111"), staff
    )
    worker = Worker.get_by_id(worker.id)
    assert str(worker.birth_date) == "1949-12-31"
    assert worker.sex == "F"
    assert worker.mobile == "13900001111"
    assert worker.id_masked == "110105********002X"
    assert identity.decrypt_id(worker.id_cipher) == EXAMPLE
    assert worker.id_hash == identity.hash_id(EXAMPLE)


def test_change_log_holds_hash_and_mask_but_never_the_number(app, staff, worker_data):
    worker = reg.register_worker(worker_data(id_number=EXAMPLE), staff)
    entry = ChangeEntry.get((ChangeEntry.entity == "worker") & (ChangeEntry.entity_id == worker.id))
    assert entry.op == "create"
    assert entry.fields["id_masked"] == "110105********002X"
    assert entry.fields["id_hash"] == worker.id_hash
    assert entry.fields["birth_date"] == "1949-12-31"
    for row in ChangeEntry.select():
        assert EXAMPLE not in str(row.fields) and "19491231002" not in str(row.fields)
    database_file = app.config["DATA_DIR"] + "/station.sqlite"
    with open(database_file, "rb") as fh:
        assert EXAMPLE.encode() not in fh.read()


def test_second_registration_of_the_same_id_is_a_conflict(app, staff, worker_data, counts):
    first = reg.register_worker(worker_data(id_number=EXAMPLE), staff)
    before = counts()
    with pytest.raises(Conflict) as caught:
        reg.register_worker(worker_data(id_number=" 11010519491231002x"), staff)
    assert caught.value.code == "duplicate_worker"
    assert caught.value.details["worker_id"] == first.id
    assert "110105********002X" in caught.value.message_zh
    assert counts() == before
    assert reg.find_worker_by_id_number("11010519491231002x").id == first.id
    assert reg.find_worker_by_id_number("110101198001010011") is None


def test_every_bad_field_is_named_and_nothing_is_written(app, staff, counts):
    before = counts()
    with pytest.raises(InvalidInput) as caught:
        reg.register_worker(
            {
                "name": "",
                "id_number": EXAMPLE[:-1] + "1",
                "mobile": "12345",
                "skills": ["cleaning", "juggling"],
                "areas": ["火星社区"],
                "availability": {"days": [1], "from": "9am"},
                "priority_groups": ["disability", "royalty"],
            },
            staff,
        )
    assert _fields(caught.value) == {
        "name": "required",
        "id_number": "id_checksum",
        "mobile": "bad_mobile",
        "skills": "unknown_code",
        "areas": "unknown_code",
        "availability.from": "bad_time",
        "priority_groups": "unknown_code",
    }
    assert caught.value.status == 422
    assert "身份证号码校验位不正确" in caught.value.message_zh
    assert counts() == before


def test_a_number_for_a_mobile_and_a_string_for_a_list_are_the_wrong_type(
    app, staff, worker_data, make_employer, counts
):
    before = counts()
    with pytest.raises(InvalidInput) as caught:
        reg.register_worker(
            worker_data(mobile=13812345678, skills="cleaning", areas="团结湖社区"), staff
        )
    assert _fields(caught.value) == {
        "mobile": "wrong_type",
        "skills": "wrong_type",
        "areas": "wrong_type",
    }
    assert "列表" in caught.value.message_zh
    with pytest.raises(InvalidInput) as caught:
        make_employer(mobile=13912345678)
    assert _fields(caught.value) == {"mobile": "wrong_type"}
    assert counts() == before
    worker = reg.register_worker(worker_data(mobile="13812345678"), staff)
    with pytest.raises(InvalidInput) as caught:
        reg.update_worker(worker.id, {"skills": "moving", "mobile": 13812345679}, staff)
    assert _fields(caught.value) == {"skills": "wrong_type", "mobile": "wrong_type"}
    assert Worker.get_by_id(worker.id).mobile == "13812345678"


def test_wrong_body_type_is_a_field_error(app, staff):
    with pytest.raises(InvalidInput) as caught:
        reg.register_worker(["not", "a", "dict"], staff)  # type: ignore[arg-type]
    assert _fields(caught.value) == {"body": "wrong_type"}


def test_priority_groups_need_consent_with_a_purpose(app, staff, worker_data, counts):
    before = counts()
    with pytest.raises(InvalidInput) as caught:
        reg.register_worker(worker_data(priority_groups=["disability"]), staff)
    assert _fields(caught.value) == {"consent": "consent_required"}
    with pytest.raises(InvalidInput) as caught:
        reg.register_worker(
            worker_data(priority_groups=["disability"], consent={"given": False, "purpose": ""}),
            staff,
        )
    assert _fields(caught.value) == {
        "consent.given": "consent_required",
        "consent.purpose": "required",
    }
    assert counts() == before

    worker = reg.register_worker(
        worker_data(
            priority_groups=["disability", "older_worker"],
            consent={"given": True, "purpose": "优先推荐适合的岗位"},
        ),
        staff,
    )
    consent = PriorityConsent.get(PriorityConsent.worker == worker)
    assert consent.groups == ["disability", "older_worker"]
    assert consent.purpose == "优先推荐适合的岗位"
    assert consent.recorded_by.id == staff.id
    entities = [e.entity for e in ChangeEntry.select().order_by(ChangeEntry.seq)]
    assert entities[-2:] == ["worker", "priority_consent"]


def test_update_worker_changes_only_given_fields_and_logs_them(app, staff, make_worker):
    worker = make_worker()
    updated = reg.update_worker(
        worker.id, {"mobile": "8613700001234", "skills": ["cooking"]}, staff
    )
    assert updated.mobile == "13700001234" and updated.skills == ["cooking"]
    assert updated.areas == worker.areas
    last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    assert last.op == "update" and set(last.fields) == {"mobile", "skills", "updated_at"}
    with pytest.raises(InvalidInput) as caught:
        reg.update_worker(worker.id, {"id_number": EXAMPLE, "priority_groups": ["veteran"]}, staff)
    assert _fields(caught.value) == {"id_number": "not_changeable", "consent": "consent_required"}


def test_removing_priority_groups_withdraws_consent(app, staff, make_worker):
    worker = make_worker(
        priority_groups=["veteran"], consent={"given": True, "purpose": "优先派工"}
    )
    reg.update_worker(worker.id, {"priority_groups": []}, staff)
    assert PriorityConsent.get(PriorityConsent.worker == worker.id).withdrawn_at is not None


def test_employers_person_and_organisation(app, staff, id_number, counts):
    person = reg.register_employer(
        {
            "kind": "person",
            "name": "刘阿姨",
            "id_number": id_number(birth="19600315", seq=42),
            "mobile": "13600000001",
            "address": "劲松八区12号楼",
        },
        staff,
    )
    assert person.contact_name == "刘阿姨" and person.id_masked.startswith("110105********")
    org = reg.register_employer(
        {
            "kind": "organisation",
            "name": "北京快送物流有限公司",
            "credit_code": "91110000600037341L",
            "contact_name": "赵经理",
            "mobile": "13600000002",
            "address": "朝阳区双井街道1号",
        },
        staff,
    )
    assert org.credit_code == "91110000600037341L" and org.id_cipher is None
    before = counts()
    with pytest.raises(Conflict) as caught:
        reg.register_employer(
            {
                "kind": "organisation",
                "name": "同一家",
                "credit_code": "91110000600037341L",
                "contact_name": "钱",
                "mobile": "13600000003",
                "address": "某处",
            },
            staff,
        )
    assert caught.value.code == "duplicate_employer"
    with pytest.raises(InvalidInput) as caught:
        reg.register_employer(
            {
                "kind": "organisation",
                "name": "坏代码公司",
                "credit_code": "91110000600037341M",
                "mobile": "1",
                "address": "",
            },
            staff,
        )
    assert _fields(caught.value) == {
        "credit_code": "credit_code_checksum",
        "contact_name": "required",
        "mobile": "bad_mobile",
        "address": "required",
    }
    with pytest.raises(InvalidInput) as caught:
        reg.register_employer({"kind": "company"}, staff)
    assert _fields(caught.value)["kind"] == "unknown_choice"
    assert counts() == before


def test_block_and_unblock_employer(app, staff, make_employer):
    employer = make_employer()
    with pytest.raises(InvalidInput):
        reg.block_employer(employer.id, "", staff)
    with pytest.raises(Forbidden):
        reg.block_employer(employer.id, "拖欠工资", None)
    blocked = reg.block_employer(employer.id, "拖欠工资", staff)
    assert blocked.blocked and blocked.block_reason == "拖欠工资"
    last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
    assert last.fields["blocked"] is True and last.entity_id == employer.id
    assert not reg.unblock_employer(employer.id, staff).blocked


def test_check_in_is_once_per_day(app, staff, make_worker, manual_clock):
    worker = make_worker()
    first = reg.check_in_worker(worker.id, staff)
    manual_clock.advance(600)
    again = reg.check_in_worker(worker.id, staff)
    assert first.id == again.id and Presence.select().count() == 1
    assert str(first.day) == "2025-05-06"
    manual_clock.advance(86400)
    reg.check_in_worker(worker.id, staff)
    assert Presence.select().count() == 2
    reg.set_worker_status(worker.id, True, "多次爽约", staff)
    with pytest.raises(Conflict) as caught:
        reg.check_in_worker(worker.id, staff)
    assert caught.value.code == "worker_blocked"


def test_revealing_an_id_number_is_logged(app, staff, worker_data):
    worker = reg.register_worker(worker_data(id_number=EXAMPLE), staff)
    with pytest.raises(InvalidInput):
        reg.reveal_id_number("worker", worker.id, staff, "")
    with pytest.raises(Forbidden):
        reg.reveal_id_number("worker", worker.id, None, "核对身份")
    assert reg.reveal_id_number("worker", worker.id, staff, "核对身份") == EXAMPLE
    access = IdAccess.get()
    assert (access.staff.id, access.entity, access.entity_id, access.purpose) == (
        staff.id,
        "worker",
        worker.id,
        "核对身份",
    )
    assert IdAccess.select().count() == 1
