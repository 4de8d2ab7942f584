"""Hostile values in every form of the station (staff console, kiosk): never a 500, and a
refused post leaves every table as it was. The routes are found by walking the app's url_map,
so a form added later is attacked too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_helpers import (
    ADMIN_PASSWORD,
    Api,
    create_staff,
    csrf_token,
    employer_body,
    id_number,
    job_body,
    make_web_app,
    worker_body,
    worker_token,
)

import station_node
from kuaigong import clock
from station_node import db

# Tuesday 2025-05-06 09:00 station time (UTC+8).
T0 = dt.datetime(2025, 5, 6, 1, 0, 0)
DAY = (T0 + dt.timedelta(hours=8, days=1)).date()
# Tables that a refused sign-in is meant to write (the failure counter), and none other.
COUNTERS = {"signin_throttle"}
# Sign-out would end the session the walk runs in; sign-in pages are walked last.
SKIP = {"/console/logout", "/kiosk/signout"}
LAST = {"/console/login", "/kiosk/signin"}

HOSTILE = [
    "x" * 3000,
    "名" * 1000,
    "\x00",
    "保洁\x00工",
    "\x07\x1b[31m\x7f\x85",
    "\u202e工人\u202d",
    "李\u200b四\ufeff",
    "²",
    "١٢٣",
    "۱۲",
    "３",
    "-1",
    "-99999999999999999999",
    "9" * 400,
    "1e30",
    "NaN",
    "Infinity",
    "0",
    "9999-12-31",
    "0001-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2025-02-30T08:00",
    "2025-05-07T25:61",
    "2025-05-07T08:00:00+99:00",
    "alien",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%n{0}",
    "../../etc/passwd",
    "http://evil.example/",
    "\r\nLocation: http://evil.example/",
    "",
]
# Fewer values, one field at a time, on otherwise valid forms: reaches the deeper checks.
ONE_AT_A_TIME = [
    "x" * 3000,
    "\x00",
    "\u202e李",
    "²",
    "١٢",
    "-5",
    "9" * 40,
    "1e30",
    "9999-12-31T08:00",
    "0001-01-01T08:00",
    "2025-02-30T08:00",
    "alien",
    "\r\nX: y",
]


def _template_fields() -> set[str]:
    """Every input name the station's templates write."""
    names: set[str] = set()
    for path in Path(station_node.__file__).parent.joinpath("templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        names |= set(re.findall(r'name="([a-z_]+)"', text))
        names |= set(
            re.findall(
                r"""(?:field|input|select|checkbox|textarea)\w*\(\s*['"]([a-z_]+)['"]""", text
            )
        )
    return names - {"csrf_token", "viewport"}


FIELDS = _template_fields() | {
    "name",
    "id_number",
    "mobile",
    "skills",
    "areas",
    "priority_groups",
    "avail_days",
    "avail_from",
    "avail_to",
    "consent_given",
    "consent_purpose",
    "kind",
    "contact_name",
    "address",
    "credit_code",
    "employer_id",
    "title",
    "category",
    "description",
    "headcount",
    "pay_unit",
    "community",
    "term",
    "urgency",
    "source",
    "source_department",
    "dispatch_mode",
    "time_flexible",
    "insurance_required",
    "starts_at",
    "ends_at",
    "pay_yuan",
    "reason",
    "back",
    "worker_id",
    "by",
    "stars",
    "quantity",
    "pay_method",
    "text",
    "job_id",
    "resolution",
    "purpose",
    "username",
    "password",
    "display_name",
    "role",
    "token",
    "phrase",
    "phrase_kind",
    "q",
}
STATUSES: dict[str, set[int]] = {}
ACTIONS = {
    "action": [
        "release",
        "reject",
        "cancel",
        "assign",
        "checkin",
        "no-show",
        "complete",
        "settle",
        "confirm-pay",
        "rate",
        "nonsense",
    ],
    "answer": ["accept", "decline", "nonsense"],
}


@pytest.fixture
def walk(tmp_path: Any) -> Iterator[tuple[Flask, FlaskClient, dict[str, str]]]:
    """The station pinned at T0 with real records, a console session and a kiosk sign-in."""
    app = make_web_app(tmp_path)
    clock.install(app, clock.ManualClock(T0))
    api = Api(app.test_client(), create_staff(app, "admin", "admin", ADMIN_PASSWORD))
    employer = api.post("/employers", employer_body()).get_json()["employer"]["id"]
    workers = []
    for _ in range(3):
        worker = api.post("/workers", worker_body()).get_json()["worker"]["id"]
        api.post(f"/workers/{worker}/checkin")
        workers.append(worker)
    job = api.post(
        "/jobs", job_body(employer, headcount=2, starts_at=f"{DAY}T08:00", ends_at=f"{DAY}T17:00")
    )
    assert job.status_code == 201, job.get_json()
    job_id = job.get_json()["job"]["id"]
    grabbed = api.post(f"/jobs/{job_id}/grab", {"worker_id": workers[0]}).get_json()["assignment"][
        "id"
    ]
    offered = api.post(
        "/jobs",
        job_body(
            employer,
            dispatch_mode="offer",
            title="派单岗位",
            starts_at=f"{DAY}T18:00",
            ends_at=f"{DAY}T20:00",
        ),
    ).get_json()
    complaint = api.post(
        "/complaints",
        {
            "by": "worker",
            "kind": "unpaid_wages",
            "text": "工钱一直没有结清",
            "job_id": job_id,
            "worker_id": workers[0],
        },
    ).get_json()["complaint"]["id"]
    kiosk_token = worker_token(api, workers[0])
    ids = {
        "employer_id": employer,
        "worker_id": workers[1],
        "job_id": job_id,
        "assignment_id": grabbed,
        "offer_id": offered["dispatch_state"]["offered"][0]["offer_id"],
        "complaint_id": complaint,
        "phrase_id": "1",
        "row_id": "1",
    }
    client = app.test_client()
    token = csrf_token(client, "/console/login")
    signed = client.post(
        "/console/login",
        data={"username": "admin", "password": ADMIN_PASSWORD, "csrf_token": token},
    )
    assert signed.status_code == 302
    kiosk = client.post(
        "/kiosk/signin",
        data={"token": kiosk_token, "csrf_token": csrf_token(client, "/kiosk/signin")},
    )
    assert kiosk.status_code == 302, kiosk.get_data(as_text=True)[:300]
    yield app, client, ids
    if not db.database.is_closed():
        db.database.close()


def _counts(app: Flask) -> dict[str, int]:
    with app.app_context(), db.database.connection_context():
        return {
            table: db.database.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
            for table in db.database.get_tables()
            if table not in COUNTERS
        }


def _urls(app: Flask, ids: dict[str, str]) -> list[str]:
    """Every POST route outside the JSON API, with real ids (and every action word) filled in."""
    urls: list[str] = []
    for rule in app.url_map.iter_rules():
        if (
            "POST" not in (rule.methods or set())
            or rule.rule.startswith("/api/")
            or rule.rule in SKIP
        ):
            continue
        filled = [rule.rule]
        for name in rule.arguments:
            values = ACTIONS.get(name) or [ids.get(name, "nonexistent-id")]
            filled = [re.sub(rf"<(?:[^:>]+:)?{name}>", v, u) for u in filled for v in values]
        urls += filled
    return sorted(set(urls), key=lambda u: (u in LAST, u))


def _refused(client: FlaskClient, status: int) -> bool:
    """A 4xx, or a redirect that flashed an error (the buttons' way of saying no)."""
    with client.session_transaction() as session:
        flashes = session.pop("_flashes", [])
    return status >= 400 or any(kind == "error" for kind, _ in flashes)


def _post(
    app: Flask, client: FlaskClient, url: str, data: dict[str, Any], failures: list[str]
) -> None:
    before = _counts(app)
    response = client.post(url, data=data)
    shown = repr({k: str(v)[:20] for k, v in list(data.items())[:3]})
    if response.status_code >= 500:
        failures.append(f"{url} {shown}: {response.status_code}")
        return
    location = response.headers.get("Location", "")
    if url not in LAST and ("/console/login" in location or "/kiosk/signin" in location):
        failures.append(
            f"{url} {shown}: the session was lost ({location})"
        )  # the walk would prove nothing
    STATUSES[url.split("/")[1]] = STATUSES.get(url.split("/")[1], set()) | {response.status_code}
    if "\n" in location or "\r" in location or location.startswith(("http://evil", "//")):
        failures.append(f"{url} {shown}: redirected to {location[:60]!r}")
    if _refused(client, response.status_code) and _counts(app) != before:
        failures.append(f"{url} {shown}: refused ({response.status_code}) but wrote rows")


def test_hostile_values_in_every_form(walk: tuple[Flask, FlaskClient, dict[str, str]]) -> None:
    app, client, ids = walk
    token = csrf_token(client, "/console/")
    failures: list[str] = []
    urls = _urls(app, ids)
    assert {"/console/workers/new", "/console/jobs/new", "/kiosk/complain"} <= set(urls)
    for url in urls:
        _post(app, client, url, {"csrf_token": token}, failures)  # every field missing
        for value in HOSTILE:
            _post(
                app,
                client,
                url,
                {"csrf_token": token, **{name: value for name in FIELDS}},
                failures,
            )
    assert not failures, "\n".join(failures[:40])
    # The walk reached the forms' own refusals and the buttons' outcomes, signed in throughout.
    assert {302, 404, 422} <= STATUSES["console"] and 302 in STATUSES["kiosk"], STATUSES


def _valid_forms(ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        "/console/workers/new": {
            "name": "周建国",
            "id_number": id_number(),
            "mobile": "13800138000",
            "skills": "cleaning",
            "areas": "团结湖社区",
            "avail_days": "1",
            "avail_from": "08:00",
            "avail_to": "18:00",
        },
        "/console/employers/new": {
            "kind": "organisation",
            **{k: v for k, v in employer_body().items() if k != "kind"},
        },
        "/console/jobs/new": {
            **{
                k: str(v)
                for k, v in job_body(ids["employer_id"]).items()
                if k not in ("pay_fen", "skills")
            },
            "pay_yuan": "25.50",
            "skills": "cleaning",
            "starts_at": f"{DAY}T09:00",
            "ends_at": f"{DAY}T12:00",
        },
        "/console/complaints/new": {
            "by": "worker",
            "kind": "unpaid_wages",
            "text": "工钱一直没有结清",
            "job_id": ids["job_id"],
            "worker_id": ids["worker_id"],
        },
        "/kiosk/complain": {
            "kind": "unpaid_wages",
            "text": "工钱一直没有结清",
            "job_id": ids["job_id"],
        },
        f"/console/assignments/{ids['assignment_id']}/settle": {
            "pay_yuan": "180",
            "pay_method": "cash",
        },
        f"/console/assignments/{ids['assignment_id']}/rate": {"by": "worker", "stars": "5"},
    }


def test_one_hostile_field_in_an_otherwise_valid_form(
    walk: tuple[Flask, FlaskClient, dict[str, str]],
) -> None:
    app, client, ids = walk
    token = csrf_token(client, "/console/")
    failures: list[str] = []
    for url, form in _valid_forms(ids).items():
        for name in form:
            for value in ONE_AT_A_TIME:
                _post(app, client, url, {"csrf_token": token, **form, name: value}, failures)
    assert not failures, "\n".join(failures[:40])


@pytest.mark.parametrize(
    "target",
    [
        "/\r\nLocation: http://evil.example/",
        "/\\evil.example/",
        "//evil.example/",
        "http://evil.example/",
        "/\x00",
        "/console/\x7f",
    ],
)
def test_sign_in_never_sends_staff_elsewhere(tmp_path: Any, target: str) -> None:
    app = make_web_app(tmp_path)
    clock.install(app, clock.ManualClock(T0))
    create_staff(app, "admin", "admin", ADMIN_PASSWORD)
    client = app.test_client()
    response = client.post(
        "/console/login",
        query_string={"next": target},
        data={
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_token(client, "/console/login"),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    assert "evil" not in location and "\n" not in location and location.startswith("/"), location
    switched = client.get("/lang/en", query_string={"next": target})
    assert switched.status_code == 302 and "evil" not in switched.headers["Location"]


QUERY = [
    "q",
    "status",
    "year",
    "lang",
    "next",
    "then",
    "page",
    "after",
    "limit",
    "day",
    "kind",
    "date",
]


def test_hostile_query_strings_on_every_page(
    walk: tuple[Flask, FlaskClient, dict[str, str]],
) -> None:
    """Every GET route (pages, board, kiosk, API) with hostile values in the usual query names."""
    app, client, ids = walk
    failures = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(
                rf"<(?:[^:>]+:)?{name}>",
                ids.get(name, "en" if name == "code" else "nonexistent"),
                url,
            )
        for value in HOSTILE[2:]:
            response = client.get(url, query_string={name: value for name in QUERY})
            if response.status_code >= 500 or "evil" in response.headers.get("Location", ""):
                failures.append(f"{url} {value[:20]!r}: {response.status_code}")
    assert not failures, "\n".join(failures[:40])
