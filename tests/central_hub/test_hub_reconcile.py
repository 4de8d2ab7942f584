"""Two stations meet at the hub: a merge proposal, a booking conflict, a field conflict; each
decision becomes a hub-signed log entry the stations pull and verify."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import StationLog, enrol_station, post_form

import sync_protocol as sp
from central_hub import db, keys
from central_hub.models import Assignment, FieldLoss, HubLogEntry, Issue
from kuaigong import clock
from sync_protocol.verifier import Apply, ChainHead, verify_batch

PERSON = "c" * 64


def worker(name: str, id_hash: str = PERSON) -> dict:
    return {
        "name": name,
        "id_hash": id_hash,
        "id_masked": "110105********002X",
        "created_at": "2026-03-01T08:00:00Z",
    }


def job(title: str, start: str, end: str) -> dict:
    return {
        "title": title,
        "category": "cleaning",
        "headcount": 1,
        "status": "open",
        "posted_at": "2026-03-02T08:00:00Z",
        "starts_at": start,
        "ends_at": end,
    }


def booking(job_id: str, worker_id: str, start: str, end: str) -> dict:
    return {
        "job_id": job_id,
        "worker_id": worker_id,
        "status": "confirmed",
        "starts_at": start,
        "ends_at": end,
        "confirmed_at": "2026-03-02T08:01:00Z",
    }


def push_all(app: Flask, log: StationLog) -> None:
    body = log.batch(1, len(log.raws))
    answer = app.test_client().post(
        f"/api/v1/stations/{log.station_id}/push", data=body, headers=log.call(body, app)
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)


def two_stations_offline(app: Flask) -> tuple[StationLog, StationLog]:
    east, west = enrol_station(app, "东城驿站"), enrol_station(app, "西城驿站")
    with app.app_context():
        start = clock.now_ms() - 3_600_000
    east.wall, west.wall = start, start + 10
    east.add("worker", "e-w1", "create", worker("王芳"))
    west.add("worker", "w-w1", "create", worker("王芳"))
    east.add("job", "e-j1", "create", job("保洁", "2026-03-05T08:00:00Z", "2026-03-05T12:00:00Z"))
    west.add("job", "w-j1", "create", job("搬运", "2026-03-05T10:00:00Z", "2026-03-05T14:00:00Z"))
    east.add(
        "assignment",
        "e-a1",
        "create",
        booking("e-j1", "e-w1", "2026-03-05T08:00:00Z", "2026-03-05T12:00:00Z"),
    )
    west.add(
        "assignment",
        "w-a1",
        "create",
        booking("w-j1", "w-w1", "2026-03-05T10:00:00Z", "2026-03-05T14:00:00Z"),
    )
    # the west station edits the east station's job: not its own, so it is ignored
    west.add("job", "e-j1", "update", {"title": "改名"})
    # both stations edit one worker's mobile while offline
    east.add("worker", "e-w1", "update", {"mobile": "13900000001"})
    west.add("worker", "e-w1", "update", {"mobile": "13900000002"})
    push_all(app, east)
    push_all(app, west)
    return east, west


def pull(app: Flask, log: StationLog, after: int):
    with app.app_context():
        now = clock.now_ms()
    return app.test_client().get(
        f"/api/v1/stations/{log.station_id}/hub-log?after={after}",
        headers={"X-Kuaigong-Auth": log.pull_auth(after, now)},
    )


def test_queue_shows_one_merge_one_booking_and_the_field_conflict(
    app: Flask, admin_client: FlaskClient
) -> None:
    two_stations_offline(app)
    with app.app_context(), db.database.connection_context():
        kinds = sorted(i.kind for i in Issue.select())
        assert kinds == ["booking", "field", "merge"]
        loss = FieldLoss.get()
        assert (loss.winner_value, loss.loser_value) == ("13900000002", "13900000001")
        from central_hub.models import Job

        assert Job.get_by_id("e-j1").title == "保洁"  # owner-station only
    page = admin_client.get("/reconcile/").get_data(as_text=True)
    assert "同一人员在多个驿站登记" in page and "同一人员时间重叠的派工" in page
    assert "东城驿站、西城驿站" in page or "西城驿站、东城驿站" in page  # names, not ids
    with app.app_context(), db.database.connection_context():
        ids = {i.kind: i.id for i in Issue.select()}
    field_page = admin_client.get(f"/reconcile/{ids['field']}").get_data(as_text=True)
    assert "13900000001" in field_page and "13900000002" in field_page
    merge_page = admin_client.get(f"/reconcile/{ids['merge']}").get_data(as_text=True)
    assert merge_page.count("110105********002X") == 2


def test_a_third_station_joins_the_open_items_about_the_same_person(app: Flask) -> None:
    east, west = two_stations_offline(app)
    north = enrol_station(app, "北城驿站")
    north.wall = east.wall + 20
    north.add("worker", "n-w1", "create", worker("王芳"))
    north.add("job", "n-j1", "create", job("送餐", "2026-03-05T11:00:00Z", "2026-03-05T13:00:00Z"))
    north.add(
        "assignment",
        "n-a1",
        "create",
        booking("n-j1", "n-w1", "2026-03-05T11:00:00Z", "2026-03-05T13:00:00Z"),
    )
    # and a booking of the same person at other hours: another matter, its own item
    north.add("job", "n-j2", "create", job("夜班", "2026-03-06T20:00:00Z", "2026-03-06T22:00:00Z"))
    west.add("job", "w-j2", "create", job("夜班", "2026-03-06T21:00:00Z", "2026-03-06T23:00:00Z"))
    west.add(
        "assignment",
        "w-a2",
        "create",
        booking("w-j2", "w-w1", "2026-03-06T21:00:00Z", "2026-03-06T23:00:00Z"),
    )
    north.add(
        "assignment",
        "n-a2",
        "create",
        booking("n-j2", "n-w1", "2026-03-06T20:00:00Z", "2026-03-06T22:00:00Z"),
    )
    body = west.batch(len(west.raws) - 1, len(west.raws))
    answer = app.test_client().post(
        f"/api/v1/stations/{west.station_id}/push", data=body, headers=west.call(body, app)
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    push_all(app, north)
    with app.app_context(), db.database.connection_context():
        [merge] = Issue.select().where(Issue.kind == "merge")
        assert sorted(merge.stations) == sorted(
            [east.station_id, west.station_id, north.station_id]
        )
        assert sorted(w["id"] for w in merge.details["workers"]) == ["e-w1", "n-w1", "w-w1"]
        bookings = sorted(
            Issue.select().where(Issue.kind == "booking"),
            key=lambda i: len(i.details["assignments"]),
        )
        assert [sorted(a["id"] for a in i.details["assignments"]) for i in bookings] == [
            ["n-a2", "w-a2"],
            ["e-a1", "n-a1", "w-a1"],
        ]


def test_decisions_enter_the_hub_log_and_stations_pull_them(
    app: Flask, admin_client: FlaskClient
) -> None:
    east, west = two_stations_offline(app)
    with app.app_context(), db.database.connection_context():
        merge = Issue.get(Issue.kind == "merge").id
        clash = Issue.get(Issue.kind == "booking").id
    assert (
        post_form(
            admin_client, f"/reconcile/{merge}/decide", {"decision": "confirm", "note": "同一人"}
        ).status_code
        == 302
    )
    missing_keep = post_form(admin_client, f"/reconcile/{clash}/decide", {"decision": "keep"})
    assert missing_keep.status_code == 422 and 'data-field="keep"' in missing_keep.get_data(
        as_text=True
    )
    assert (
        post_form(
            admin_client, f"/reconcile/{clash}/decide", {"decision": "keep", "keep": "e-a1"}
        ).status_code
        == 302
    )
    twice = post_form(
        admin_client, f"/reconcile/{clash}/decide", {"decision": "keep", "keep": "e-a1"}
    )
    assert twice.status_code == 409

    with app.app_context(), db.database.connection_context():
        assert Assignment.get_by_id("w-a1").status == "cancelled"
        decided = Issue.get_by_id(clash)
        entry = HubLogEntry.get_by_id(decided.hub_seq)
        assert entry.fields["cancel"] == ["w-a1"]
        assert sorted(entry.targets) == sorted([east.station_id, west.station_id])
        hub_ring = sp.KeyRing([sp.KeyRecord.of(bytes.fromhex(keys.hub_public_key()), "hub")])
        now = clock.now_ms()

    answer = pull(app, west, 0)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    verdict = verify_batch(body["batch"].encode(), ChainHead("hub"), hub_ring, now)
    assert isinstance(verdict, Apply)
    ops = [(a.entry.entity, a.entry.fields.get("decision")) for a in verdict.entries]
    assert ("assignment", "keep") in ops and ("person", "confirm") in ops
    [person] = [a.entry for a in verdict.entries if a.entry.entity == "person"]
    assert sorted((w["id"], w["station_name"]) for w in person.fields["workers"]) == [
        ("e-w1", "东城驿站"),
        ("w-w1", "西城驿站"),
    ]  # stations show each other by name

    page = admin_client.get(f"/reconcile/{clash}").get_data(as_text=True)
    rows = re.findall(r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", page)
    delivery = {name.split()[0]: (served, acked) for name, served, acked in rows}
    assert delivery["西城驿站"] == ("✓", "—") and delivery["东城驿站"] == ("—", "—")
    pull(app, west, body["last_seq"])
    page = admin_client.get(f"/reconcile/{clash}").get_data(as_text=True)
    assert "<td>✓</td><td>✓</td>" in page


def test_pull_needs_the_stations_own_signature(app: Flask) -> None:
    east, west = enrol_station(app, "东城驿站"), enrol_station(app, "西城驿站")
    client = app.test_client()
    missing = client.get(f"/api/v1/stations/{east.station_id}/hub-log?after=0")
    assert missing.status_code == 401 and missing.get_json()["error"]["code"] == "auth_required"
    with app.app_context():
        now = clock.now_ms()
    borrowed = client.get(
        f"/api/v1/stations/{east.station_id}/hub-log?after=0",
        headers={"X-Kuaigong-Auth": west.pull_auth(0, now)},
    )
    assert borrowed.status_code == 403 and borrowed.get_json()["error"]["code"] == "wrong_station"
    stale = client.get(
        f"/api/v1/stations/{east.station_id}/hub-log?after=0",
        headers={"X-Kuaigong-Auth": east.pull_auth(0, now - 3_600_000)},
    )
    assert stale.status_code == 401
    bad_after = client.get(
        f"/api/v1/stations/{east.station_id}/hub-log?after=-1",
        headers={"X-Kuaigong-Auth": east.pull_auth(0, now)},
    )
    assert bad_after.status_code == 422


def test_city_rules_go_to_the_hub_log(app: Flask, admin_client: FlaskClient) -> None:
    bad = post_form(
        admin_client,
        "/rules/",
        {"kind": "blocked_employer", "name": "", "credit_code": "123", "reason": ""},
    )
    assert bad.status_code == 422
    assert (
        post_form(
            admin_client,
            "/rules/",
            {"kind": "service_rules", "text": "不收任何费用", "hotline": "12333"},
        ).status_code
        == 302
    )
    with app.app_context(), db.database.connection_context():
        entry = HubLogEntry.select().order_by(HubLogEntry.seq.desc()).first()
        assert (entry.entity, entry.fields["hotline"], entry.fields["text"]) == (
            "city_rule",
            "12333",
            "不收任何费用",
        )


def test_taking_the_stations_value_is_stored_for_any_kind_of_record(app: Flask) -> None:
    """Choosing the losing value of a field conflict sets it at the hub for employers too, in
    the record's data and in the column the hub's pages and figures read."""
    from central_hub import signing
    from central_hub.models import Employer
    from central_hub.services import reconcile

    east, west = enrol_station(app, "东城驿站"), enrol_station(app, "西城驿站")
    with app.app_context():
        start = clock.now_ms() - 3_600_000
    east.wall, west.wall = start, start + 10
    east.add(
        "employer",
        "e-e1",
        "create",
        {
            "kind": "organisation",
            "name": "朝阳保洁",
            "credit_code": "91110105MA01ABCD1X",
            "created_at": "2026-03-01T08:00:00Z",
        },
    )
    east.add("employer", "e-e1", "update", {"name": "朝阳保洁有限公司"})
    west.add("employer", "e-e1", "update", {"name": "朝阳家政"})
    push_all(app, east)
    push_all(app, west)
    with app.app_context(), db.database.connection_context():
        item = Issue.get((Issue.kind == "field") & (Issue.status == "open"))
        assert item.details["entity"] == "employer" and item.details["field"] == "name"
        loser = item.details["loser_value"]
        assert Employer.get_by_id("e-e1").name == item.details["winner_value"] != loser
    with app.test_request_context(), db.database.connection_context():
        reconcile.decide(item.id, "use_loser", "", None)
    with app.app_context(), db.database.connection_context():
        stored = Employer.get_by_id("e-e1")
        assert (stored.name, stored.data["name"]) == (loser, loser)
        assert stored.stamps["name"][2] == signing.hub_id()  # the hub's decision now
        assert Issue.get_by_id(item.id).status == "decided"
