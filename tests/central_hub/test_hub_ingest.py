"""Ingest through sync_protocol: apply once, replay, gap held, tampered and foreign batches
refused."""

from __future__ import annotations

import gzip

import pytest
from flask import Flask
from hub_helpers import StationLog, enrol_station

import sync_protocol as sp
from central_hub import db, keys
from central_hub.models import AppliedEntry, HeldBatch, Issue, Station, Worker
from kuaigong import clock
from sync_protocol.receipts import verify_receipt

HASH_A = "a" * 64


def worker_fields(name: str, id_hash: str = HASH_A) -> dict:
    return {
        "name": name,
        "id_hash": id_hash,
        "id_masked": "110105********002X",
        "mobile": "13800000000",
        "skills": ["cleaning"],
        "created_at": "2026-03-01T08:00:00Z",
    }


def push(app: Flask, log: StationLog, body: bytes, station_id: str | None = None, **headers):
    headers = {**log.call(body, app, station_id), **headers}
    return app.test_client().post(
        f"/api/v1/stations/{station_id or log.station_id}/push",
        data=body,
        headers=headers,
        content_type="application/x-kuaigong-batch",
    )


def hub_ring(app: Flask) -> sp.KeyRing:
    with app.app_context():
        return sp.KeyRing([sp.KeyRecord.of(bytes.fromhex(keys.hub_public_key()), "hub")])


def counts(app: Flask) -> tuple[int, int]:
    with app.app_context(), db.database.connection_context():
        return AppliedEntry.select().count(), Worker.select().count()


@pytest.fixture
def station(app: Flask) -> StationLog:
    clock.install(app, clock.ManualClock(clock.SystemClock().now()))
    log = enrol_station(app)
    return log


def _now_ms(app: Flask) -> int:
    with app.app_context():
        return clock.now_ms()


def test_a_batch_applies_once_and_a_replay_changes_nothing(app: Flask, station: StationLog) -> None:
    station.wall = _now_ms(app) - 60_000
    station.add("worker", "w1", "create", worker_fields("王芳"))
    station.add("worker", "w2", "create", worker_fields("李强", "b" * 64))
    body = station.batch(1, 2)

    first = push(
        app, station, gzip.compress(body), **{"Content-Encoding": "gzip", "X-Kuaigong-Pending": "5"}
    )
    assert first.status_code == 200, first.get_data(as_text=True)
    answer = first.get_json()
    assert (answer["verdict"], answer["accepted_seq"], answer["applied"]) == ("apply", 2, 2)
    receipt = verify_receipt(answer["receipt"].encode(), hub_ring(app), "hub", station.station_id)
    assert (receipt.seq, receipt.head) == (2, sp.entry_hash(station.raws[-1]))
    assert counts(app) == (2, 2)

    again = push(app, station, body)
    assert again.status_code == 200 and again.get_json()["verdict"] == "replay"
    assert counts(app) == (2, 2)
    with app.app_context(), db.database.connection_context():
        row = Station.get_by_id(station.station_id)
        assert (row.head_seq, row.pending_reported) == (
            2,
            3,
        )  # 5 waiting when sent, 2 of them applied
        assert Worker.get_by_id("w1").name == "王芳"


def test_out_of_order_batch_is_held_until_the_gap_closes(app: Flask, station: StationLog) -> None:
    station.wall = _now_ms(app) - 60_000
    for i in range(1, 5):
        station.add("worker", f"w{i}", "create", worker_fields(f"工人{i}", f"{i:064x}"))
    later = push(app, station, station.batch(3, 4))
    assert later.status_code == 202
    assert later.get_json()["verdict"] == "gap"
    assert (later.get_json()["missing_from"], later.get_json()["missing_to"]) == (1, 2)
    assert counts(app) == (0, 0)

    earlier = push(app, station, station.batch(1, 2))
    assert earlier.status_code == 200
    assert earlier.get_json()["accepted_seq"] == 4  # the held batch followed at once
    assert counts(app) == (4, 4)
    with app.app_context(), db.database.connection_context():
        assert HeldBatch.select().count() == 0


def test_tampered_entry_is_rejected_and_nothing_applies(app: Flask, station: StationLog) -> None:
    station.wall = _now_ms(app) - 60_000
    station.add("worker", "w1", "create", worker_fields("王芳"))
    body = station.batch(1, 1)
    tampered = body.replace("王芳".encode(), "赵六".encode())
    answer = push(app, station, tampered)
    assert answer.status_code in (403, 422)
    assert answer.get_json()["verdict"] == "rejected"
    assert answer.get_json()["error"]["code"] in ("broken_chain", "bad_signature")
    assert counts(app) == (0, 0)


def test_another_stations_credentials_are_rejected(app: Flask, station: StationLog) -> None:
    other = enrol_station(app, "西城驿站")
    other.wall = station.wall = _now_ms(app) - 60_000
    other.add("worker", "x1", "create", worker_fields("外站"))
    # the other station's batch sent to this station's address
    foreign = push(app, other, other.batch(1, 1), station_id=station.station_id)
    assert foreign.status_code == 401  # its call is signed by a key that is not this station's
    assert foreign.get_json()["error"]["code"] == "call_invalid"
    # this station's entries, but signed with the other station's key
    station.add("worker", "w1", "create", worker_fields("王芳"))
    forged = push(app, station, station.batch(1, 1, key=other.key))
    assert forged.status_code == 403
    assert forged.get_json()["error"]["code"] == "unknown_key"
    assert counts(app) == (0, 0)
    with app.app_context(), db.database.connection_context():
        assert not Station.get_by_id(station.station_id).frozen


def test_a_fork_freezes_the_station_and_queues_the_evidence(
    app: Flask, station: StationLog, admin_client
) -> None:
    station.wall = _now_ms(app) - 60_000
    station.add("worker", "w1", "create", worker_fields("王芳"))
    assert push(app, station, station.batch(1, 1)).status_code == 200
    rewritten = StationLog(station.station_id, station.key, station.wall - 500)
    rewritten.add("worker", "w1", "create", worker_fields("王芳芳"))
    answer = push(app, station, rewritten.batch(1, 1))
    assert answer.status_code == 409 and answer.get_json()["verdict"] == "fork"
    with app.app_context(), db.database.connection_context():
        assert Station.get_by_id(station.station_id).frozen
        issue = Issue.get(Issue.kind == "fork")
        assert issue.details["accepted_hash"] == sp.entry_hash(station.raws[0])
    station.add("worker", "w2", "create", worker_fields("李强", "b" * 64))
    blocked = push(app, station, station.batch(2, 2))
    assert blocked.status_code == 423 and blocked.get_json()["error"]["code"] == "frozen"
    watch = admin_client.get("/").get_data(as_text=True)
    assert "已冻结" in watch and "fork at 1/1" in watch
    evidence = admin_client.get(f"/reconcile/{issue.id}").get_data(as_text=True)
    assert "kg1/checkpoint" in evidence
    assert admin_client.get(f"/stations/{station.station_id}").status_code == 200


def test_bad_bodies_get_named_4xx(app: Flask, station: StationLog) -> None:
    junk = push(app, station, b"not a batch")
    assert junk.status_code == 422 and junk.get_json()["error"]["code"] == "malformed"
    cut = push(app, station, gzip.compress(b"x" * 1000)[:20], **{"Content-Encoding": "gzip"})
    assert cut.status_code == 400 and cut.get_json()["error"]["code"] == "bad_gzip"
    unknown = app.test_client().post("/api/v1/stations/nosuch/push", data=b"x")
    assert unknown.status_code == 404


def test_reset_epoch_lets_a_forked_station_continue(
    app: Flask, station: StationLog, admin_client
) -> None:
    from hub_helpers import post_form

    from central_hub.models import HubLogEntry
    from sync_protocol.receipts import verify_reset

    station.wall = _now_ms(app) - 60_000
    station.add("worker", "w1", "create", worker_fields("王芳"))
    assert push(app, station, station.batch(1, 1)).status_code == 200
    forked = StationLog(station.station_id, station.key, station.wall - 500)
    forked.add("worker", "w1", "create", worker_fields("王芳芳"))
    forked.add("worker", "w9", "create", worker_fields("多出", "9" * 64))
    assert push(app, station, forked.batch(1, 2)).status_code == 409
    with app.app_context(), db.database.connection_context():
        issue = Issue.get(Issue.kind == "fork")
    assert (
        post_form(
            admin_client, f"/reconcile/{issue.id}/decide", {"decision": "reset_epoch"}
        ).status_code
        == 302
    )
    with app.app_context(), db.database.connection_context():
        entry = HubLogEntry.get_by_id(Issue.get_by_id(issue.id).hub_seq)
    reset = verify_reset(entry.fields["reset"].encode(), hub_ring(app), "hub", station.station_id)
    assert (reset.epoch, reset.base_seq, reset.base_hash) == (2, 1, sp.entry_hash(station.raws[0]))
    # the station continues in epoch 2 after its base
    station.epoch = 2
    station.add("worker", "w2", "create", worker_fields("李强", "b" * 64))
    answer = push(app, station, station.batch(2, 2))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert (answer.get_json()["epoch"], answer.get_json()["accepted_seq"]) == (2, 2)
