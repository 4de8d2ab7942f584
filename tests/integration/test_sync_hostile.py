"""Hostile and broken conditions between real stations and a real hub server, each tested:
hub unreachable then back, a connection cut mid-body (both ways), the same batch twice and out
of order, an entry altered after it was logged, a station restored from an old backup, a revoked
key, station clocks at 1970 and a year ahead, enrolment codes reused or expired, another
station's credentials."""

from __future__ import annotations

import datetime as dt
import random
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cutting_proxy import CuttingProxy
from integration_helpers import Hub, Station

import sync_protocol as sp
from kuaigong import clock
from station_node import station_state as state
from station_node.sync import client
from station_node.sync.jobs import SyncBeat
from station_node.sync.transport import HubClient, HubRefused, HubUnreachable, SyncError


def _applied(hub: Hub, station_id: str) -> tuple[int, int]:
    from central_hub.models import AppliedEntry, Station

    with hub.ctx():
        count = AppliedEntry.select().where(AppliedEntry.station == station_id).count()
        return count, Station.get_by_id(station_id).head_seq


def test_hub_unreachable_then_back_with_backoff(sqlite_hub: Hub, enrolled: Any) -> None:
    st = enrolled(sqlite_hub, "east")
    st.worker()
    sqlite_hub.stop()
    beat = SyncBeat(st.app, interval=30, max_backoff=1800, rng=random.Random(4))
    st.activate()
    delays = []
    for _ in range(6):
        assert beat.tick(now=float("inf")) is None
        delays.append(beat.delay())
    assert beat.failures == 6
    assert all(30 <= d <= 1800 for d in delays) and max(delays) > 60  # grows, capped, jittered
    assert st.status()["reachable"] is False
    assert st.status()["last_error"]["code"] == "hub_unreachable"

    sqlite_hub.start()  # back on the same port, after "days"
    st.worker()
    st.activate()
    outcome = beat.tick(now=float("inf"))
    assert outcome is not None and beat.failures == 0 and beat.delay() == 30
    assert _applied(sqlite_hub, st.station_id) == (st.entries(), st.entries())
    assert st.status()["reachable"] is True and st.status()["pending"] == 0


@pytest.mark.parametrize("mode", ["cut_request", "cut_reply"])
def test_connection_cut_mid_body(sqlite_hub: Hub, enrolled: Any, mode: str) -> None:
    st = enrolled(sqlite_hub, "east")
    for _ in range(3):
        st.worker()
    proxy = CuttingProxy(sqlite_hub.port)
    try:
        proxy.mode = mode
        st.activate()
        with pytest.raises(HubUnreachable):
            client.sync_once(st.app, HubClient(proxy.url))
        assert proxy.cuts == 1
        held = _applied(sqlite_hub, st.station_id)
        # cut on the way in: the hub applied nothing; cut on the way back: it applied all.
        assert held == ((0, 0) if mode == "cut_request" else (st.entries(), st.entries()))
        st.activate()
        out = client.sync_once(st.app, HubClient(proxy.url))
        assert out.accepted_seq == st.entries()
        assert _applied(sqlite_hub, st.station_id) == (st.entries(), st.entries())  # once each
    finally:
        proxy.close()


def test_same_batch_twice_and_out_of_order(sqlite_hub: Hub, enrolled: Any) -> None:
    st = enrolled(sqlite_hub, "east")
    for _ in range(5):
        st.worker()
    with st.ctx():
        from station_node.sync import outbox

        enr, key = state.enrolment(), state.signing_key()
        assert enr is not None and key is not None
        h = outbox.head()
        raws = outbox.entries(h, 1, h.seq, enr.station_id)
        session = client.session_for(enr, key)
        first = session.build_push(raws[:3], client.wall_ms())
        second = session.build_push(raws[3:], client.wall_ms())
    hub = HubClient(sqlite_hub.url)
    status, body = hub.push(enr.station_id, second, 0, client.wall_ms(), key)
    assert (status, body["verdict"], body["missing_from"], body["missing_to"]) == (202, "gap", 1, 3)
    assert _applied(sqlite_hub, enr.station_id) == (0, 0)
    status, body = hub.push(enr.station_id, first, 0, client.wall_ms(), key)
    assert body["verdict"] == "apply" and body["accepted_seq"] == len(raws)  # the held one too
    for batch in (first, second, first):
        status, body = hub.push(enr.station_id, batch, 0, client.wall_ms(), key)
        assert (status, body["verdict"]) == (200, "replay")
    assert _applied(sqlite_hub, enr.station_id) == (len(raws), len(raws))


def test_entry_altered_after_logging_is_never_pushed(sqlite_hub: Hub, enrolled: Any) -> None:
    st = enrolled(sqlite_hub, "east")
    st.worker()
    st.sync()
    before = _applied(sqlite_hub, st.station_id)
    st.worker(name="王五")
    with st.ctx():
        from station_node.models import ChangeEntry

        last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
        fields = dict(last.fields, mobile="13900000000")
        ChangeEntry.update(fields=fields).where(ChangeEntry.seq == last.seq).execute()
    with pytest.raises(SyncError) as caught:
        st.sync()
    assert caught.value.code == "entry_altered"
    assert "被改动" in caught.value.message_zh
    assert st.status()["last_error"]["code"] == "entry_altered"
    assert _applied(sqlite_hub, st.station_id) == before


def _backup(st: Station, to: Path) -> None:
    st.activate()
    from station_node import db

    source = sqlite3.connect(db.database_path(st.app))
    target = sqlite3.connect(to)
    source.backup(target)
    source.close()
    target.close()


def test_station_restored_from_old_backup(sqlite_hub: Hub, enrolled: Any, tmp_path: Path) -> None:
    from central_hub.models import AppliedEntry, Issue
    from central_hub.models import Station as HubStation
    from central_hub.services import restores
    from station_node import db

    st = enrolled(sqlite_hub, "east")
    st.worker()
    st.sync()
    st.sync()  # everything of the hub log it holds is acknowledged before the backup
    _backup(st, tmp_path / "old.sqlite")
    st.worker()
    st.worker()
    st.sync()
    held = _applied(sqlite_hub, st.station_id)

    st.close()
    path = db.database_path(st.app)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.copy(tmp_path / "old.sqlite", path)

    during = st.worker()  # it keeps serving: the entry waits for the hub's epoch reset
    out = st.sync()
    assert out.blocked == "behind_receipt" and out.pushed == 0
    assert _applied(sqlite_hub, st.station_id) == held
    # Its pull asked for the hub log it holds, but told its head (X-Kuaigong-Head): queued.
    with sqlite_hub.ctx():
        [issue] = Issue.select().where(Issue.kind == "restored")
    assert issue.status == "open" and "hub_log" not in issue.details
    assert issue.details["head"] == {"reported": [1, held[1] - 1], "accepted": [1, held[1]]}

    # The hub admin restarts it in a new epoch; the station learns it from the hub log, goes on.
    with sqlite_hub.ctx():
        decided = restores.restart_station(st.station_id, "一体机从备份恢复", None)
    assert (decided.id, decided.status, decided.decision) == (issue.id, "decided", "reset_epoch")
    out = st.sync()
    assert out.blocked is None and out.pushed == 1  # `during`, carried: first of epoch 2
    st.worker()
    out = st.sync()
    assert out.pushed == 1
    with sqlite_hub.ctx():
        hub_station = HubStation.get_by_id(st.station_id)
        assert (hub_station.epoch, hub_station.head_seq) == (2, held[1] + 2)
        assert (
            AppliedEntry.get(
                (AppliedEntry.entity_id == during) & (AppliedEntry.op == "create")
            ).epoch
            == 2
        )


def test_revoked_key_then_rotation(sqlite_hub: Hub, enrolled: Any) -> None:
    from central_hub.services import stations

    st = enrolled(sqlite_hub, "east")
    st.worker()
    st.sync()
    held = _applied(sqlite_hub, st.station_id)
    with sqlite_hub.ctx():
        stations.revoke_key(st.station_id, "一体机丢失", None, None)
    st.worker()
    with pytest.raises(SyncError) as caught:
        st.sync()
    assert caught.value.code == "revoked_key"
    rejection = st.status()["rejection"]
    assert rejection["reason"] == "revoked_key" and "吊销" in rejection["zh"]
    assert _applied(sqlite_hub, st.station_id) == held

    # The admin issues a rotation code and thaws the station; the new key carries on.
    with sqlite_hub.ctx():
        code = stations.issue_rotation_code(st.station_id, None).code
        stations.unfreeze(st.station_id, None)
    answer = st.enroll(sqlite_hub, code)
    assert answer["rotated"] and answer["station_id"] == st.station_id
    out = st.sync()
    assert out.accepted_seq == st.entries()
    assert st.status()["rejection"] is None


def test_station_clock_in_1970_stays_above_the_hubs_time(sqlite_hub: Hub, enrolled: Any) -> None:
    st = enrolled(sqlite_hub, "east")
    clock.install(st.app, clock.ManualClock(dt.datetime(1970, 1, 2, 8, 0)))  # CMOS battery gone
    st.employer()
    out = st.sync()  # the pull is signed with the hub's time, learnt from its replies
    assert out.accepted_seq == st.entries()
    with st.app.app_context():
        receipt = state.acked().receipt
    assert receipt is not None and receipt.hub_time > 1_700_000_000_000
    st.employer()
    with st.ctx():
        from station_node.models import ChangeEntry

        last = ChangeEntry.select().order_by(ChangeEntry.seq.desc()).first()
        assert last.hlc_wall >= receipt.hub_time  # never below the last time we heard the hub
    assert st.sync().accepted_seq == st.entries()


def test_station_clock_a_year_ahead_cannot_win_conflicts(sqlite_hub: Hub, enrolled: Any) -> None:
    st = enrolled(sqlite_hub, "east")
    ahead = clock.SystemClock().now() + dt.timedelta(days=365)  # the hub server reads this clock
    clock.install(st.app, clock.ManualClock(ahead))
    st.worker()
    with pytest.raises(SyncError) as caught:
        st.sync()
    assert caught.value.code == "clock_drift"
    assert st.status()["rejection"]["reason"] == "clock_drift"
    assert _applied(sqlite_hub, st.station_id) == (0, 0)  # none of its future stamps got in


def test_enrolment_code_reused_or_expired(sqlite_hub: Hub, make_station: Any) -> None:
    from central_hub.models import EnrolmentCode

    first, second, third = make_station("a"), make_station("b"), make_station("c")
    _, code = sqlite_hub.new_code("a")
    first.enroll(sqlite_hub, code)
    with pytest.raises(HubRefused) as caught:
        second.enroll(sqlite_hub, code)
    assert caught.value.code == "enrolment_code_used" and "已使用" in caught.value.message_zh
    _, late = sqlite_hub.new_code("c")
    with sqlite_hub.ctx():
        EnrolmentCode.update(expires_at=dt.datetime(2000, 1, 1)).execute()
    with pytest.raises(HubRefused) as caught:
        third.enroll(sqlite_hub, late)
    assert caught.value.code == "enrolment_code_expired"
    for st in (second, third):
        with st.app.app_context():
            assert state.enrolment() is None and state.signing_key() is None


def test_request_with_another_stations_credentials(sqlite_hub: Hub, enrolled: Any) -> None:
    a, b = enrolled(sqlite_hub, "east"), enrolled(sqlite_hub, "west")
    a_id = a.station_id
    b.worker()
    with b.ctx():
        from station_node.sync import outbox

        enr, key = state.enrolment(), state.signing_key()
        assert enr is not None and key is not None
        h = outbox.head()
        batch_b = client.session_for(enr, key).build_push(
            outbox.entries(h, 1, h.seq, enr.station_id), client.wall_ms()
        )
        forged = sp.sign_batch(
            [
                sp.encode_entry(
                    sp.make_entry(
                        station=a_id,
                        epoch=1,
                        seq=1,
                        prev_hash=None,
                        hlc=(client.wall_ms(), 0),
                        entity="worker",
                        entity_id="x1",
                        op="create",
                        fields={"name": "假"},
                    )
                )
            ],
            key,
            sp.Hlc(client.wall_ms(), 1),
        )
    hub = HubClient(sqlite_hub.url)
    for batch in (batch_b, forged):  # B's batch to A's door; A's log with B's key: B's call
        with pytest.raises(HubRefused) as refused:
            hub.push(a.station_id, batch, 0, client.wall_ms(), key)
        assert (refused.value.status, refused.value.code) == (401, "call_invalid")
    from sync_protocol.signed import sign

    auth = sign(
        "request", {"after": 0, "station": a.station_id, "time": client.wall_ms()}, key
    ).hex()
    with pytest.raises(HubRefused) as caught:
        hub.pull(a.station_id, 0, 10, auth)
    assert caught.value.status in (401, 403)
    assert _applied(sqlite_hub, a.station_id) == (0, 0)
