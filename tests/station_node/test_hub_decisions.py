"""Hub decisions about people, as a station applies them from the verified hub log: a field
conflict's decided value stands here too (through the desk's own checks, logged with the hub as
origin), and a person decision is shown on the worker's page."""

from __future__ import annotations

import itertools
import re
from typing import Any

from flask import Flask
from web_helpers import Api, console_client, worker_body

import sync_protocol as sp
from station_node import db
from station_node import station_state as state
from station_node.hub_records import HubEntry
from station_node.models import ChangeEntry, Worker
from station_node.sync import decisions

HUB, US = "hub", "st-east"
_hub_seq = itertools.count(1)


def _enrol(app: Flask) -> None:
    with app.app_context():
        state.save_enrolment(
            state.Enrolment("http://10.0.0.9:8090", US, "东城", HUB, "00" * 32, "", "k")
        )


def _apply(app: Flask, entity: str, entity_id: str, fields: dict[str, Any]) -> str:
    """Apply one hub-log entry as the sync client does after verifying it; its outcome."""
    entry = sp.make_entry(
        station=HUB,
        epoch=1,
        seq=next(_hub_seq),
        prev_hash=None,
        hlc=(1_780_000_000_000, 0),
        entity=entity,
        entity_id=entity_id,
        op="update",
        fields=fields,
        origin=HUB,
    )
    raw = sp.encode_entry(entry)
    with app.app_context(), db.database.connection_context():
        return decisions.apply_entry(
            sp.AcceptedEntry(entry, raw, sp.entry_hash(raw)), blocked=False
        )


def _field(worker_id: str, field: str, value: Any, decision: str = "use_loser") -> dict[str, Any]:
    return {
        "issue": 7,
        "kind": "field",
        "decision": decision,
        "note": "",
        "by": "admin",
        "entity": "worker",
        "entity_id": worker_id,
        "field": field,
        "value": value,
        "targets": [US, "st-west"],
    }


def _worker(app: Flask, worker_id: str) -> Worker:
    with app.app_context(), db.database.connection_context():
        return Worker.get_by_id(worker_id)


def _log_size(app: Flask) -> int:
    with app.app_context(), db.database.connection_context():
        return ChangeEntry.select().count()


def test_a_decided_field_is_set_here_through_the_desks_checks(web_app: Flask, api: Api) -> None:
    _enrol(web_app)
    worker_id = api.post("/workers", worker_body(mobile="13900000001")).get_json()["worker"]["id"]

    assert (
        _apply(web_app, "worker", worker_id, _field(worker_id, "mobile", "13900000002"))
        == "applied: field decided, worker mobile set"
    )
    assert _worker(web_app, worker_id).mobile == "13900000002"
    with web_app.app_context(), db.database.connection_context():
        last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).get()
        assert (last.entity_id, last.fields["mobile"], last.origin) == (
            worker_id,
            "13900000002",
            HUB,
        )
        applied = HubEntry.select().order_by(HubEntry.seq.desc()).get()
        assert applied.outcome == "applied: field decided, worker mobile set"

    before = _log_size(web_app)
    # a value the desk would refuse is refused here too; nothing is written but the hub entry
    bad = _apply(web_app, "worker", worker_id, _field(worker_id, "mobile", "12"))
    assert (
        bad.startswith("refused: skipped, ") and _worker(web_app, worker_id).mobile == "13900000002"
    )
    # priority groups need the worker's own consent; counts are this station's own record
    assert (
        _apply(web_app, "worker", worker_id, _field(worker_id, "priority_groups", ["disabled"]))
        == "nothing_here: field decided, priority_groups is not set from the hub"
    )
    assert (
        _apply(web_app, "worker", worker_id, _field(worker_id, "no_show_count", 0))
        == "nothing_here: field decided, no_show_count is not set from the hub"
    )
    # a record held at another station only
    assert (
        _apply(web_app, "worker", "w-elsewhere", _field("w-elsewhere", "mobile", "13900000003"))
        == "nothing_here: field decided, worker w-elsewhere is not held here"
    )
    assert _log_size(web_app) == before
    assert _worker(web_app, worker_id).priority_groups == []

    # accepting the other station's value sets it here just the same; the same value is no change
    assert (
        _apply(
            web_app,
            "worker",
            worker_id,
            _field(worker_id, "areas", ["麦子店社区"], "accept_winner"),
        )
        == "applied: field decided, worker areas set"
    )
    assert _worker(web_app, worker_id).areas == ["麦子店社区"]
    size = _log_size(web_app)
    _apply(
        web_app, "worker", worker_id, _field(worker_id, "areas", ["麦子店社区"], "accept_winner")
    )
    assert _log_size(web_app) == size


def test_a_person_decision_is_shown_on_the_workers_page(web_app: Flask, api: Api) -> None:
    _enrol(web_app)
    worker_id = api.post("/workers", worker_body()).get_json()["worker"]["id"]
    id_hash = _worker(web_app, worker_id).id_hash
    others = [
        {"id": worker_id, "station": US, "station_name": "东城驿站"},
        {"id": "w-west", "station": "st-west", "station_name": "西城驿站"},
    ]
    console = console_client(web_app)
    assert 'id="city-person"' not in console.get(f"/console/workers/{worker_id}").get_data(
        as_text=True
    )

    confirm = {
        "issue": 3,
        "kind": "merge",
        "decision": "confirm",
        "note": "证件一致",
        "by": "admin",
        "id_hash": id_hash,
        "workers": others,
        "targets": [US, "st-west"],
    }
    assert (
        _apply(web_app, "person", id_hash, confirm) == f"applied: merge confirm, worker {worker_id}"
    )
    page = console.get(f"/console/workers/{worker_id}").get_data(as_text=True)
    assert (
        'id="city-person"' in page and "市级中心已确认：此人也在 西城驿站 登记，是同一人。" in page
    )
    assert "说明：证件一致" in page and "东城驿站" not in page  # only the other stations are named

    reject = confirm | {"issue": 4, "decision": "reject", "note": ""}
    assert (
        _apply(web_app, "person", id_hash, reject) == f"applied: merge reject, worker {worker_id}"
    )
    page = console.get(f"/console/workers/{worker_id}").get_data(as_text=True)
    newest = page.index("不是同一人")
    assert newest < page.index("是同一人。") and "请核对此人的身份证件" in page  # newest first
    english = console.get(f"/console/workers/{worker_id}?lang=en").get_data(as_text=True)
    assert "The city hub confirmed" in english and "not the same person" in english

    # a decision about someone not registered here changes nothing and says so
    assert (
        _apply(web_app, "person", "f" * 64, confirm | {"id_hash": "f" * 64})
        == "nothing_here: merge confirm, no worker here"
    )


def test_the_sync_page_lists_the_hubs_decisions_and_what_they_did_here(
    web_app: Flask, api: Api
) -> None:
    _enrol(web_app)
    worker_id = api.post("/workers", worker_body()).get_json()["worker"]["id"]
    console = console_client(web_app)
    assert 'id="hub-decisions"' not in console.get("/console/sync").get_data(as_text=True)

    _apply(
        web_app,
        "city_rule",
        "r1",
        {"kind": "blocked_employer", "name": "某某劳务", "credit_code": "x", "reason": "收取押金"},
    )
    _apply(web_app, "worker", worker_id, _field(worker_id, "mobile", "13900000005"))
    _apply(web_app, "worker", worker_id, _field(worker_id, "mobile", "12"))
    _apply(
        web_app,
        "person",
        "e" * 64,
        {
            "kind": "merge",
            "decision": "confirm",
            "note": "",
            "workers": [],
            "targets": ["st-west", "st-north"],
        },
    )
    page = console.get("/console/sync").get_data(as_text=True)
    table = page[page.index('id="hub-decisions"') :]
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))
    # newest first: what each is, and what it did here
    assert (
        text.index("确认是同一人")
        < text.index("信息冲突裁定：采用被覆盖的值")
        < text.index("市级规则：停用用工方")
    )
    assert "与本站无关" in text and "未能执行" in text and "已在本站执行" in text
    assert "市级规则：停用用工方：收取押金" in text
    english = console.get("/console/sync?lang=en").get_data(as_text=True)
    assert "Decisions from the city hub" in english and "City rule: employer blocked" in english
    assert "Could not be applied" in english and "Not for this station" in english
