"""Sealed ID numbers: masked everywhere; an admin opens one with a purpose, sees it once, and the
opening is logged; auditors get 403 and only the masked number."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import add_admin, enrol_station, login, post_form

from central_hub import clock, db, keys
from central_hub.models import IdAccess, Issue

NUMBER = "11010519900101002X"
MASKED = "110105********002X"


def _person(app: Flask, stations: int = 1) -> str:
    """Workers with one sealed ID number registered at `stations` stations; returns its hash."""
    with app.app_context():
        id_hash, seal_key, wall = keys.hash_id(NUMBER), keys.seal_public_key(), clock.now_ms()
    for n in range(stations):
        log = enrol_station(app, f"驿站{n}")
        log.wall = wall - 60_000
        log.add("worker", f"w{n}", "create", {"name": "王芳", "id_hash": id_hash, "id_masked": MASKED,
                                             "id_sealed": keys.seal(NUMBER, seal_key)})
        answer = app.test_client().post(f"/api/v1/stations/{log.station_id}/push", data=log.batch(1, 1))
        assert answer.status_code == 200, answer.get_data(as_text=True)
    return id_hash


def _accesses(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context(), db.database.connection_context():
        return [(a.admin.username, a.id_hash, a.purpose) for a in IdAccess.select().order_by(IdAccess.id)]


def test_an_admin_opens_the_number_once_with_a_purpose_and_it_is_logged(
        app: Flask, admin_client: FlaskClient) -> None:
    id_hash = _person(app, stations=2)
    with app.app_context(), db.database.connection_context():
        merge = Issue.get(Issue.kind == "merge")
    assert f"/people/{id_hash}" in admin_client.get(f"/reconcile/{merge.id}").get_data(as_text=True)

    page = admin_client.get(f"/people/{id_hash}").get_data(as_text=True)
    assert MASKED in page and NUMBER not in page and 'name="purpose"' in page

    missing = post_form(admin_client, f"/people/{id_hash}/reveal", {"purpose": "  "})
    assert missing.status_code == 422 and 'data-field="purpose"' in missing.get_data(as_text=True)
    assert NUMBER not in missing.get_data(as_text=True)
    assert _accesses(app) == []

    opened = post_form(admin_client, f"/people/{id_hash}/reveal", {"purpose": "核实工伤赔付身份"})
    assert opened.status_code == 200
    assert NUMBER in opened.get_data(as_text=True)
    assert "no-store" in opened.headers["Cache-Control"]
    assert _accesses(app) == [("chen", id_hash, "核实工伤赔付身份")]

    again = admin_client.get(f"/people/{id_hash}").get_data(as_text=True)
    assert NUMBER not in again and "核实工伤赔付身份" in again  # shown once; the log stays


def test_auditors_see_only_the_masked_number_and_get_403(app: Flask) -> None:
    id_hash = _person(app)
    add_admin(app, "li", role="auditor")
    auditor = app.test_client()
    login(auditor, "li")
    page = auditor.get(f"/people/{id_hash}").get_data(as_text=True)
    assert MASKED in page and NUMBER not in page and 'name="purpose"' not in page
    refused = post_form(auditor, f"/people/{id_hash}/reveal", {"purpose": "好奇"})
    assert refused.status_code == 403 and NUMBER not in refused.get_data(as_text=True)
    assert _accesses(app) == []


def test_unknown_person_is_a_named_404(admin_client: FlaskClient) -> None:
    response = post_form(admin_client, f"/people/{'0' * 64}/reveal", {"purpose": "核实"})
    assert response.status_code == 404
