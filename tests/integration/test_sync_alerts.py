"""The hub hears of every integrity problem (issue 9 §3), between real stations and a real hub
server on SQLite and PostgreSQL: an edited change-log row reaches the hub as an alert signed by
the station key, an edited row not yet sent stops the push but never the pull, anything not
signed by the station's own key changes nothing, and the CLI exits non-zero on any refusal."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests
from integration_helpers import ROOT, Hub, Station

import sync_protocol as sp
from station_node.sync.transport import SyncError


def _alter(st: Station, seq: int | None = None, **fields: Any) -> int:
    """Change a logged row's fields in the database, as someone with the file could."""
    from station_node.models import ChangeEntry

    with st.ctx():
        query = ChangeEntry.select().order_by(ChangeEntry.seq.desc())
        row = query.first() if seq is None else ChangeEntry.get_by_id(seq)
        ChangeEntry.update(fields={**row.fields, **fields}).where(
            ChangeEntry.seq == row.seq
        ).execute()
        return int(row.seq)


def _issues(hub: Hub, kind: str) -> list[Any]:
    from central_hub.models import Issue

    with hub.ctx():
        return list(Issue.select().where(Issue.kind == kind).order_by(Issue.id))


def _all_issues(hub: Hub) -> int:
    from central_hub.models import Issue

    with hub.ctx():
        return Issue.select().count()


def test_an_edited_pushed_row_reaches_the_hub_as_a_signed_alert(hub: Hub, enrolled: Any) -> None:
    from central_hub.services import reconcile

    st = enrolled(hub, "east")
    worker = st.worker()
    st.sync()
    seq = _alter(st, mobile="13900009999")

    out = st.sync()  # the row was sent already: the round goes on, and the hub is told
    assert out.blocked is None
    [item] = _issues(hub, "altered")
    d = item.details
    assert (item.status, item.subject, d["pushed"], d["seq"]) == ("open", st.station_id, True, seq)
    assert d["entity_id"] == worker and d["fields"]["mobile"] == "13900009999"
    assert d["hub_hash"] == d["stored_hash"] != d["computed_hash"]  # the hub holds what was sent
    assert st.status()["altered"]["seq"] == seq  # not erased by the successful round

    st.worker()
    assert st.sync().pushed >= 1  # later entries still flow
    assert len(_issues(hub, "altered")) == 1  # told once
    assert st.status()["altered"]["seq"] == seq

    with hub.ctx():
        page = hub.app.test_client()
        assert page.get("/api/v1/openapi.json").get_json()["paths"]["/stations/{station_id}/alerts"]
        decided = reconcile.decide(item.id, "acknowledge", "已核查，数据库被人改过", None)
    assert (decided.status, decided.decision) == ("decided", "acknowledge")


def test_an_edited_unsent_row_stops_the_push_but_not_the_pull(hub: Hub, enrolled: Any) -> None:
    from central_hub.services import rules
    from station_node.hub_records import CityRule

    st = enrolled(hub, "west")
    st.worker()
    st.sync()
    st.worker(name="王五")
    seq = _alter(st, name="王六")
    with hub.ctx():
        rules.add_rule("announcement", {"title": "高温提示", "text": "午间停止户外作业"}, None)

    with pytest.raises(SyncError) as caught:
        st.sync()
    assert caught.value.code == "entry_altered"
    with st.ctx():  # the pull ran: the city's announcement arrived all the same
        assert [r.body["title"] for r in CityRule.select()] == ["高温提示"]
    [item] = _issues(hub, "altered")
    assert (item.details["seq"], item.details["pushed"], item.details["hub_hash"]) == (
        seq,
        False,
        None,
    )
    assert st.status()["last_error"]["code"] == "entry_altered"


def _post(hub: Hub, station_id: str, body: bytes) -> requests.Response:
    return requests.post(
        f"{hub.url}/api/v1/stations/{station_id}/alerts",
        data=body,
        timeout=10,
        headers={"Content-Type": "application/octet-stream"},
    )


def test_an_alert_not_signed_by_the_station_key_changes_nothing(hub: Hub, enrolled: Any) -> None:
    from station_node import station_state as state
    from station_node.sync import alerts, client

    st = enrolled(hub, "north")
    other = enrolled(hub, "south")
    with st.ctx():
        now = client.wall_ms()
        key = state.signing_key()
        assert key is not None
    with other.ctx():
        other_key = state.signing_key()
        assert other_key is not None
    details = {"epoch": 1, "seq": 1, "pushed": True}
    cases = [
        (
            alerts.signed_alert(
                st.station_id, "a1", "entry_altered", details, now, sp.SigningKey.generate()
            ),
            403,
        ),
        (alerts.signed_alert(st.station_id, "a2", "entry_altered", details, now, other_key), 403),
        (
            alerts.signed_alert(other.station_id, "a3", "entry_altered", details, now, other_key),
            403,
        ),
        (b"kg1/alert {}\n", None),
        (b"\xff\xfe not an alert", None),
        (
            alerts.signed_alert(
                st.station_id, "a4", "entry_altered", details, now - 3_600_000, key
            ),
            401,
        ),
        (alerts.signed_alert(st.station_id, "a5", "made_up", details, now, key), 422),
    ]
    before = _all_issues(hub)
    for body, status in cases:
        answer = _post(hub, st.station_id, body)
        assert 400 <= answer.status_code < 500, answer.text
        assert status is None or answer.status_code == status, (status, answer.text)
        assert answer.json()["error"]["code"]
    assert _all_issues(hub) == before
    with hub.ctx():
        from central_hub.services import stations

        assert stations.refused_pushes(st.station_id).count == 6  # all but the unknown kind

    good = alerts.signed_alert(st.station_id, "a6", "entry_altered", details, now, key)
    assert _post(hub, st.station_id, good).status_code == 201
    assert _post(hub, st.station_id, good).status_code == 201  # the same alert again
    assert _all_issues(hub) == before + 1


def _kuaigong(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kuaigong", *args],
        cwd=ROOT,
        text=True,
        capture_output=True,
        timeout=120,
        env={**os.environ},
    )


def test_cli_exits_non_zero_when_anything_was_refused(
    sqlite_hub: Hub, enrolled: Any, tmp_path: Path
) -> None:
    from central_hub.models import Station as HubStation
    from central_hub.services import stations
    from station_node.sync.bundles import export_bundle

    st = enrolled(sqlite_hub, "east")
    st.worker()
    st.activate()
    export_bundle(st.app, tmp_path / "east.bundle")
    with sqlite_hub.ctx():
        stations.freeze(HubStation.get_by_id(st.station_id), "待核查")
    hub_data = sqlite_hub.app.config["DATA_DIR"]
    refused = _kuaigong("hub", "import-bundle", "--data", hub_data, str(tmp_path / "east.bundle"))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "frozen" in refused.stderr

    with sqlite_hub.ctx():
        stations.unfreeze(st.station_id, None)
    taken = _kuaigong("hub", "import-bundle", "--data", hub_data, str(tmp_path / "east.bundle"))
    assert taken.returncode == 0, taken.stdout + taken.stderr

    st.worker(name="王五")
    _alter(st, name="王六")
    data = st.app.config["DATA_DIR"]
    synced = _kuaigong("station", "sync", "--data", data)
    assert synced.returncode == 2 and "entry_altered" in synced.stderr


def test_a_long_log_is_checked_in_turns(hub: Hub, enrolled: Any, monkeypatch: Any) -> None:
    from station_node.sync import client

    monkeypatch.setattr(client, "CHECK_PER_ROUND", 2)
    st = enrolled(hub, "east")
    for _ in range(5):
        st.worker()
    st.sync()
    sent = st.entries()
    seq = _alter(st, seq=sent - 1, name="王六")
    rounds = 0
    while not _issues(hub, "altered"):
        st.sync()
        rounds += 1
        assert rounds <= (sent + 1) // 2 + 1, "every sent entry is checked within a turn"
    assert _issues(hub, "altered")[0].details["seq"] == seq


def test_a_station_waiting_for_a_reset_is_in_the_hubs_queue(
    hub: Hub, enrolled: Any, tmp_path: Path
) -> None:
    from station_node.sync.backup import backup, restore

    st = enrolled(hub, "east")
    st.worker()
    st.sync()
    st.sync()  # the hub log it holds is acknowledged before the backup
    st.activate()
    backup(st.app, tmp_path / "east.kgbackup")
    st.worker()
    st.sync()
    st.close()
    restore(st.app, tmp_path / "east.kgbackup")
    for _ in range(4):
        st.worker()  # its head is now past the hub's: only the station itself can tell
    out = st.sync()
    assert out.blocked == "behind_receipt" and out.pushed == 0
    [item] = _issues(hub, "restored")
    assert item.status == "open" and item.details["signal"] == "alert"
    report = item.details["station_report"]
    assert report["reason"] == "behind_receipt"
    assert report["pending"] == st.entries() - report["went_on_after"] >= 4
    assert "head" not in item.details and "hub_log" not in item.details


def test_a_refused_alert_never_stops_the_sync(hub: Hub, enrolled: Any) -> None:
    from station_node import station_state as state

    st = enrolled(hub, "east")
    with st.ctx():
        state.note_alert("made_up", "1", {"what": "a kind this hub does not know"})
    st.worker()
    out = st.sync()
    assert out.pushed >= 1 and st.status()["alert_error"]["code"] == "alert_refused"
    with st.ctx():
        assert [a["sent"] for a in state.alerts()] == [False]  # tried again next round
    assert _all_issues(hub) == 0
