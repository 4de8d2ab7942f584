"""Set-based apply keeps the merge rules: a record's JSON is its entry's exact fields, stamps stored
compactly still merge field by field across batches, and the loser is kept."""

from __future__ import annotations

from flask import Flask
from hub_helpers import enrol_station

from central_hub import db
from central_hub.models import FieldLoss, Issue, Worker
from central_hub.services.merge import field_stamps
from kuaigong import clock


def _push(app: Flask, log, first: int, last: int) -> None:  # type: ignore[no-untyped-def]
    body = log.batch(first, last)
    answer = app.test_client().post(
        f"/api/v1/stations/{log.station_id}/push", data=body, headers=log.call(body, app)
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)


def test_fields_that_look_like_entry_keys_are_stored_exactly(app: Flask) -> None:
    east = enrol_station(app)
    with app.app_context():
        east.wall = clock.now_ms() - 60_000
    odd = {
        "name": 'x"},"hlc":[1,2],"fields":{',
        "nested": {"x": {}, "hlc": [1]},
        "note": None,
        "skills": ["搬运", "保洁"],
        "pay_fen": 25000,
    }
    east.add("worker", "w1", "create", odd)
    _push(app, east, 1, 1)
    with app.app_context(), db.database.connection_context():
        worker = Worker.get_by_id("w1")
        assert worker.data == odd and worker.name == odd["name"]
        assert field_stamps(worker.data, worker.stamps) == dict.fromkeys(
            odd, [east.wall, 0, east.station_id]
        )


def test_a_compactly_stamped_record_merges_per_field_in_a_later_batch(app: Flask) -> None:
    east, west = enrol_station(app, "东城驿站"), enrol_station(app, "西城驿站")
    with app.app_context():
        now = clock.now_ms()
    east.wall, west.wall = now - 60_000, now - 120_000
    east.add("worker", "w1", "create", {"name": "王芳", "mobile": "13800000001"})
    _push(app, east, 1, 1)
    west.add("worker", "w1", "update", {"mobile": "13900000002"})  # older: loses
    _push(app, west, 1, 1)
    west.add("worker", "w1", "update", {"name": "王芳芳"}, wall=now - 1_000)  # newer: wins
    _push(app, west, 2, 2)
    with app.app_context(), db.database.connection_context():
        worker = Worker.get_by_id("w1")
        assert worker.data == {"name": "王芳芳", "mobile": "13800000001"}
        assert worker.name == "王芳芳"
        stamps = field_stamps(worker.data, worker.stamps)
        assert stamps["mobile"][2] == east.station_id and stamps["name"][2] == west.station_id
        losses = sorted((x.field, x.loser_value, x.winner_value) for x in FieldLoss.select())
        assert losses == [("mobile", "13900000002", "13800000001"), ("name", "王芳", "王芳芳")]
        assert Issue.select().where(Issue.kind == "field").count() == 2
