"""Bad input on every API endpoint: a 4xx JSON error naming what was wrong, in Chinese, never a 500,
and nothing half-written."""

from __future__ import annotations

import re

import pytest
from web_helpers import Api, employer_body, job_body, worker_body

from station_node import db
from station_node.models import ChangeEntry, Employer, Job, Worker

CHINESE = re.compile(r"[\u4e00-\u9fff]")

# Values that are wrong for almost any field.
WRONG_VALUES = [None, 10**12, -1, 3.5, True, [], {}, ["x"], {"a": 1}, "", "x" * 5000, "\x00"]
# Bodies that are not a JSON object at all.
NOT_OBJECTS = [b"not json", b"{", b"[1, 2]", b'"text"', b"42", b"null", b"\xff\xfe\x00"]


def _counts(app) -> dict[str, int]:
    with app.app_context(), db.database.connection_context():
        return {
            "workers": Worker.select().count(),
            "employers": Employer.select().count(),
            "jobs": Job.select().count(),
            "changes": ChangeEntry.select().count(),
        }


def _assert_error(response, statuses=(400, 409, 422), field: str | None = None) -> dict:
    assert response.status_code in statuses, (
        response.status_code,
        response.get_data(as_text=True)[:300],
    )
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] and isinstance(error["fields"], list)
    assert CHINESE.search(error["message"]), error
    if field is not None:
        named = {f["field"].split(".")[0].split("[")[0] for f in error["fields"]}
        assert field in named, (field, error)
        for f in error["fields"]:
            assert f["code"] and CHINESE.search(f["message"]), f
    return error


@pytest.fixture
def world(api: Api, employer_id: str, worker_ids: list[str]) -> dict[str, str]:
    """A job with one grabbed assignment and a pending offer, to aim bad input at."""
    job = api.post("/jobs", job_body(employer_id, headcount=2)).get_json()["job"]
    assignment = api.post(f"/jobs/{job['id']}/grab", {"worker_id": worker_ids[0]}).get_json()[
        "assignment"
    ]
    offer_job = api.post(
        "/jobs",
        job_body(
            employer_id,
            dispatch_mode="offer",
            title="派单岗位",
            starts_at=job_body(employer_id)["starts_at"].replace("08:00", "18:00"),
            ends_at=job_body(employer_id)["ends_at"].replace("17:00", "20:00"),
        ),
    ).get_json()
    offer = offer_job["dispatch_state"]["offered"][0]
    return {
        "job": job["id"],
        "assignment": assignment["id"],
        "offer": offer["offer_id"],
        "worker": worker_ids[1],
        "employer": employer_id,
    }


def _post_endpoints(w: dict[str, str]) -> list[str]:
    return [
        "/workers",
        "/employers",
        "/jobs",
        f"/workers/{w['worker']}/checkin",
        f"/workers/{w['worker']}/token",
        f"/employers/{w['employer']}/block",
        f"/jobs/{w['job']}/release",
        f"/jobs/{w['job']}/reject",
        f"/jobs/{w['job']}/cancel",
        f"/jobs/{w['job']}/grab",
        f"/jobs/{w['job']}/assign",
        f"/offers/{w['offer']}/decline",
        f"/offers/{w['offer']}/accept",
        *(
            f"/assignments/{w['assignment']}/{a}"
            for a in ("complete", "settle", "rate", "cancel", "checkin", "no-show", "confirm-pay")
        ),
    ]


def test_every_post_endpoint_refuses_non_json_without_writing(web_app, api: Api, world):
    before = _counts(web_app)
    for path in _post_endpoints(world):
        for raw in NOT_OBJECTS:
            response = api.post(path, data=raw, headers={"Content-Type": "application/json"})
            assert response.status_code < 500, (path, raw)
            if raw.strip() not in (b"null",):
                _assert_error(response, statuses=(400,))
    assert _counts(web_app) == before


def test_every_post_endpoint_survives_wrong_types_in_every_field(web_app, api: Api, world):
    before = _counts(web_app)
    keys = [
        "name",
        "id_number",
        "mobile",
        "skills",
        "areas",
        "availability",
        "priority_groups",
        "consent",
        "kind",
        "credit_code",
        "employer_id",
        "title",
        "category",
        "headcount",
        "pay_fen",
        "pay_unit",
        "starts_at",
        "ends_at",
        "time_flexible",
        "dispatch_mode",
        "worker_id",
        "reason",
        "quantity",
        "pay_method",
        "stars",
        "by",
        "source",
    ]
    for path in _post_endpoints(world):
        if path.endswith(
            ("/release", "/decline", "/accept", "/checkin", "/no-show", "/confirm-pay", "/token")
        ):
            continue  # bodiless actions: covered by the state tests
        for value in WRONG_VALUES:
            body = {key: value for key in keys}
            response = api.post(path, body)
            assert response.status_code < 500, (path, value, response.get_data(as_text=True)[:200])
            assert response.status_code >= 400, (path, value, response.get_data(as_text=True)[:300])
            _assert_error(response, statuses=(400, 403, 404, 409, 422))
    assert _counts(web_app) == before


@pytest.mark.parametrize(
    ("path", "base", "field", "value"),
    [
        ("/workers", worker_body, "id_number", "11010519491231002Y"),  # wrong check character
        ("/workers", worker_body, "id_number", "110105194902300021"),  # impossible birth date
        ("/workers", worker_body, "mobile", "12345"),
        ("/workers", worker_body, "skills", ["flying"]),
        ("/workers", worker_body, "name", None),
        ("/workers", worker_body, "name", "名" * 500),
        ("/workers", worker_body, "priority_groups", ["veteran"]),  # no consent
        ("/employers", employer_body, "credit_code", "91110105MA00000000"),
        ("/employers", employer_body, "kind", "alien"),
        ("/employers", employer_body, "mobile", "010-1234"),
    ],
)
def test_registration_names_the_bad_field(web_app, api: Api, path, base, field, value):
    before = _counts(web_app)
    body = base()
    body[field] = value
    _assert_error(
        api.post(path, body),
        statuses=(422,),
        field=field if field != "priority_groups" else "consent",
    )
    assert _counts(web_app) == before


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"headcount": 0}, "headcount"),
        ({"headcount": "three"}, "headcount"),
        ({"pay_fen": -100}, "pay_fen"),
        ({"pay_fen": 10**12}, "pay_fen"),
        ({"pay_fen": 12.5}, "pay_fen"),
        ({"pay_unit": "week"}, "pay_unit"),
        ({"category": "space"}, "category"),
        ({"starts_at": "2030-01-02T10:00", "ends_at": "2030-01-02T08:00"}, "ends_at"),
        ({"starts_at": "tomorrow"}, "starts_at"),
        ({"skills": ["cleaning", 7]}, "skills"),
        ({"dispatch_mode": "lottery"}, "dispatch_mode"),
        ({"employer_id": "nobody"}, "employer_id"),
    ],
)
def test_job_posting_names_the_bad_field(web_app, api: Api, employer_id, over, field):
    before = _counts(web_app)
    body = job_body(employer_id)
    body.update(over)
    error = _assert_error(api.post("/jobs", body), statuses=(404, 422))
    if error["fields"]:
        assert field in {f["field"] for f in error["fields"]}, error
    assert _counts(web_app) == before


def test_every_field_wrong_at_once_is_reported_together(api: Api):
    error = _assert_error(api.post("/jobs", {}), statuses=(422,))
    named = {f["field"] for f in error["fields"]}
    assert {"title", "category", "headcount", "pay_fen", "pay_unit"} <= named


def test_lifecycle_bad_values(api: Api, world):
    aid = world["assignment"]
    _assert_error(
        api.post(f"/assignments/{aid}/rate", {"by": "employer", "stars": 9}), statuses=(409, 422)
    )
    _assert_error(api.post(f"/assignments/{aid}/rate", {"by": "boss", "stars": 3}), field="by")
    _assert_error(
        api.post(f"/assignments/{aid}/settle", {"pay_fen": "lots", "pay_method": "gold"}),
        statuses=(409, 422),
    )
    _assert_error(api.post(f"/assignments/{aid}/cancel", {"by": 7}), field="by")
    _assert_error(api.post(f"/jobs/{world['job']}/grab", {"worker_id": 42}), field="worker_id")
    _assert_error(api.post(f"/jobs/{world['job']}/grab", {}), field="worker_id")
    _assert_error(api.post(f"/jobs/{world['job']}/reject", {"reason": ["x"]}), field="reason")
    _assert_error(api.post(f"/jobs/{world['job']}/release"), statuses=(409,))


def test_unknown_ids_are_404_in_chinese(api: Api):
    for path in ("/workers/nope", "/jobs/nope", "/employers/nope"):
        _assert_error(api.get(path), statuses=(404,))
    for path in (
        "/jobs/nope/grab",
        "/offers/nope/accept",
        "/assignments/nope/checkin",
        "/workers/nope/checkin",
        "/jobs/nope/release",
    ):
        _assert_error(api.post(path, {"worker_id": "nope"}), statuses=(404,))


def test_unknown_route_wrong_method_and_oversized_body(api: Api):
    _assert_error(api.get("/no-such-thing"), statuses=(404,))
    wrong = api.client.delete("/api/v1/jobs", headers={"Authorization": f"Bearer {api.token}"})
    _assert_error(wrong, statuses=(405,))
    assert "POST" in wrong.headers["Allow"]
    huge = api.post(
        "/workers",
        data=b'{"name": "' + b"x" * 300_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    _assert_error(huge, statuses=(413,))


def test_bad_status_filter(api: Api):
    _assert_error(api.get("/jobs?status=flying"), statuses=(422,), field="status")
