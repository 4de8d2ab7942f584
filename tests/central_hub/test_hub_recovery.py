"""Recovery paths at the hub: an admin restarts a station restored from backup in a new epoch
(and a pull that shows the restore queues it by itself); a station whose clock ran ahead is
queued once, and "accept with hub time" lets its refused entries in with clamped stamps."""

from __future__ import annotations

import datetime as dt

from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import StationLog, add_admin, csrf_token, enrol_station, login, post_form

import sync_protocol as sp
from central_hub import db, keys, signing
from central_hub.models import (
    AppliedEntry,
    ClockAllowance,
    FieldLoss,
    HubLogEntry,
    Issue,
    Station,
    Worker,
)
from central_hub.services import reconcile
from central_hub.services.merge import field_stamps
from kuaigong import clock

YEAR_MS = 365 * 24 * 3600 * 1000


def _push(app: Flask, log: StationLog, first: int, last: int, **headers: str):  # type: ignore[no-untyped-def]
    body = log.batch(first, last)
    return app.test_client().post(
        f"/api/v1/stations/{log.station_id}/push",
        data=body,
        headers={**log.call(body, app), **headers},
    )


def _pull(app: Flask, log: StationLog, after: int, **headers: str):  # type: ignore[no-untyped-def]
    with app.app_context():
        now = clock.now_ms()
    return app.test_client().get(
        f"/api/v1/stations/{log.station_id}/hub-log?after={after}",
        headers={"X-Kuaigong-Auth": log.pull_auth(after, now), **headers},
    )


def _issues(app: Flask, kind: str) -> list[Issue]:
    with app.app_context(), db.database.connection_context():
        return list(Issue.select().where(Issue.kind == kind).order_by(Issue.id))


def test_admin_restarts_a_restored_station_in_a_new_epoch(
    app: Flask, admin_client: FlaskClient
) -> None:
    east = enrol_station(app)
    with app.app_context():
        east.wall = clock.now_ms() - 60_000
    east.add("worker", "w1", "create", {"name": "王芳"})
    east.add("worker", "w2", "create", {"name": "李四"})
    assert _push(app, east, 1, 2).status_code == 200
    page = admin_client.get(f"/stations/{east.station_id}").get_data(as_text=True)
    assert (
        "让驿站重新开始同步（已从备份恢复）" in page
        and "驿站从中心已收到的第 2 条变更之后继续记录" in page
    )
    english = admin_client.get(f"/stations/{east.station_id}?lang=en").get_data(as_text=True)
    assert "Restart syncing this station (restored from backup)" in english
    admin_client.get("/?lang=zh_CN")

    path = f"/stations/{east.station_id}/restart"
    assert (
        admin_client.post(path, data={"reason": "从备份恢复"}).status_code == 400
    )  # no CSRF token
    missing = post_form(admin_client, path, {"reason": "  "})
    assert missing.status_code == 422 and "请填写原因" in missing.get_data(as_text=True)
    add_admin(app, "li", "auditor")
    auditor = app.test_client()
    login(auditor, "li")
    refused = auditor.post(
        path, data={"reason": "从备份恢复", "csrf_token": csrf_token(auditor, "/")}
    )
    assert refused.status_code == 403
    assert not _issues(app, "restored")
    with app.app_context(), db.database.connection_context():
        assert Station.get_by_id(east.station_id).epoch == 1

    done = post_form(admin_client, path, {"reason": "一体机硬盘损坏，从3月1日的备份恢复"})
    assert done.status_code == 302
    [issue] = _issues(app, "restored")
    assert done.headers["Location"].endswith(f"/reconcile/{issue.id}")
    assert (issue.status, issue.decision, issue.details["signal"]) == (
        "decided",
        "reset_epoch",
        "admin",
    )
    with app.app_context(), db.database.connection_context():
        entry = HubLogEntry.get_by_id(issue.hub_seq)
        ring = sp.KeyRing([sp.KeyRecord.of(bytes.fromhex(keys.hub_public_key()), signing.hub_id())])
        reset = sp.verify_reset(
            entry.fields["reset"].encode(), ring, signing.hub_id(), east.station_id
        )
        head_hash = Station.get_by_id(east.station_id).head_hash
        assert (entry.entity, entry.entity_id, entry.fields["decision"]) == (
            "station",
            east.station_id,
            "reset_epoch",
        )
        assert entry.targets == [east.station_id]
        assert (reset.epoch, reset.base_seq, reset.base_hash) == (2, 2, head_hash)
        assert Station.get_by_id(east.station_id).epoch == 2
    shown = admin_client.get(f"/reconcile/{issue.id}").get_data(as_text=True)
    assert "驿站从备份恢复" in shown and "由管理员在驿站页面发起" in shown

    # The station continues in epoch 2 right after what the hub holds; a second restart is a new
    # one.
    east.epoch = 2
    east.add("worker", "w3", "create", {"name": "赵六"})
    assert _push(app, east, 3, 3).status_code == 200
    with app.app_context(), db.database.connection_context():
        row = Station.get_by_id(east.station_id)
        assert (row.epoch, row.head_seq) == (2, 3)
        assert AppliedEntry.select().where(AppliedEntry.station == east.station_id).count() == 3


def test_a_pull_that_shows_a_restore_queues_it_once(sqlite_app: Flask) -> None:
    app = sqlite_app
    east, west = enrol_station(app, "东城驿站"), enrol_station(app, "西城驿站")
    with app.app_context():
        east.wall = west.wall = clock.now_ms() - 60_000
    for after in (0, 1, 2, 2):  # a station reading the hub log forward: nothing to see
        assert _pull(app, east, after).status_code == 200
    assert not _issues(app, "restored")
    # Its database went back: it asks for the hub log from before what it acknowledged.
    assert _pull(app, east, 1).status_code == 200
    assert _pull(app, east, 1).status_code == 200
    [issue] = _issues(app, "restored")
    assert issue.subject == east.station_id and issue.status == "open"
    assert issue.details["hub_log"] == {"acknowledged": 2, "asked_after": 1}

    # A station that reports its head on the pull: behind what the hub accepted.
    west.add("worker", "w1", "create", {"name": "王芳"})
    west.add("worker", "w2", "create", {"name": "李四"})
    assert _push(app, west, 1, 2).status_code == 200
    assert _pull(app, west, 0, **{"X-Kuaigong-Head": "1:2"}).status_code == 200
    assert len(_issues(app, "restored")) == 1
    assert _pull(app, west, 0, **{"X-Kuaigong-Head": "1:1"}).status_code == 200
    issues = _issues(app, "restored")
    assert len(issues) == 2 and issues[1].details["head"] == {
        "reported": [1, 1],
        "accepted": [1, 2],
    }

    # The admin decides from the queue: a reset for the station, or a false alarm dismissed.
    with app.test_request_context(), db.database.connection_context():
        reconcile.decide(issues[0].id, "dismiss", "换了平板，不是恢复", None)
        reconcile.decide(issues[1].id, "reset_epoch", "从备份恢复", None)
        assert Station.get_by_id(east.station_id).epoch == 1
        assert Station.get_by_id(west.station_id).epoch == 2

    # Until it applies the reset, the station still reports its old epoch's head: that is the
    # reset on its way, not another restore.
    assert _pull(app, west, 0, **{"X-Kuaigong-Head": "1:1"}).status_code == 200
    assert len(_issues(app, "restored")) == 2


def test_a_clock_far_ahead_is_queued_once_and_accepted_with_hub_time(app: Flask) -> None:
    start = dt.datetime(2026, 5, 4, 8, 0)
    hub_clock = clock.ManualClock(start)
    clock.install(app, hub_clock)
    with app.app_context():
        t0 = clock.now_ms()
    east, west = enrol_station(app, "东城驿站"), enrol_station(app, "西城驿站")
    east.wall = t0 + YEAR_MS  # a clock a year ahead
    east.add("worker", "w1", "create", {"name": "王芳", "mobile": "13800000001"})
    head = {"X-Kuaigong-Pending": "2", "X-Kuaigong-Wall": str(east.wall)}
    refused = _push(app, east, 1, 1, **head)
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "clock_drift"
    hub_clock.advance(60)
    east.add("worker", "w1", "update", {"mobile": "13800000009"})
    assert _push(app, east, 1, 2, **head).status_code == 422
    [issue] = _issues(app, "clock")  # once, however often it is refused
    d = issue.details
    assert (d["epoch"], d["first_seq"], d["last_seq"], d["refusals"]) == (1, 1, 2, 2)
    assert d["marks"] == [[2, t0]] and abs(d["offset_ms"] - YEAR_MS) < 120_000
    with app.app_context(), db.database.connection_context():
        assert Worker.select().count() == 0 and not Station.get_by_id(east.station_id).frozen

    # Meanwhile a station with a right clock edits the same field (after the hub saw east's).
    west.wall = t0 + 30_000
    west.add("worker", "w1", "update", {"mobile": "13900000002"})

    with app.test_request_context(), db.database.connection_context():
        decided = reconcile.decide(issue.id, "accept_hub_time", "时钟电池坏了", None)
        entry = HubLogEntry.get_by_id(decided.hub_seq)
        assert entry.fields["decision"] == "accept_hub_time" and entry.fields["up_to_seq"] == 2
        grant = ClockAllowance.get_by_id(east.station_id)
        assert (grant.epoch, grant.up_to_seq) == (1, 2)
    hub_clock.advance(60)
    assert _push(app, east, 1, 2).status_code == 200
    assert _push(app, east, 1, 2).get_json()["verdict"] == "replay"
    assert _push(app, west, 1, 1).status_code == 200
    with app.app_context(), db.database.connection_context():
        worker = Worker.get_by_id("w1")
        stamps = field_stamps(worker.data, worker.stamps)
        assert worker.data == {"name": "王芳", "mobile": "13900000002"}  # the real, later edit wins
        assert stamps["name"] == [t0, 1, east.station_id]  # clamped to when the hub heard of it
        [loss] = FieldLoss.select()
        assert (loss.loser_station, loss.loser_value, loss.loser_hlc) == (
            east.station_id,
            "13800000009",
            t0,
        )
        assert AppliedEntry.select().where(AppliedEntry.station == east.station_id).count() == 2

    # Past the allowance: within the bound, as usual; far ahead again, a new item.
    with app.app_context():
        east.add("worker", "w2", "create", {"name": "李四"}, wall=clock.now_ms() + 60_000)
    assert _push(app, east, 3, 3).status_code == 200
    with app.app_context(), db.database.connection_context():
        later = Worker.get_by_id("w2")
        assert field_stamps(later.data, later.stamps)["name"] == [east.wall, 0, east.station_id]
    east.add("worker", "w2", "update", {"name": "李四四"}, wall=t0 + YEAR_MS + 600_000)
    assert _push(app, east, 4, 4).status_code == 422
    issues = _issues(app, "clock")
    assert len(issues) == 2 and issues[1].details["first_seq"] == 4
    page = _admin(app).get(f"/reconcile/{issues[1].id}").get_data(as_text=True)
    assert "驿站时钟超前" in page and "按中心时间接收" in page


def _admin(app: Flask) -> FlaskClient:
    add_admin(app, "zhou")
    client = app.test_client()
    login(client, "zhou")
    return client
