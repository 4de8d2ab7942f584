"""Recovery between real stations and a real hub server: a station restored from an old backup
is restarted in a new epoch by an admin at the hub, and a station whose clock is a year ahead
gets its refused entries in once an admin accepts them with hub time, without winning a
conflict against a station with a right clock."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from integration_helpers import Hub, Station

from kuaigong import clock
from station_node.sync.transport import SyncError

PASSWORD = "kuaigong-admin-1"


def _admin(hub: Hub) -> FlaskClient:
    """A browser signed in to the hub as an admin, through the real login form."""
    from central_hub.services import admins

    with hub.ctx():
        admins.create_admin("chen", "陈", "admin", PASSWORD)
    client = hub.app.test_client()
    response = client.post(
        "/login",
        data={"username": "chen", "password": PASSWORD, "csrf_token": _csrf(client, "/login")},
    )
    assert response.status_code == 302
    return client


def _csrf(client: FlaskClient, path: str) -> str:
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def _applied(hub: Hub, station_id: str) -> dict[str, Any]:
    from central_hub.models import AppliedEntry
    from central_hub.models import Station as HubStation

    with hub.ctx():
        row = HubStation.get_by_id(station_id)
        rows = AppliedEntry.select().where(AppliedEntry.station == station_id)
        return {
            "count": rows.count(),
            "head": (row.epoch, row.head_seq),
            "ids": sorted(r.entity_id for r in rows),
        }


def _issues(hub: Hub, kind: str) -> list[Any]:
    from central_hub.models import Issue

    with hub.ctx():
        return list(Issue.select().where(Issue.kind == kind).order_by(Issue.id))


def _restore(st: Station, backup: Path) -> None:
    """Put an old copy of the station's database back, the way a technician would."""
    from station_node import db

    st.close()
    path = db.database_path(st.app)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.copy(backup, path)


def _backup(st: Station, to: Path) -> None:
    from station_node import db

    st.activate()
    source, target = sqlite3.connect(db.database_path(st.app)), sqlite3.connect(to)
    source.backup(target)
    source.close()
    target.close()


def test_restored_station_is_restarted_in_a_new_epoch_by_an_admin(
    hub: Hub, enrolled: Any, tmp_path: Path
) -> None:
    from central_hub.services import rules

    st = enrolled(hub, "east")
    st.worker()
    st.sync()
    _backup(st, tmp_path / "old.sqlite")
    st.worker()
    st.worker()
    with hub.ctx():
        rules.add_rule(
            "announcement", {"title": "春节安排", "text": "驿站正月初一至初三休息"}, None
        )
    st.sync()
    st.sync()  # the second round's pull acknowledges the announcement
    held = _applied(hub, st.station_id)
    assert held["count"] == held["head"][1] == st.entries() >= 3
    assert not _issues(hub, "restored")

    _restore(st, tmp_path / "old.sqlite")
    during = st.worker()  # it keeps serving; the entry waits for the hub's reset
    out = st.sync()
    assert out.blocked == "behind_receipt" and out.pushed == 0
    # Its signed pull asked for the hub log from before what it had acknowledged: queued.
    [issue] = _issues(hub, "restored")
    assert issue.status == "open" and issue.subject == st.station_id
    assert issue.details["hub_log"]["asked_after"] < issue.details["hub_log"]["acknowledged"]

    admin = _admin(hub)
    page = f"/stations/{st.station_id}"
    assert "让驿站重新开始同步（已从备份恢复）" in admin.get(page).get_data(as_text=True)
    done = admin.post(
        f"{page}/restart",
        data={"reason": "一体机从上周的备份恢复", "csrf_token": _csrf(admin, page)},
    )
    assert done.status_code == 302
    [issue] = _issues(hub, "restored")
    assert (issue.status, issue.decision) == ("decided", "reset_epoch")

    out = st.sync()
    assert out.blocked is None and out.pushed == 1  # carried into the new epoch
    new_worker = st.worker()
    assert st.sync().pushed == 1
    assert st.sync().pushed == 0
    after = _applied(hub, st.station_id)
    assert after["count"] == held["count"] + 2 and after["head"] == (2, held["head"][1] + 2)
    assert after["ids"].count(new_worker) == after["ids"].count(during) == 1  # each once
    delivery = admin.get(f"/reconcile/{issue.id}").get_data(as_text=True)
    assert "各驿站接收情况" in delivery and "✓" in delivery


def test_clock_a_year_ahead_accepted_with_hub_time(sqlite_hub: Hub, enrolled: Any) -> None:
    from station_node import changelog, db

    ahead, right = enrolled(sqlite_hub, "east"), enrolled(sqlite_hub, "west")
    future = clock.SystemClock().now() + dt.timedelta(days=365)  # the hub server reads this clock
    clock.install(ahead.app, clock.ManualClock(future))
    worker_id = ahead.worker(mobile="13800000001")
    with pytest.raises(SyncError) as caught:
        ahead.sync()
    assert caught.value.code == "clock_drift"
    with pytest.raises(SyncError):
        ahead.sync()
    [issue] = _issues(sqlite_hub, "clock")  # once, with the station's offset and refused range
    assert issue.details["offset_ms"] > 360 * 24 * 3600 * 1000
    assert (issue.details["first_seq"], issue.details["last_seq"]) == (1, ahead.entries())
    assert issue.details["refusals"] == 2
    assert _applied(sqlite_hub, ahead.station_id)["count"] == 0

    # A station with a right clock edits the same person's mobile, after the hub heard of east's.
    time.sleep(0.01)
    with right.ctx(), db.atomic():
        changelog.record("worker", worker_id, "update", {"mobile": "13900000002"})

    admin = _admin(sqlite_hub)
    page = f"/reconcile/{issue.id}"
    assert "驿站时钟超前" in admin.get(page).get_data(as_text=True)
    decided = admin.post(
        f"{page}/decide",
        data={
            "decision": "accept_hub_time",
            "note": "时钟电池坏了",
            "csrf_token": _csrf(admin, page),
        },
    )
    assert decided.status_code == 302

    out = ahead.sync()
    assert out.accepted_seq == ahead.entries() and ahead.status()["rejection"] is None
    assert ahead.sync().pushed == 0
    right.sync()
    applied = _applied(sqlite_hub, ahead.station_id)
    assert applied["count"] == ahead.entries() and applied["ids"].count(worker_id) == 1

    from central_hub.models import FieldLoss, Worker

    with sqlite_hub.ctx():
        worker = Worker.get_by_id(worker_id)
        assert worker.data["mobile"] == "13900000002"  # the right clock's edit wins
        assert worker.name == "张三"
        loss = FieldLoss.get(FieldLoss.field == "mobile")
        assert (loss.loser_station, loss.loser_value) == (ahead.station_id, "13800000001")
        assert loss.loser_hlc <= issue.details["marks"][0][1]  # clamped to when the hub heard of it
