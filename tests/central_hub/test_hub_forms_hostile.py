"""Hostile values in every admin form of the hub: never a 500, and a refused post leaves every
table as it was. The routes come from the app's url_map, so a form added later is attacked too."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import add_admin, csrf_token, enrol_station, login, make_app

import central_hub
from central_hub import db
from kuaigong import clock

T0 = dt.datetime(2026, 5, 28, 20, 0, 0)
# A refused sign-in is meant to count itself; nothing else may change on a refusal.
COUNTERS = {"signin_throttle", "signin_failure", "signin_lock"}
SKIP = {"/logout"}
LAST = {"/login"}

HOSTILE = [
    "x" * 3000,
    "名" * 1000,
    "\x00",
    "北京\x00驿站",
    "\x07\x1b[31m\x7f\x85",
    "\u202e驿站\u202d",
    "东城\u200b驿站",
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
    "2025-02-30T08:00",
    "2025-05-07T25:61",
    "alien",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%s%n{0}",
    "../../etc/passwd",
    "http://evil.example/",
    "\r\nLocation: http://evil.example/",
    "",
]
ONE_AT_A_TIME = [
    "x" * 3000,
    "\x00",
    "\u202e东城",
    "²",
    "١٢",
    "-5",
    "9" * 40,
    "1e30",
    "alien",
    "\r\nX: y",
    "",
]


def _template_fields() -> set[str]:
    names: set[str] = set()
    for path in Path(central_hub.__file__).parent.joinpath("templates").rglob("*.html"):
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
    "district",
    "community",
    "reason",
    "after_seq",
    "decision",
    "note",
    "keep",
    "kind",
    "title",
    "text",
    "credit_code",
    "id_number",
    "hotline",
    "phrase",
    "phrase_kind",
    "purpose",
    "username",
    "password",
    "year",
    "value",
    "field",
}
STATUSES: set[int] = set()


@pytest.fixture
def walk(tmp_path: Any) -> Iterator[tuple[Flask, FlaskClient, dict[str, str]]]:
    """The hub on SQLite pinned at T0, an enrolled station, a rule, a signed-in admin."""
    app, _ = make_app(tmp_path, "sqlite")
    clock.install(app, clock.ManualClock(T0))
    add_admin(app)
    log = enrol_station(app)
    client = app.test_client()
    login(client)
    made = client.post(
        "/rules/",
        data={
            "kind": "announcement",
            "title": "春节期间暂停派工",
            "text": "除夕至初三驿站休息",
            "csrf_token": csrf_token(client, "/"),
        },
    )
    assert made.status_code in (302, 303), made.get_data(as_text=True)[:300]
    ids = {
        "station_id": log.station_id,
        "rule_id": "1",
        "issue_id": "1",
        "row_id": "1",
        "id_hash": "0" * 64,
    }
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
    urls = []
    for rule in app.url_map.iter_rules():
        if (
            "POST" not in (rule.methods or set())
            or rule.rule.startswith("/api/")
            or rule.rule in SKIP
        ):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", ids.get(name, "nonexistent"), url)
        urls.append(url)
    return sorted(set(urls), key=lambda u: (u in LAST, u))


def _post(
    app: Flask, client: FlaskClient, url: str, data: dict[str, Any], failures: list[str]
) -> None:
    before = _counts(app)
    response = client.post(url, data=data)
    shown = repr({k: str(v)[:20] for k, v in list(data.items())[:3]})
    STATUSES.add(response.status_code)
    if response.status_code >= 500:
        failures.append(f"{url} {shown}: {response.status_code}")
        return
    location = response.headers.get("Location", "")
    if url not in LAST and "/login" in location:
        failures.append(f"{url} {shown}: the session was lost")
    if "\n" in location or "evil" in location:
        failures.append(f"{url} {shown}: redirected to {location[:60]!r}")
    if response.status_code >= 400 and _counts(app) != before:
        failures.append(f"{url} {shown}: refused ({response.status_code}) but wrote rows")


def test_hostile_values_in_every_admin_form(
    walk: tuple[Flask, FlaskClient, dict[str, str]],
) -> None:
    app, client, ids = walk
    token = csrf_token(client, "/")
    failures: list[str] = []
    urls = _urls(app, ids)
    assert {"/stations", "/rules/", f"/stations/{ids['station_id']}/restart"} <= set(urls)
    for url in urls:
        _post(app, client, url, {"csrf_token": token}, failures)
        for value in HOSTILE:
            _post(
                app,
                client,
                url,
                {"csrf_token": token, **{name: value for name in FIELDS}},
                failures,
            )
    assert not failures, "\n".join(failures[:40])
    # The walk reached refusals and successes, signed in throughout.
    assert STATUSES & {400, 404, 422} and STATUSES & {302, 303}, STATUSES


def test_one_hostile_field_in_an_otherwise_valid_form(
    walk: tuple[Flask, FlaskClient, dict[str, str]],
) -> None:
    app, client, ids = walk
    token = csrf_token(client, "/")
    failures: list[str] = []
    forms = {
        "/stations": {"name": "西城驿站", "district": "西城区", "community": "西长安街"},
        "/rules/": {"kind": "announcement", "title": "通知", "text": "明天驿站照常开门"},
        f"/stations/{ids['station_id']}/revoke": {"reason": "钥匙丢失", "after_seq": "0"},
        f"/stations/{ids['station_id']}/restart": {"reason": "已从备份恢复"},
        "/people/": {"id_number": "110105198001010019"},
        f"/people/{ids['id_hash']}/reveal": {"purpose": "核对工伤保险"},
    }
    for url, form in forms.items():
        for name in form:
            for value in ONE_AT_A_TIME:
                _post(app, client, url, {"csrf_token": token, **form, name: value}, failures)
    for kind in (
        "blocked_employer",
        "blocked_intermediary",
        "service_rules",
        "hotline",
        "screening_phrase",
    ):
        for value in ONE_AT_A_TIME:
            data = {
                "csrf_token": token,
                "kind": kind,
                **{name: value for name in FIELDS if name != "kind"},
            }
            _post(app, client, "/rules/", data, failures)
    assert not failures, "\n".join(failures[:40])


@pytest.mark.parametrize(
    "target",
    [
        "/\r\nLocation: http://evil.example/",
        "/\\evil.example/",
        "//evil.example/",
        "http://evil.example/",
        "/\x00",
        "/stations\u202e",
    ],
)
def test_sign_in_never_sends_an_admin_elsewhere(tmp_path: Any, target: str) -> None:
    app, _ = make_app(tmp_path, "sqlite")
    add_admin(app)
    client = app.test_client()
    from hub_helpers import PASSWORD

    response = client.post(
        "/login",
        query_string={"next": target},
        data={"username": "chen", "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    location = response.headers["Location"]
    assert "evil" not in location and "\n" not in location and location.startswith("/"), location


QUERY = [
    "q",
    "status",
    "year",
    "lang",
    "next",
    "page",
    "after",
    "limit",
    "day",
    "kind",
    "station",
    "district",
]


def test_hostile_query_strings_on_every_page(
    walk: tuple[Flask, FlaskClient, dict[str, str]],
) -> None:
    """Every GET route (pages, CSV/XLSX exports, API) with hostile values in the usual query
    names."""
    app, client, ids = walk
    failures = []
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.rule in SKIP:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", ids.get(name, "nonexistent"), url)
        for value in HOSTILE:
            response = client.get(url, query_string={name: value for name in QUERY})
            if response.status_code >= 500 or "evil" in response.headers.get("Location", ""):
                failures.append(f"{url} {value[:20]!r}: {response.status_code}")
    assert not failures, "\n".join(failures[:40])
