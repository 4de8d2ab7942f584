"""No one without a station's key can freeze it (docs/sync-protocol.md, section 12).

A hub server in a process of its own, over HTTP, on SQLite and on PostgreSQL. Pushes without
the station's signed call, with another station's, with a replayed one, with a body other than
the signed one, or carrying entries the station's key did not sign (over HTTP or in a bundle
through `kuaigong hub import-bundle`) are refused, change nothing and are counted. A batch the
station's key provably signed with a broken chain, and two signed checkpoints that disagree,
still freeze it with evidence.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hub_helpers import PASSWORD, StationLog, add_admin, csrf_token, make_app, server_ms
from pg_helpers import drop_schema

import sync_protocol as sp
from central_hub import create_app, db
from central_hub.models import AppliedEntry, Evidence, HeldBatch, Issue, Receipt, Station
from central_hub.models.calls import CallNonce, PushRefusal
from central_hub.services import stations
from sync_protocol.bundles import write_bundle

ROOT = Path(__file__).resolve().parents[2]


class HubServer:
    """tests/central_hub/hub_server.py in a subprocess, and an app on the same database."""

    def __init__(self, tmp: Path, engine: str) -> None:
        self.app, self.schema = make_app(tmp, engine)  # migrated; its config names the database
        self.config = {
            k: v
            for k, v in self.app.config.items()
            if k
            in ("DATA_DIR", "TESTING", "DATABASE_URL", "DATABASE_SCHEMA", "PASSWORD_HASH_METHOD")
        }
        db.database.close()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).with_name("hub_server.py")),
                json.dumps(self.config),
            ],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("port "), line
        self.url = f"http://127.0.0.1:{int(line.split()[1])}"

    def query(self, fn: Any) -> Any:
        """Run `fn()` against the hub's database."""
        app = create_app(self.config)
        with app.test_request_context(), db.database.connection_context():
            return fn()

    def enrol(self, name: str) -> StationLog:
        """A station created by an admin and enrolled over HTTP; its log starts a minute ago."""
        issued = self.query(
            lambda: stations.create_station(
                {"name": name, "district": "东城区", "community": name}, None
            )
        )
        log = StationLog(issued.station.id, wall_ms=server_ms(self.url) - 60_000)
        answer = requests.post(
            f"{self.url}/api/v1/enroll",
            timeout=10,
            json={"code": issued.code, "public_key": log.key.public_key.hex()},
        )
        assert answer.status_code == 201, answer.text
        return log

    def push(
        self, station_id: str, body: bytes, headers: dict[str, str] | None = None
    ) -> requests.Response:
        return requests.post(
            f"{self.url}/api/v1/stations/{station_id}/push",
            data=body,
            timeout=30,
            headers={"Content-Type": "application/x-kuaigong-batch", **(headers or {})},
        )

    def signed_push(self, log: StationLog, body: bytes) -> requests.Response:
        return self.push(log.station_id, body, log.call(body, server_ms(self.url)))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if not db.database.is_closed():
            db.database.close()
        if self.schema:
            drop_schema(self.schema)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubServer]:
    server = HubServer(tmp_path, request.param)
    try:
        yield server
    finally:
        server.close()


def _state(hub: HubServer, station_id: str) -> tuple[Any, ...]:
    """Everything a push could change for the station, except the refusal counter."""

    def read() -> tuple[Any, ...]:
        st = Station.get_by_id(station_id)
        return (
            (
                st.epoch,
                st.head_seq,
                st.head_hash,
                st.frozen,
                st.last_error,
                st.last_contact_at,
                st.pending_reported,
                st.clock_offset_ms,
            ),
            AppliedEntry.select().where(AppliedEntry.station == station_id).count(),
            Evidence.select().where(Evidence.station == station_id).count(),
            HeldBatch.select().where(HeldBatch.station == station_id).count(),
            Issue.select().where(Issue.subject == station_id).count(),
            Receipt.select().where(Receipt.station == station_id).count(),
            CallNonce.select().where(CallNonce.station == station_id).count(),
        )

    return hub.query(read)  # type: ignore[no-any-return]


def _refused(hub: HubServer, station_id: str) -> int:
    row = hub.query(lambda: PushRefusal.get_or_none(PushRefusal.station == station_id))
    return row.count if row else 0


def _log_with_history(hub: HubServer) -> tuple[StationLog, bytes]:
    """A station that pushed entries 1-3 for real; returns it and that old batch."""
    log = hub.enrol("东城驿站")
    for i in range(3):
        log.add("worker", f"w{i}", "create", {"name": f"王芳{i}", "id_hash": f"{i:064x}"})
    old = log.batch(1, 3)
    answer = hub.signed_push(log, old)
    assert answer.status_code == 200 and answer.json()["verdict"] == "apply", answer.text
    return log, old


def _tamper(batch: bytes) -> bytes:
    """One character changed inside an entry."""
    changed = batch.replace("王芳1".encode(), "王芳7".encode())
    assert changed != batch and len(changed) == len(batch)
    return changed


def test_a_tampered_old_batch_is_refused_whoever_sends_it_and_changes_nothing(
    hub: HubServer,
) -> None:
    log, old = _log_with_history(hub)
    other = hub.enrol("西城驿站")
    tampered = _tamper(old)
    before = _state(hub, log.station_id)
    now = server_ms(hub.url)

    attempts = [
        ("no credential", {}, 401, "call_missing"),
        ("garbage credential", {sp.CALL_HEADER: "6b67"}, 401, "call_invalid"),
        (
            "another station's credential",
            other.call(tampered, now, station_id=log.station_id),
            401,
            "call_invalid",
        ),
        ("a credential for another station's door", other.call(tampered, now), 401, "call_invalid"),
        (
            "a credential from outside the window",
            log.call(tampered, now - 3_600_000),
            401,
            "call_stale",
        ),
        ("a valid credential for the genuine body", log.call(old, now), 400, "call_body_mismatch"),
    ]
    for n, (label, headers, status, code) in enumerate(attempts, start=1):
        answer = hub.push(log.station_id, tampered, headers)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), (
            label,
            answer.text,
        )
        assert "receipt" not in answer.json(), label  # nothing signed for bytes that are not theirs
        assert _state(hub, log.station_id) == before, label
        assert _refused(hub, log.station_id) == n, label

    # a captured call replayed, with its genuine body and with a tampered one
    log.add("worker", "w3", "create", {"name": "赵六", "id_hash": f"{3:064x}"})
    fresh = log.batch(4, 4)
    captured = log.call(fresh, server_ms(hub.url))
    assert hub.push(log.station_id, fresh, captured).json()["verdict"] == "apply"
    after_apply = _state(hub, log.station_id)
    for body in (fresh, _tamper(fresh.replace("赵六".encode(), "王芳1".encode()))):
        answer = hub.push(log.station_id, body, captured)
        assert answer.status_code in (400, 401) and answer.json()["error"]["code"] in (
            "call_replayed",
            "call_body_mismatch",
        ), answer.text
        assert _state(hub, log.station_id) == after_apply
    assert _refused(hub, log.station_id) == len(attempts) + 2
    assert _refused(hub, other.station_id) == 0

    # the station's own next push goes through
    log.add("worker", "w4", "create", {"name": "钱七", "id_hash": f"{4:064x}"})
    answer = hub.signed_push(log, log.batch(5, 5))
    assert (answer.status_code, answer.json()["verdict"], answer.json()["accepted_seq"]) == (
        200,
        "apply",
        5,
    )
    assert not hub.query(lambda: Station.get_by_id(log.station_id).frozen)


def _signed_broken(log: StationLog) -> bytes:
    """Entries 4 and 5 in the wrong order under a checkpoint the station's key signs over
    exactly those bytes: its own batch, provably, with a broken chain."""
    for i in (3, 4):
        log.add("worker", f"w{i}", "create", {"name": f"新{i}", "id_hash": f"{i:064x}"})
    body = log.raws[4] + b"\n" + log.raws[3] + b"\n"
    return (
        sp.sign_checkpoint(
            station=log.station_id,
            epoch=1,
            seq=5,
            head=sp.entry_hash(log.raws[3]),
            hlc=sp.Hlc(log.wall, 5),
            key=log.key,
            entries=sp.entries_digest(body),
        )
        + body
    )


def test_a_signed_batch_whose_own_entries_break_the_chain_freezes_with_evidence(
    hub: HubServer,
) -> None:
    log, _ = _log_with_history(hub)
    broken = _signed_broken(log)
    answer = hub.signed_push(log, broken)
    assert answer.json()["error"]["code"] == "broken_chain", answer.text
    st = hub.query(lambda: Station.get_by_id(log.station_id))
    assert st.frozen and "broken_chain" in st.frozen_reason
    evidence = hub.query(lambda: list(Evidence.select().where(Evidence.station == log.station_id)))
    assert [e.reason for e in evidence] == ["broken_chain"] and bytes(evidence[0].body) == broken
    assert (
        hub.query(
            lambda: (
                Issue.select()
                .where((Issue.subject == log.station_id) & (Issue.kind == "rejected"))
                .count()
            )
        )
        == 1
    )
    assert _refused(hub, log.station_id) == 0


def test_two_signed_checkpoints_that_disagree_freeze_with_both(hub: HubServer) -> None:
    log, _ = _log_with_history(hub)
    rewritten = StationLog(log.station_id, log.key, log.wall - 2_000)
    for i in range(3):
        rewritten.add("worker", f"w{i}", "create", {"name": f"改写{i}", "id_hash": f"{i:064x}"})
    answer = hub.signed_push(log, rewritten.batch(1, 3))
    assert answer.json()["error"]["code"] == "fork", answer.text
    assert hub.query(lambda: Station.get_by_id(log.station_id).frozen)
    fork = hub.query(
        lambda: Evidence.get((Evidence.station == log.station_id) & (Evidence.kind == "fork"))
    )
    assert fork.details["accepted_checkpoint"] and fork.details["conflicting_checkpoint"]
    assert fork.details["accepted_checkpoint"] != fork.details["conflicting_checkpoint"]


def _import(hub: HubServer, path: Path) -> subprocess.CompletedProcess:
    code = "from central_hub.cli import hub; hub()"
    return subprocess.run(
        [sys.executable, "-c", code, "import-bundle", "--data", hub.config["DATA_DIR"], str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env=_cli_env(hub),
    )


def _cli_env(hub: HubServer) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if hub.config.get("DATABASE_URL"):
        env.update(
            KUAIGONG_HUB_DATABASE_URL=hub.config["DATABASE_URL"],
            KUAIGONG_HUB_DATABASE_SCHEMA=hub.config["DATABASE_SCHEMA"],
        )
    return env


def test_bundles_follow_the_same_rule(hub: HubServer, tmp_path: Path) -> None:
    log, old = _log_with_history(hub)
    legacy = sp.sign_batch(log.raws[:3], log.key, sp.Hlc(log.wall, 9), covering=False)
    before = _state(hub, log.station_id)
    for n, batch in enumerate((_tamper(old), _tamper(legacy)), start=1):  # digests made to match
        stick = tmp_path / f"tampered-{n}.kgb"
        stick.write_bytes(
            write_bundle(
                station=log.station_id,
                hub="hub",
                direction="to_hub",
                epoch=1,
                first=1,
                last=3,
                parts=[("batch", batch)],
            )
        )
        out = _import(hub, stick)
        assert "refused" in out.stdout + out.stderr, out.stdout + out.stderr
        assert _state(hub, log.station_id) == before
        assert _refused(hub, log.station_id) == n

    # a bundle of the station's own batch whose signed entries break the chain freezes it
    broken = _signed_broken(log)
    stick = tmp_path / "broken.kgb"
    stick.write_bytes(
        write_bundle(
            station=log.station_id,
            hub="hub",
            direction="to_hub",
            epoch=1,
            first=4,
            last=5,
            parts=[("batch", broken)],
        )
    )
    out = _import(hub, stick)
    assert "broken_chain" in out.stdout + out.stderr, out.stdout + out.stderr
    st = hub.query(lambda: Station.get_by_id(log.station_id))
    assert st.frozen, st.frozen_reason
    assert (
        hub.query(lambda: Evidence.select().where(Evidence.station == log.station_id).count()) == 1
    )


def test_the_station_page_shows_the_refused_pushes(hub: HubServer) -> None:
    log, old = _log_with_history(hub)
    for _ in range(3):
        assert hub.push(log.station_id, _tamper(old)).status_code == 401
    app = create_app(hub.config)
    with app.app_context(), db.database.connection_context():
        add_admin(app)
    client = app.test_client()
    token = csrf_token(client)
    client.post("/login", data={"username": "chen", "password": PASSWORD, "csrf_token": token})
    page = client.get(f"/stations/{log.station_id}").get_data(as_text=True)
    assert "拒收的非本站推送" in page and "<strong>3</strong>" in page and "call_missing" in page
    english = client.get(f"/stations/{log.station_id}", headers={"Accept-Language": "en"}).get_data(
        as_text=True
    )
    assert "Pushes refused as not this station" in english or "拒收的非本站推送" in english
