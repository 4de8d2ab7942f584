"""The hub process is SIGKILLed in the middle of applying a push (inside the transaction, after
the entries were written, before the commit), restarted on the same database, and the station's
next sync resumes from its last receipt: nothing lost, nothing applied twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from integration_helpers import HubProcess

import sync_protocol as sp
from station_node.sync import client
from station_node.sync.transport import HubUnreachable


def _applied(hub: HubProcess, station_id: str) -> tuple[int, int, int]:
    from central_hub.models import AppliedEntry, Station

    with hub.ctx():
        rows = AppliedEntry.select().where(AppliedEntry.station == station_id)
        seqs = [r.seq for r in rows]
        head = Station.get_by_id(station_id).head_seq
    return len(seqs), len(set(seqs)), head


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_hub_killed_mid_apply_then_sync_resumes(
    tmp_path: Path, make_station: Any, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "PUSH_LIMITS", sp.Limits(max_entries=10, max_batch_bytes=64 * 1024))
    hub = HubProcess(tmp_path, engine).start(env={"KUAIGONG_TEST_DIE_ON_APPLY": "3"})
    try:
        st = make_station("east")
        _, code = hub.new_code("east")
        st.enroll(hub, code)
        for _ in range(35):
            st.worker()
        total = st.entries()
        assert total > 30

        with pytest.raises(HubUnreachable):
            st.sync()  # batches 1 and 2 land; the hub dies inside the third
        assert hub.proc is not None and hub.proc.wait(5) == -9
        count, distinct, head = _applied(hub, st.station_id)
        assert count == distinct == head == 20  # the third batch rolled back with the crash
        from station_node import station_state as state

        with st.app.app_context():
            assert state.acked().receipt.seq == 20  # type: ignore[union-attr]

        hub.start()  # same port, same database, no crash this time
        out = st.sync()
        assert out.pushed == total - 20  # resumed from the receipt, nothing sent twice
        assert out.accepted_seq == total
        count, distinct, head = _applied(hub, st.station_id)
        assert count == distinct == head == total
    finally:
        hub.close()
