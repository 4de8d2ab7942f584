"""Sealed ID numbers: masked everywhere; an admin opens one with a purpose, sees it once, and the
opening is logged; auditors get 403 and only the masked number. Typed identifiers have one form
(the same cases as the station's, from tests/data/identifiers.json), and a person is found by
their ID number however it is typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import add_admin, enrol_station, login, post_form

from central_hub import db, keys
from central_hub.models import IdAccess, Issue
from central_hub.services import idnumbers
from kuaigong import clock
from kuaigong.errors import FieldErrors

VALID = "110105199001010029"  # NUMBER with its true check character
CASES = json.loads((Path(__file__).parents[1] / "data" / "identifiers.json").read_text("utf-8"))[
    "cases"
]

NUMBER = "11010519900101002X"
MASKED = "110105********002X"


def _person(app: Flask, stations: int = 1, number: str = NUMBER) -> str:
    """Workers with one sealed ID number registered at `stations` stations; returns its hash."""
    with app.app_context():
        id_hash, seal_key, wall = keys.hash_id(number), keys.seal_public_key(), clock.now_ms()
    for n in range(stations):
        log = enrol_station(app, f"驿站{n}")
        log.wall = wall - 60_000
        log.add(
            "worker",
            f"w{n}",
            "create",
            {
                "name": "王芳",
                "id_hash": id_hash,
                "id_masked": MASKED,
                "id_sealed": keys.seal(number, seal_key),
            },
        )
        body = log.batch(1, 1)
        answer = app.test_client().post(
            f"/api/v1/stations/{log.station_id}/push", data=body, headers=log.call(body, app)
        )
        assert answer.status_code == 200, answer.get_data(as_text=True)
    return id_hash


def _accesses(app: Flask) -> list[tuple[str, str, str]]:
    with app.app_context(), db.database.connection_context():
        return [
            (a.admin.username, a.id_hash, a.purpose)
            for a in IdAccess.select().order_by(IdAccess.id)
        ]


def test_an_admin_opens_the_number_once_with_a_purpose_and_it_is_logged(
    app: Flask, admin_client: FlaskClient
) -> None:
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


_NORMALISE = {
    "id": idnumbers.normalise_id_number,
    "mobile": idnumbers.normalise_mobile,
    "credit_code": idnumbers.normalise_credit_code,
}


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['kind']}: {c['note']}")
def test_typed_identifiers_have_the_same_one_form_as_at_the_station(case: dict) -> None:
    typed = _NORMALISE[case["kind"]](case["typed"])
    if case["normal"] is None:
        assert idnumbers.foreign_digits(typed), typed
    else:
        assert typed == case["normal"] and not idnumbers.foreign_digits(typed)
    if case["kind"] in ("id", "credit_code"):
        errs = FieldErrors()
        clean = idnumbers.clean_id_number if case["kind"] == "id" else idnumbers.clean_credit_code
        assert (clean(case["typed"], errs, "n") is not None) == case["valid"]
        assert bool(errs) != case["valid"] and all(e.field == "n" for e in errs.errors)
        if case["normal"] is None:
            assert [e.code for e in errs.errors] == ["non_ascii_digit"]


def test_width_folding_is_not_nfkc() -> None:
    assert idnumbers.fold_width("１２３ＡＢｘ\u3000－") == "123ABx -"
    assert idnumbers.fold_width("²③١𝟏Ⅷ") == "²③١𝟏Ⅷ"


def test_a_full_width_number_hashes_like_the_ascii_one(app: Flask) -> None:
    with app.app_context():
        ascii_hash = keys.hash_id(NUMBER)
        for case in CASES:
            if case["kind"] == "id" and case["normal"] == "11010519491231002X":
                assert idnumbers.hash_id_number(case["typed"]) == keys.hash_id(case["normal"])
        assert idnumbers.hash_id_number("１１０１０５ １９９００１０１ ００２ｘ") == ascii_hash


def test_a_person_is_found_by_their_id_number_however_typed(
    app: Flask, admin_client: FlaskClient
) -> None:
    id_hash = _person(app, number=VALID)
    assert "人员查询" in admin_client.get("/people/").get_data(as_text=True)
    for typed in (
        VALID,
        "１１０１０５１９９００１０１００２９",
        " 110105-19900101-0029 ",
        "110105\u200b199001010029",
    ):
        found = post_form(admin_client, "/people/", {"id_number": typed})
        assert found.status_code == 303, found.get_data(as_text=True)
        assert found.headers["Location"].endswith(f"/people/{id_hash}")


@pytest.mark.parametrize(
    "typed", ["11010519900101002²", "١١٠١٠٥199001010029", "110105199001010021", ""]
)
def test_a_bad_number_in_the_person_lookup_names_the_field(
    app: Flask, admin_client: FlaskClient, typed: str
) -> None:
    _person(app, number=VALID)
    response = post_form(admin_client, "/people/", {"id_number": typed})
    assert response.status_code == 422
    assert 'data-field="id_number"' in response.get_data(as_text=True)


def test_a_valid_number_nobody_registered_is_a_404(admin_client: FlaskClient) -> None:
    response = post_form(admin_client, "/people/", {"id_number": "110105198001010016"})
    assert response.status_code == 404
    assert "找不到" in response.get_data(as_text=True)
