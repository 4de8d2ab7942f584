"""Restoring a station never loses work (issue 9 §2), between real stations and a real hub
server on SQLite and PostgreSQL: whatever is put back — the whole data folder, or the database
from `kuaigong station backup` — the station keeps serving, and every change made after the
restore reaches the hub once, carried into the new epoch the admin's reset starts."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest
from integration_helpers import Hub, Station

from station_node.sync.transport import HubUnreachable, SyncError


def _pending(st: Station) -> int:
    from station_node import db
    from station_node.sync import client

    with st.ctx(), db.database.connection_context():
        return client.pending_count()


def _hub_held(hub: Hub, station_id: str) -> dict[str, Any]:
    from central_hub.models import AppliedEntry, Worker
    from central_hub.models import Station as HubStation

    with hub.ctx():
        row = HubStation.get_by_id(station_id)
        rows = AppliedEntry.select().where(AppliedEntry.station == station_id)
        workers = {w.id for w in Worker.select(Worker.id)}
        return {
            "count": rows.count(),
            "head": (row.epoch, row.head_seq),
            "workers": workers,
            "created": [r.entity_id for r in rows if r.op == "create"],
        }


def _issues(hub: Hub, kind: str) -> list[Any]:
    from central_hub.models import Issue

    with hub.ctx():
        return list(Issue.select().where(Issue.kind == kind).order_by(Issue.id))


def _put_back_folder(st: Station, copy: Path) -> None:
    """Put an old copy of the whole data folder back (database, keys, receipts, status)."""
    st.close()
    folder = Path(st.app.config["DATA_DIR"])
    shutil.rmtree(folder)
    shutil.copytree(copy, folder)


def test_whole_folder_put_back_then_new_epoch_carries_the_new_work(
    hub: Hub, enrolled: Any, tmp_path: Path
) -> None:
    from central_hub.services import reconcile

    st = enrolled(hub, "east")
    st.worker()
    st.sync()
    st.close()
    shutil.copytree(st.app.config["DATA_DIR"], tmp_path / "copy")  # as the README once advised

    st.worker()
    st.worker()
    st.sync()
    held = _hub_held(hub, st.station_id)
    assert held["count"] == st.entries() and _pending(st) == 0

    _put_back_folder(st, tmp_path / "copy")
    assert _pending(st) == 0
    new = [st.worker(name=name) for name in ("赵一", "钱二", "孙三")]
    assert _pending(st) == 3

    with pytest.raises(SyncError) as caught:
        st.sync()  # the hub finds a fork; the round still pulled and reported, then said so
    assert caught.value.code == "fork"
    assert _pending(st) == 3
    [fork] = _issues(hub, "fork")
    assert fork.status == "open" and fork.details["station_report"]["pending"] == 3
    assert _hub_held(hub, st.station_id)["count"] == held["count"]

    out = st.sync()  # nothing is pushed while the log waits for the reset: no second fork
    assert (out.blocked, out.pushed) == ("fork", 0)
    assert len(_issues(hub, "fork")) == 1 and _pending(st) == 3

    with hub.ctx():
        reconcile.decide(fork.id, "reset_epoch", "一体机整个数据文件夹从旧副本恢复", None)
    out = st.sync()
    assert out.blocked is None and out.pushed == 3
    assert _pending(st) == 0
    after = _hub_held(hub, st.station_id)
    assert after["head"] == (2, held["head"][1] + 3)
    assert set(new) <= after["workers"]
    assert all(after["created"].count(w) == 1 for w in new)  # each reached the hub exactly once
    [fork] = _issues(hub, "fork")
    assert fork.details["carried"]["carried"] == 3
    assert (fork.details["carried"]["first_seq"], fork.details["carried"]["last_seq"]) == (
        held["head"][1] + 1,
        held["head"][1] + 3,
    )

    assert st.sync().pushed == 0
    st.worker()
    assert st.sync().pushed == 1 and _pending(st) == 0


def test_database_restored_from_backup_keeps_serving_until_the_reset(
    hub: Hub, enrolled: Any, tmp_path: Path
) -> None:
    from central_hub.services import restores
    from station_node.sync.backup import backup, restore

    st = enrolled(hub, "west")
    st.worker()
    st.sync()
    st.activate()
    backup(st.app, tmp_path / "west.kgbackup")
    for _ in range(4):
        st.worker()
    st.sync()
    held = _hub_held(hub, st.station_id)

    st.close()
    out = restore(st.app, tmp_path / "west.kgbackup")
    assert out["behind_hub"] and out["pending"] == 0 and out["written"] == []
    at_restore = st.entries()

    hub.stop()  # the hub is out of reach for now: the station serves its users all the same
    new = [st.worker(name="周四"), st.worker(name="吴五")]
    employer = st.employer()
    today = st.today()
    job = st.job(employer, today + dt.timedelta(days=1))
    st.assign(job, new[0])
    made = _pending(st)
    assert made == st.entries() - at_restore >= 5  # workers, an employer, a job, an assignment
    with pytest.raises(HubUnreachable):
        st.sync()
    assert _pending(st) == made
    hub.start()

    out = st.sync()
    assert out.blocked == "behind_receipt" and out.pushed == 0
    assert _pending(st) == made
    assert _hub_held(hub, st.station_id)["count"] == held["count"]
    [item] = _issues(hub, "restored")  # the pull showed it and the station's signed alert says so
    assert item.status == "open" and item.details["station_report"]["pending"] == made

    with hub.ctx():
        restores.restart_station(st.station_id, "一体机数据库从备份恢复", None)
    out = st.sync()
    assert out.blocked is None and out.pushed == made and _pending(st) == 0
    after = _hub_held(hub, st.station_id)
    assert after["head"] == (2, held["head"][1] + made)
    assert set(new) <= after["workers"] and all(after["created"].count(w) == 1 for w in new)
    assert _issues(hub, "restored")[0].details["carried"]["carried"] == made


def test_restore_without_new_work_carries_nothing(
    sqlite_hub: Hub, enrolled: Any, tmp_path: Path
) -> None:
    from central_hub.services import restores
    from station_node.sync.backup import backup, restore

    st = enrolled(sqlite_hub, "north")
    st.worker()
    st.sync()
    st.activate()
    backup(st.app, tmp_path / "north.kgbackup")
    st.worker()
    st.sync()
    held = _hub_held(sqlite_hub, st.station_id)
    st.close()
    restore(st.app, tmp_path / "north.kgbackup")
    assert st.sync().blocked == "behind_receipt"
    with sqlite_hub.ctx():
        restores.restart_station(st.station_id, "从备份恢复", None)
    out = st.sync()
    assert out.blocked is None and out.pushed == 0 and _pending(st) == 0
    assert _hub_held(sqlite_hub, st.station_id)["head"] == (2, held["head"][1])
    st.worker()
    assert st.sync().pushed == 1
