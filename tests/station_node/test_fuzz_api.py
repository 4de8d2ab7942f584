"""No 500 on any input to the station's JSON API: hostile bodies by hand, then the whole API
fuzzed from its own OpenAPI document with schemathesis (signed in, on real records), every
answer a documented status with a body matching the document."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
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
from web_helpers import (
    ADMIN_PASSWORD,
    Api,
    create_staff,
    employer_body,
    job_body,
    make_web_app,
    worker_body,
    worker_token,
)

from kuaigong import clock
from station_node import db
from station_node.models import ChangeEntry, Employer, Job, Worker

# Tuesday 2025-05-06 09:00 station time (UTC+8): every date below is computed from it.
T0 = dt.datetime(2025, 5, 6, 1, 0, 0)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# Examples per operation and generation mode: the whole API in well under a minute on 2 cores.
EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def pinned(tmp_path: Any) -> Iterator[Flask]:
    """The station on a fresh database with its clock pinned at T0."""
    app = make_web_app(tmp_path, EVENTS_STREAM_SECONDS=0.05)  # event streams end at once
    clock.install(app, clock.ManualClock(T0))
    yield app
    if not db.database.is_closed():
        db.database.close()


def _tomorrow_job(employer_id: str, **over: Any) -> dict[str, Any]:
    day = (T0 + dt.timedelta(hours=8, days=1)).date()
    return job_body(employer_id, **{"starts_at": f"{day}T08:00", "ends_at": f"{day}T17:00", **over})


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context(), db.database.connection_context():
        return {
            "workers": Worker.select().count(),
            "employers": Employer.select().count(),
            "jobs": Job.select().count(),
            "changes": ChangeEntry.select().count(),
        }


def _world(app: Flask, api: Api) -> dict[str, str]:
    """Real records for the fuzzer's path parameters: a job with a grab, an offer, a complaint."""
    employer = api.post("/employers", employer_body()).get_json()["employer"]["id"]
    workers = []
    for _ in range(3):
        worker = api.post("/workers", worker_body()).get_json()["worker"]["id"]
        assert api.post(f"/workers/{worker}/checkin").status_code == 200
        workers.append(worker)
    job = api.post("/jobs", _tomorrow_job(employer, headcount=2)).get_json()["job"]["id"]
    grabbed = api.post(f"/jobs/{job}/grab", {"worker_id": workers[0]})
    assert grabbed.status_code == 201, grabbed.get_json()
    day = (T0 + dt.timedelta(hours=8, days=1)).date()
    offered = api.post(
        "/jobs",
        _tomorrow_job(
            employer,
            dispatch_mode="offer",
            title="派单岗位",
            starts_at=f"{day}T18:00",
            ends_at=f"{day}T20:00",
        ),
    )
    assert offered.status_code == 201, offered.get_json()
    complaint = api.post(
        "/complaints",
        {
            "by": "worker",
            "kind": "unpaid_wages",
            "text": "工钱一直没有结清",
            "job_id": job,
            "worker_id": workers[0],
        },
    )
    assert complaint.status_code == 201, complaint.get_json()
    return {
        "employer_id": employer,
        "worker_id": workers[1],
        "job_id": job,
        "assignment_id": grabbed.get_json()["assignment"]["id"],
        "offer_id": offered.get_json()["dispatch_state"]["offered"][0]["offer_id"],
        "complaint_id": complaint.get_json()["complaint"]["id"],
    }


# --- hostile bodies, by hand -------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


def _hostile_bodies(job: dict[str, Any]) -> list[tuple[str, bytes, tuple[int, ...], str]]:
    import json

    def with_(**over: Any) -> bytes:
        return json.dumps({**job, **over}).encode()

    plain = json.dumps(job)[1:-1].encode()
    return [
        ("deep nesting", DEEP, (400,), "body"),
        ("deep object", b'{"a":' * 30_000 + b"1" + b"}" * 30_000, (400,), "body"),
        (
            "deep inside a field",
            with_(title=None).replace(b'"title": null', b'"title": ' + DEEP),
            (400,),
            "body",
        ),
        ("not UTF-8", '{"title": "小区保洁"}'.encode("gb18030"), (400,), "body"),
        ("UTF-16", json.dumps(job).encode("utf-16"), (400,), "body"),
        ("scalar", b"42", (400,), "body"),
        ("string", b'"job"', (400,), "body"),
        ("array", b"[" + json.dumps(job).encode() + b"]", (400,), "body"),
        ("duplicate keys", b'{"title": "A", ' + plain + b"}", (422,), "title"),
        (
            "NaN",
            with_(pay_fen=None).replace(b'"pay_fen": null', b'"pay_fen": NaN'),
            (422,),
            "pay_fen",
        ),
        (
            "Infinity",
            with_(pay_fen=None).replace(b'"pay_fen": null', b'"pay_fen": -Infinity'),
            (422,),
            "pay_fen",
        ),
        (
            "1e400",
            with_(pay_fen=None).replace(b'"pay_fen": null', b'"pay_fen": 1e400'),
            (422,),
            "pay_fen",
        ),
        (
            "10**400",
            with_(pay_fen=None).replace(b'"pay_fen": null', b'"pay_fen": ' + str(10**400).encode()),
            (422,),
            "pay_fen",
        ),
        (
            "10**5000 in a list",
            with_(skills=None).replace(b'"skills": null', b'"skills": [' + b"9" * 5000 + b"]"),
            (422,),
            "skills",
        ),
        ("1e30 yuan", with_(pay_fen=1e30), (422,), "pay_fen"),
        ("10**30 fen", with_(pay_fen=10**30), (422,), "pay_fen"),
        ("string for a number", with_(headcount="两个"), (422,), "headcount"),
        ("number for a string", with_(title=12345), (422,), "title"),
        ("list for a string", with_(address=["a", "b"]), (422,), "address"),
        ("object for a choice", with_(category={"x": 1}), (422,), "category"),
        ("bool for a number", with_(headcount=True), (422,), "headcount"),
        ("enormous", with_(description="岗" * 300_000), (413,), "body"),
    ]


def test_hostile_bodies_are_4xx_naming_the_field_and_write_nothing(pinned: Flask) -> None:
    api = Api(pinned.test_client(), create_staff(pinned, "admin", "admin", ADMIN_PASSWORD))
    employer = api.post("/employers", employer_body()).get_json()["employer"]["id"]
    assert api.post("/jobs", _tomorrow_job(employer)).status_code == 201  # the base body is good
    before = _counts(pinned)
    for name, raw, statuses, field in _hostile_bodies(_tomorrow_job(employer)):
        response = api.post("/jobs", data=raw, headers={"Content-Type": "application/json"})
        assert response.status_code in statuses, (
            name,
            response.status_code,
            response.get_data(as_text=True)[:300],
        )
        error = response.get_json()["error"]
        assert CHINESE.search(error["message"]), (name, error)
        if field:
            assert field in {f["field"] for f in error["fields"]}, (name, error)
        english = api.post(
            "/jobs", data=raw, headers={"Content-Type": "application/json", "Accept-Language": "en"}
        )
        assert english.status_code == response.status_code
        assert not CHINESE.search(english.get_json()["error"]["message"]), (
            name,
            english.get_json(),
        )
    assert _counts(pinned) == before


class _Tripwire(io.BytesIO):
    """A request body that records whether anyone read it."""

    touched = False

    def read(self, *args: Any) -> bytes:
        self.touched = True
        return super().read(*args)

    def readline(self, *args: Any) -> bytes:
        self.touched = True
        return super().readline(*args)


@pytest.mark.parametrize(
    "path", ["/jobs", "/workers", "/jobs/x/grab", "/assignments/x/cancel", "/complaints"]
)
@pytest.mark.parametrize("token", [None, "not-a-real-token"])
def test_unauthenticated_bodies_are_not_read(pinned: Flask, path: str, token: str | None) -> None:
    body = _Tripwire(DEEP)
    headers = {"Content-Type": "application/json"} | (
        {"Authorization": f"Bearer {token}"} if token else {}
    )
    response = pinned.test_client().post(
        "/api/v1" + path, input_stream=body, headers=headers, content_length=len(DEEP)
    )
    assert response.status_code == 401, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert not body.touched


def test_limits_are_set(pinned: Flask) -> None:
    assert 0 < pinned.config["MAX_CONTENT_LENGTH"] <= 1024 * 1024
    assert 0 < pinned.config["MAX_FORM_MEMORY_SIZE"] <= pinned.config["MAX_CONTENT_LENGTH"]
    assert 0 < pinned.config["MAX_FORM_PARTS"] <= 200


# --- the whole API, fuzzed from its document ------------------------------------------


def _fuzz(
    schema: Any, headers: dict[str, str], ids: dict[str, str], examples: int = EXAMPLES
) -> dict[str, list[str]]:
    """Run every operation in both generation modes; return failures by operation."""
    failures: dict[str, list[str]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [p.name for p in operation.path_parameters]
        real = {name: ids[name] for name in names if name in ids}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategies = [operation.as_strategy(generation_mode=mode, headers=headers)]
            if real:
                strategies.append(
                    operation.as_strategy(
                        generation_mode=mode, headers=headers, path_parameters=real
                    )
                )
            _run(operation.label, st.one_of(strategies), failures, examples)
    return failures


def _run(label: str, strategy: Any, failures: dict[str, list[str]], examples: int) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        try:
            case.call_and_validate(checks=CHECKS)
        except (Exception, BaseExceptionGroup) as exc:  # collect, keep fuzzing the other operations
            failures.setdefault(label, []).append(
                f"{case.formatted_path[:120]} body={str(case.body)[:200]!r}: {str(exc)[:600]}"
            )

    try:
        check()
    except (Exception, BaseExceptionGroup) as exc:  # e.g. a negative mode with nothing to generate
        if "Unsatisfiable" not in type(exc).__name__:
            failures.setdefault(label, []).append(repr(exc)[:600])


def test_schemathesis_finds_no_server_error_nor_undocumented_answer(pinned: Flask) -> None:
    token = create_staff(pinned, "admin", "admin", ADMIN_PASSWORD)
    api = Api(pinned.test_client(), token)
    ids = _world(pinned, api)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", pinned)
    started = time.monotonic()
    failures = _fuzz(schema, {"Authorization": f"Bearer {token}"}, ids)
    # A resident's own token reaches the worker paths (acting for themselves, 403 for others).
    worker = worker_token(api, ids["worker_id"])
    for label, found in _fuzz(
        schema, {"Authorization": f"Bearer {worker}"}, ids, EXAMPLES // 3
    ).items():
        failures.setdefault("worker token: " + label, []).extend(found)
    assert not failures, "\n".join(
        f"{op}: {msgs[0]} (+{len(msgs) - 1})" for op, msgs in failures.items()
    )
    assert time.monotonic() - started < 120


def test_the_document_says_what_the_code_does(pinned: Flask) -> None:
    """`source` has a default, so it is optional; cancelling or rejecting a job needs a reason."""
    api = Api(pinned.test_client(), create_staff(pinned, "admin", "admin", ADMIN_PASSWORD))
    doc = api.get("/openapi.json").get_json()
    schemas, paths = doc["components"]["schemas"], doc["paths"]
    assert "source" not in schemas["JobInput"]["required"]
    employer = api.post("/employers", employer_body()).get_json()["employer"]["id"]
    body = _tomorrow_job(employer)
    del body["source"]
    posted = api.post("/jobs", body)
    assert posted.status_code == 201, posted.get_json()
    job = posted.get_json()["job"]["id"]
    for action in ("cancel", "reject"):
        ref = paths[f"/jobs/{{job_id}}/{action}"]["post"]["requestBody"]["content"][
            "application/json"
        ]["schema"]["$ref"]
        assert "reason" in schemas[ref.rsplit("/", 1)[1]]["required"], action
    refused = api.post(f"/jobs/{job}/cancel", {})
    assert (
        refused.status_code == 422 and refused.get_json()["error"]["fields"][0]["field"] == "reason"
    )
