"""Enrolling stations: one-time codes that expire, keys registered, revoked and rotated."""

from __future__ import annotations

import re
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import post_form

from central_hub import db, keys
from central_hub.models import HubLogEntry, Station, StationKey
from kuaigong import clock


def new_public_key() -> str:
    private = Ed25519PrivateKey.generate()
    return (
        private.public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def create_station(client: FlaskClient, name: str = "东城驿站") -> tuple[str, str]:
    """Create a station on the admin page; return (station id, code) as the page shows them."""
    page = post_form(
        client, "/stations", {"name": name, "district": "东城区", "community": "和平里"}
    )
    assert page.status_code == 201, page.get_data(as_text=True)
    text = page.get_data(as_text=True)
    code = re.search(r'data-code="([A-Z0-9-]+)"', text).group(1)
    station_id = re.search(r"（(st[0-9a-f]+)）", text).group(1)
    return station_id, code


def enroll(client: FlaskClient, code: str, public_key: str | None = None) -> Any:
    return client.post(
        "/api/v1/enroll", json={"code": code, "public_key": public_key or new_public_key()}
    )


def test_a_code_enrols_once_and_answers_the_hubs_keys(
    app: Flask, admin_client: FlaskClient
) -> None:
    station_id, code = create_station(admin_client)
    key = new_public_key()
    first = enroll(admin_client, code, key)
    assert first.status_code == 201, first.get_data(as_text=True)
    body = first.get_json()
    with app.app_context():
        assert body["hub_public_key"] == keys.hub_public_key()
        assert body["id_hash_key"] == keys.id_hash_key().hex()
    assert body["station_id"] == station_id and body["head_seq"] == 0

    again = enroll(admin_client, code)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "enrolment_code_used"
    assert "只能用一次" in again.get_json()["error"]["message"]

    with app.app_context(), db.database.connection_context():
        assert Station.get_by_id(station_id).status == "active"
        assert [k.public_key for k in StationKey.select()] == [key]
        logged = HubLogEntry.get(HubLogEntry.entity == "station_key")
        assert logged.op == "create" and logged.fields["public_key"] == key


def test_an_expired_code_is_refused_and_nothing_is_registered(
    app: Flask, admin_client: FlaskClient
) -> None:
    manual = clock.ManualClock()
    clock.install(app, manual)
    _, code = create_station(admin_client)
    manual.advance(24 * 3600 + 1)
    answer = enroll(admin_client, code)
    assert answer.status_code == 410
    assert answer.get_json()["error"]["code"] == "enrolment_code_expired"
    with app.app_context(), db.database.connection_context():
        assert StationKey.select().count() == 0


def test_bad_enrolment_requests_name_what_was_wrong(admin_client: FlaskClient) -> None:
    unknown = enroll(admin_client, "AAAA-BBBB-CCCC")
    assert (
        unknown.status_code == 403
        and unknown.get_json()["error"]["code"] == "enrolment_code_unknown"
    )
    bad = admin_client.post("/api/v1/enroll", json={"code": "", "public_key": "zz"})
    assert bad.status_code == 422
    assert {f["field"] for f in bad.get_json()["error"]["fields"]} == {"code", "public_key"}
    not_json = admin_client.post("/api/v1/enroll", data="code=1", content_type="text/plain")
    assert not_json.status_code == 400 and not_json.get_json()["error"]["code"] == "invalid_json"


def test_station_form_with_missing_fields_lists_each(admin_client: FlaskClient) -> None:
    page = post_form(
        admin_client, "/stations", {"name": " ", "district": "", "community": "和平里"}
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert 'data-field="name"' in text and 'data-field="district"' in text
    assert "请填写驿站名称" in text


def test_revoke_then_rotate_keys(app: Flask, admin_client: FlaskClient) -> None:
    station_id, code = create_station(admin_client)
    first_key = new_public_key()
    assert enroll(admin_client, code, first_key).status_code == 201

    no_reason = post_form(
        admin_client, f"/stations/{station_id}/revoke", {"reason": "", "after_seq": "x"}
    )
    assert no_reason.status_code == 422
    revoked = post_form(
        admin_client, f"/stations/{station_id}/revoke", {"reason": "设备丢失", "after_seq": "7"}
    )
    assert revoked.status_code == 302
    with app.app_context(), db.database.connection_context():
        key = StationKey.get(StationKey.public_key == first_key)
        assert (key.status, key.revoked_after_seq) == ("revoked", 7)
        entry = HubLogEntry.select().order_by(HubLogEntry.seq.desc()).first()
        assert (entry.op, entry.fields["after_seq"]) == ("revoke", 7)

    page = post_form(admin_client, f"/stations/{station_id}/rotate", {})
    assert page.status_code == 201
    rotation = re.search(r'data-code="([A-Z0-9-]+)"', page.get_data(as_text=True)).group(1)
    second_key = new_public_key()
    assert enroll(admin_client, rotation, second_key).status_code == 201
    with app.app_context(), db.database.connection_context():
        statuses = {k.public_key: k.status for k in StationKey.select()}
        assert statuses == {first_key: "revoked", second_key: "active"}
    watch = admin_client.get("/").get_data(as_text=True)
    assert station_id in watch and "正常" in watch and "有效" in watch
