"""No 500 on any input to the hub's station API: hostile enrolment bodies by hand, then the API
fuzzed from its own OpenAPI document with schemathesis, pulls signed as a station signs them
and pushes carrying real signed batches as well as junk."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hub_helpers import StationLog, enrol_station, make_app
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from central_hub import db
from central_hub.models import Station, StationKey
from central_hub.models.calls import PushRefusal
from kuaigong import clock

# The hub's pinned time; the station's log is written a minute before it.
T0 = dt.datetime(2026, 5, 28, 20, 0, 0)
T0_MS = int(T0.replace(tzinfo=dt.UTC).timestamp() * 1000)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
EXAMPLES = 60
# A pushed batch is bytes on the wire, like any octet stream.
schemathesis.serializer.alias("application/x-kuaigong-batch", "application/octet-stream")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def hub(tmp_path: Any) -> Iterator[Flask]:
    """The hub on a SQLite file with its clock pinned at T0."""
    app, _ = make_app(tmp_path, "sqlite")
    clock.install(app, clock.ManualClock(T0))
    yield app
    if not db.database.is_closed():
        db.database.close()


def _issue_code(app: Flask, name: str = "西城驿站") -> str:
    from central_hub.services import stations

    with app.test_request_context(), db.database.connection_context():
        return str(
            stations.create_station(
                {"name": name, "district": "西城区", "community": name}, None
            ).code
        )


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context(), db.database.connection_context():
        return {
            "stations": Station.select().where(Station.status == "active").count(),
            "keys": StationKey.select().count(),
        }


DEEP = b"[" * 100_000 + b"]" * 100_000


def test_hostile_enrolment_bodies_are_4xx_naming_the_field(hub: Flask) -> None:
    code = _issue_code(hub)
    key = "ab" * 32
    good = {"code": code, "public_key": key}
    plain = json.dumps(good)[1:-1].encode()
    cases: list[tuple[str, bytes, int, str]] = [
        ("unclosed nesting", DEEP[:3000], 400, "body"),
        ("too long to read", DEEP, 413, "body"),
        ("deep under the limit", b"[" * 2000 + b"]" * 2000, 400, "body"),
        ("not UTF-8", '{"code": "注册码"}'.encode("gb18030"), 400, "body"),
        ("scalar", b"7", 400, "body"),
        ("array", b"[" + json.dumps(good).encode() + b"]", 400, "body"),
        ("duplicate keys", b'{"code": "x", ' + plain + b"}", 422, "code"),
        ("NaN", b'{"code": NaN, "public_key": "' + key.encode() + b'"}', 422, "code"),
        (
            "10**400",
            b'{"code": ' + str(10**400).encode() + b', "public_key": "' + key.encode() + b'"}',
            422,
            "code",
        ),
        (
            "number for a string",
            json.dumps({"code": 12345678, "public_key": key}).encode(),
            422,
            "code",
        ),
        (
            "list for the key",
            json.dumps({"code": code, "public_key": [key]}).encode(),
            422,
            "public_key",
        ),
        (
            "Arabic-Indic digits in the key",
            json.dumps({"code": code, "public_key": "٠" * 64}).encode(),
            422,
            "public_key",
        ),
        ("NUL in the code", json.dumps({"code": "\x00" * 20, "public_key": key}).encode(), 403, ""),
    ]
    before = _counts(hub)
    client = hub.test_client()
    for name, raw, status, field in cases:
        response = client.post("/api/v1/enroll", data=raw, content_type="application/json")
        assert response.status_code == status, (
            name,
            response.status_code,
            response.get_data(as_text=True)[:300],
        )
        error = response.get_json()["error"]
        assert CHINESE.search(error["message"]) and error["message_en"], (name, error)
        if field:
            assert field in {f["field"] for f in error.get("fields", [])}, (name, error)
    assert _counts(hub) == before
    assert client.post("/api/v1/enroll", json=good).status_code == 201  # the code was never spent


class _Tripwire(io.BytesIO):
    touched = False

    def read(self, *args: Any) -> bytes:
        self.touched = True
        return super().read(*args)


def test_an_oversized_enrolment_is_refused_unread(hub: Flask) -> None:
    body = _Tripwire(b"{" * 100_000)
    response = hub.test_client().post(
        "/api/v1/enroll", input_stream=body, content_length=100_000, content_type="application/json"
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["fields"][0]["field"] == "body"
    assert not body.touched


def test_every_hub_api_route_is_documented(hub: Flask) -> None:
    doc = hub.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    missing = []
    for rule in hub.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if method.lower() not in doc["paths"].get(path, {}):
                missing.append(f"{method} {path}")
    assert not missing, missing


# --- fuzzed from the document -----------------------------------------------------------


def _station(app: Flask) -> tuple[StationLog, list[bytes]]:
    """An enrolled station and three real signed batches of its log (1-2, 3-4, 5-6)."""
    log = enrol_station(app)
    log.wall = T0_MS - 60_000
    for n in range(6):
        log.add(
            "worker",
            f"w{n}",
            "create",
            {
                "name": f"王{n}",
                "id_hash": f"{n:064x}",
                "id_masked": "110105********002X",
                "mobile": "13800000000",
                "skills": ["cleaning"],
                "created_at": "2026-03-01T08:00:00Z",
            },
        )
    return log, [log.batch(1, 2), log.batch(3, 4), log.batch(5, 6)]


def _sign_pull(case: Any, log: StationLog) -> None:
    """Most pulls carry the station's real signature of the `after` the fuzzer chose."""
    after = (case.query or {}).get("after")
    if (
        case.path_parameters.get("station_id") == log.station_id
        and isinstance(after, str)
        and re.fullmatch(r"[0-9]{1,15}", after)
        and int(after) % 4 != 3
    ):
        case.headers = {**(case.headers or {}), "X-Kuaigong-Auth": log.pull_auth(int(after), T0_MS)}


def _sign_push(case: Any, log: StationLog) -> None:
    """Most pushes to the real station carry its signed call over the body the fuzzer chose."""
    body = case.body
    if (
        case.path_parameters.get("station_id") == log.station_id
        and isinstance(body, bytes)
        and case.formatted_path.endswith("/push")
        and len(body) % 4 != 3
    ):
        case.headers = {**(case.headers or {}), **log.call(body, T0_MS)}


def _strategies(operation: Any, mode: GenerationMode, log: StationLog, batches: list[bytes]) -> Any:
    options = [operation.as_strategy(generation_mode=mode)]
    if "station_id" in {p.name for p in operation.path_parameters}:
        real = {"station_id": log.station_id}
        options.append(operation.as_strategy(generation_mode=mode, path_parameters=real))
        if operation.path.endswith("/push") and mode == GenerationMode.POSITIVE:
            options += [
                operation.as_strategy(generation_mode=mode, path_parameters=real, body=b)
                for b in batches
            ]
        if operation.path.endswith("/hub-log") and mode == GenerationMode.POSITIVE:
            options.append(
                operation.as_strategy(
                    generation_mode=mode, path_parameters=real, query={"after": "0"}
                )
            )
    return st.one_of(options)


def _run(
    label: str,
    strategy: Any,
    log: StationLog,
    failures: dict[str, list[str]],
    seen: dict[str, set[int]],
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        _sign_pull(case, log)
        _sign_push(case, log)
        try:
            response = case.call_and_validate(checks=CHECKS)
            seen.setdefault(label, set()).add(response.status_code)
        except (Exception, BaseExceptionGroup) as exc:
            failures.setdefault(label, []).append(
                f"{case.formatted_path[:120]} body={str(case.body)[:150]!r}: {str(exc)[:600]}"
            )

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:
        if "Unsatisfiable" not in type(exc).__name__:
            failures.setdefault(label, []).append(repr(exc)[:600])


def test_schemathesis_finds_no_server_error_nor_undocumented_answer(hub: Flask) -> None:
    log, batches = _station(hub)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", hub)
    started = time.monotonic()
    failures: dict[str, list[str]] = {}
    seen: dict[str, set[int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _run(operation.label, _strategies(operation, mode, log, batches), log, failures, seen)
    assert not failures, "\n".join(
        f"{op}: {msgs[0]} (+{len(msgs) - 1})" for op, msgs in failures.items()
    )
    assert time.monotonic() - started < 90
    # The fuzz reached the paths that matter, not only the refusals: real batches applied, signed
    # pulls served, unsigned ones refused.
    assert 200 in seen["POST /stations/{station_id}/push"], seen
    assert {200, 401} <= seen["GET /stations/{station_id}/hub-log"], seen
    with hub.app_context(), db.database.connection_context():
        assert Station.get_by_id(log.station_id).head_seq >= 2
        # junk and unsigned pushes were refused and counted, and none of them is evidence
        assert PushRefusal.get_by_id(log.station_id).count > 0
        assert not Station.get_by_id(log.station_id).frozen


@pytest.mark.parametrize(
    "value", ["9" * 30, "-" + "9" * 25, "１２", "١٢٣", "²", "--5", " 12 ", "1e9", "\x00"]
)
def test_push_headers_of_any_shape_never_break_the_push(hub: Flask, value: str) -> None:
    log, batches = _station(hub)
    response = hub.test_client().post(
        f"/api/v1/stations/{log.station_id}/push",
        data=batches[0],
        headers={
            "X-Kuaigong-Wall": value,
            "X-Kuaigong-Pending": value,
            **log.call(batches[0], hub),
        },
        content_type="application/x-kuaigong-batch",
    )
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.get_json()["verdict"] == "apply"


def test_form_limits_are_set(hub: Flask) -> None:
    assert 0 < hub.config["MAX_FORM_MEMORY_SIZE"] <= 64 * 1024
    assert 0 < hub.config["MAX_FORM_PARTS"] <= 200


def test_an_enormous_push_is_413_naming_the_body(hub: Flask) -> None:
    log, _ = _station(hub)
    response = hub.test_client().post(
        f"/api/v1/stations/{log.station_id}/push",
        data=b"x" * (5 * 1024 * 1024),
        content_type="application/x-kuaigong-batch",
    )
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert CHINESE.search(error["message"]) and error["message_en"]
    assert [f["field"] for f in error["fields"]] == ["body"]
