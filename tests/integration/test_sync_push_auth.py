"""No one without a station's key can freeze it, end to end (docs/sync-protocol.md, section 12).

A real hub server over HTTP (SQLite and PostgreSQL) and real station apps pushing for real. An
old batch of the station, taken from its bundle file and changed by one character, is POSTed
with no credential, with another station's, with a replayed one and with a valid one for other
bytes, and imported as a bundle through `kuaigong hub import-bundle`: each is refused, the hub
changes nothing but its count of refused pushes, and the station's next real sync succeeds.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import secrets
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner
from integration_helpers import Hub, Station

import sync_protocol as sp
from central_hub.cli import hub as hub_cli
from station_node import station_state as state
from station_node.sync import bundles, client
from station_node.sync.transport import HubClient
from sync_protocol.bundles import read_bundle, write_bundle


class RecordingSession(requests.Session):
    """A requests session that keeps every push it sends (headers and body), as a wiretap would."""

    def __init__(self) -> None:
        super().__init__()
        self.pushes: list[tuple[dict[str, str], bytes]] = []

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        if url.endswith("/push"):
            self.pushes.append((dict(kwargs.get("headers") or {}), kwargs["data"]))
        return super().request(method, url, *args, **kwargs)


def _hub_state(hub: Hub, station_id: str) -> tuple[Any, ...]:
    from central_hub.models import AppliedEntry, Evidence, HeldBatch, Issue, Receipt, Station

    with hub.ctx():
        st = Station.get_by_id(station_id)
        return (
            (st.epoch, st.head_seq, st.head_hash, st.frozen, st.last_error),
            AppliedEntry.select().where(AppliedEntry.station == station_id).count(),
            Evidence.select().where(Evidence.station == station_id).count(),
            HeldBatch.select().where(HeldBatch.station == station_id).count(),
            Issue.select().where(Issue.subject == station_id).count(),
            Receipt.select().where(Receipt.station == station_id).count(),
        )


def _refused(hub: Hub, station_id: str) -> int:
    from central_hub.services import stations

    with hub.ctx():
        row = stations.refused_pushes(station_id)
        return row.count if row else 0


def _key(st: Station) -> sp.SigningKey:
    with st.ctx():
        key = state.signing_key()
    assert key is not None
    return key


def _post(hub: Hub, station_id: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(
        f"{hub.url}/api/v1/stations/{station_id}/push",
        data=body,
        timeout=30,
        headers={
            "Content-Type": "application/x-kuaigong-batch",
            "Content-Encoding": "gzip",
            **headers,
        },
    )


def _hub_ms(hub: Hub) -> int:
    probe = HubClient(hub.url)
    probe.health()
    assert probe.hub_time_ms is not None
    return probe.hub_time_ms


def _import(hub: Hub, path: Path) -> Any:
    env = {}
    if hub.schema:
        env = {
            "KUAIGONG_HUB_DATABASE_URL": hub.app.config["DATABASE_URL"],
            "KUAIGONG_HUB_DATABASE_SCHEMA": hub.schema,
        }
    return CliRunner().invoke(
        hub_cli, ["import-bundle", "--data", hub.app.config["DATA_DIR"], str(path)], env=env
    )


def test_a_tampered_old_batch_cannot_freeze_the_station(
    hub: Hub, enrolled: Any, tmp_path: Path
) -> None:
    st = enrolled(hub, "east")
    other = enrolled(hub, "west")
    names = [f"张三{i}" for i in range(3)]
    for name in names:
        st.worker(name=name)
    stick = tmp_path / "east.kgb"
    bundles.export_bundle(st.app, stick)  # the station's own signed batch, as on a USB stick
    wiretap = RecordingSession()
    st.activate()
    out = client.sync_once(st.app, HubClient(hub.url, session=wiretap))
    assert out.pushed == st.entries() and out.rejection is None
    station_id = st.station_id

    [old] = [p.data for p in read_bundle(stick.read_bytes()).parts if p.kind == "batch"]
    tampered = old.replace(names[1].encode(), "李四1".encode(), 1)
    assert tampered != old
    wire = gzip.compress(tampered)
    before = _hub_state(hub, station_id)
    now = _hub_ms(hub)
    path = f"/stations/{station_id}/push"
    captured_headers, captured_body = wiretap.pushes[0]
    attempts: list[tuple[str, bytes, dict[str, str]]] = [
        ("no credential", wire, {}),
        (
            "another station's credential",
            wire,
            {
                sp.CALL_HEADER: sp.sign_call(
                    station_id, "POST", path, wire, now, secrets.token_hex(16), _key(other)
                )
            },
        ),
        (
            "a replayed credential, with its own body",
            captured_body,
            {sp.CALL_HEADER: captured_headers[sp.CALL_HEADER]},
        ),
        (
            "a replayed credential, with the tampered body",
            wire,
            {sp.CALL_HEADER: captured_headers[sp.CALL_HEADER]},
        ),
        (
            "a valid credential for the genuine body",
            wire,
            {
                sp.CALL_HEADER: sp.sign_call(
                    station_id,
                    "POST",
                    path,
                    gzip.compress(old),
                    now,
                    secrets.token_hex(16),
                    _key(st),
                )
            },
        ),
    ]
    for n, (label, body, headers) in enumerate(attempts, start=1):
        answer = _post(hub, station_id, body, headers)
        assert answer.status_code in (400, 401), (label, answer.status_code, answer.text)
        assert answer.json()["error"]["code"].startswith("call_"), (label, answer.text)
        assert _hub_state(hub, station_id) == before, label
        assert _refused(hub, station_id) == n, label

    # the same tampered batch on a USB stick (its digests made to match): refused, counted
    forged = tmp_path / "forged.kgb"
    forged.write_bytes(
        write_bundle(
            station=station_id,
            hub="hub",
            direction="to_hub",
            epoch=1,
            first=1,
            last=3,
            parts=[("batch", tampered)],
        )
    )
    result = _import(hub, forged)
    assert result.exit_code != 0 and "refused" in result.output, result.output
    assert _hub_state(hub, station_id) == before
    assert _refused(hub, station_id) == len(attempts) + 1
    assert _refused(hub, other.station_id) == 0

    # the station's next real sync succeeds, and the hub shows nothing against it
    st.worker(name="王五")
    out = st.sync()
    assert out.pushed == 1 and out.rejection is None and out.blocked is None
    with hub.ctx():
        from central_hub.models import Station as HubStation

        assert not HubStation.get_by_id(station_id).frozen
    assert st.status()["last_error"] is None


class SkewedDateSession(requests.Session):
    """Replies whose Date header is an hour behind the hub's clock (a proxy that rewrites it)."""

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        response = super().request(method, url, *args, **kwargs)
        if "Date" in response.headers:
            when = email.utils.parsedate_to_datetime(response.headers["Date"]) - dt.timedelta(
                hours=1
            )
            response.headers["Date"] = email.utils.format_datetime(when, usegmt=True)
        return response


def test_a_station_with_a_wrong_idea_of_the_hub_time_signs_again_with_the_hubs(
    hub: Hub, enrolled: Any
) -> None:
    st = enrolled(hub, "east")
    st.worker()
    st.activate()
    out = client.sync_once(st.app, HubClient(hub.url, session=SkewedDateSession()))
    assert out.pushed == st.entries() and out.rejection is None
    assert (
        _refused(hub, st.station_id) == 1
    )  # the stale call, refused and counted; then the good one
    with hub.ctx():
        from central_hub.models import Station as HubStation

        assert not HubStation.get_by_id(st.station_id).frozen
