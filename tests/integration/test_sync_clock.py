"""A station whose clock ran a year ahead and was then set right, against a real hub server.

Its entries keep their future stamps (an HLC never goes backwards), so the clock that signs its
batches starts from its newest entry, not from the hub's last receipt time: every checkpoint is
stamped after the entries under it, and once an admin accepts the entries with hub time they go
in, once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from integration_helpers import Hub
from test_sync_recovery import _admin, _applied, _csrf, _issues

import sync_protocol as sp
from kuaigong import clock
from station_node import station_state as state
from station_node.sync import client, outbox
from station_node.sync.transport import SyncError


def test_clock_set_right_after_running_ahead_is_not_stuck(sqlite_hub: Hub, enrolled: Any) -> None:
    st = enrolled(sqlite_hub, "east")
    now = clock.SystemClock().now()  # the hub server reads this clock
    clock.install(st.app, clock.ManualClock(now + dt.timedelta(days=365)))
    worker_id = st.worker()
    with pytest.raises(SyncError) as caught:
        st.sync()
    assert caught.value.code == "clock_drift"

    clock.install(st.app, clock.ManualClock(now))  # the technician sets the clock right
    with st.ctx():
        newest = outbox.newest_hlc()
        enr, key = state.enrolment(), state.signing_key()
        assert enr is not None and key is not None
        session = client.session_for(enr, key)
        assert newest[0] > client.wall_ms() + 300 * 24 * 3600 * 1000  # stamps stay ahead
        h = outbox.head()
        batch = session.build_push(outbox.entries(h, 1, h.seq, enr.station_id), client.wall_ms())
    checkpoint = sp.parse_batch(batch).checkpoint.checkpoint
    assert (checkpoint.hlc.wall, checkpoint.hlc.counter) > newest  # signed after its entries

    with pytest.raises(SyncError) as caught:
        st.sync()
    assert caught.value.code == "clock_drift"  # still far ahead of the hub: the admin decides
    [issue] = _issues(sqlite_hub, "clock")
    assert issue.details["last_seq"] == st.entries()

    admin = _admin(sqlite_hub)
    page = f"/reconcile/{issue.id}"
    decided = admin.post(
        f"{page}/decide",
        data={
            "decision": "accept_hub_time",
            "note": "时钟已校正",
            "csrf_token": _csrf(admin, page),
        },
    )
    assert decided.status_code == 302

    out = st.sync()
    assert out.accepted_seq == st.entries() and st.status()["rejection"] is None
    assert st.sync().pushed == 0
    applied = _applied(sqlite_hub, st.station_id)
    assert applied["count"] == st.entries() and applied["ids"].count(worker_id) == 1
