"""City rules for screening: a hub admin adds screening phrases for every station, and blocks
employers by credit code and/or resident ID number — the number kept only as the city's keyed
hash, as stations compute it. Each rule goes out in the hub's signed log; withdrawing it too."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from hub_helpers import add_admin, login, post_form
from stdnum.cn import ric, uscc

from central_hub import db, keys
from central_hub.models import CityRule, Employer, HubLogEntry
from central_hub.services import rules

ID_NUMBER = "110105198001010019"[:17] + ric.calc_check_digit("110105198001010019"[:17] + "0")
CREDIT = "91110105MA0000777" + uscc.calc_check_digit("91110105MA0000777")


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" or "A" <= c <= "Z" else c for c in text)


def _last_entry(app: Flask) -> HubLogEntry:
    with app.app_context(), db.database.connection_context():
        return HubLogEntry.select().order_by(HubLogEntry.seq.desc()).get()


def _rules(app: Flask, kind: str) -> list[CityRule]:
    with app.app_context(), db.database.connection_context():
        return list(CityRule.select().where(CityRule.kind == kind).order_by(CityRule.id))


def _fields(response: object) -> set[str]:
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return set(re.findall(r'data-field="([^"]+)"', page))


def test_a_screening_phrase_goes_to_every_station_normalised(
    app: Flask, admin_client: FlaskClient
) -> None:
    page = admin_client.get("/rules/").get_data(as_text=True)
    assert "词语类别（筛查词语用）" in page and "诱骗性用语" in page
    added = post_form(
        admin_client,
        "/rules/",
        {"kind": "screening_phrase", "phrase_kind": "asks_for_money", "phrase": " 会员　激活金！ "},
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    entry = _last_entry(app)
    assert (entry.entity, entry.op, entry.targets) == ("city_rule", "create", None)
    assert entry.fields == {
        "kind": "screening_phrase",
        "phrase_kind": "asks_for_money",
        "phrase": "会员激活金",
        "typed": "会员　激活金！",
    }
    (rule,) = _rules(app, "screening_phrase")
    assert (rule.title, rule.hub_seq, rule.active) == ("会员激活金", entry.seq, True)

    listed = admin_client.get("/rules/").get_data(as_text=True)
    assert "筛查词语" in listed and "向劳动者收钱（押金、各类费用）：会员激活金" in listed
    english = admin_client.get("/rules/?lang=en").get_data(as_text=True)
    assert "Screening phrase" in english and "Asks workers for money (deposits, fees)" in english
    admin_client.get("/rules/?lang=zh_CN")  # back to Chinese for the rest

    # the same phrase typed another way is refused, naming the field; nothing new in the log
    again = post_form(
        admin_client,
        "/rules/",
        {
            "kind": "screening_phrase",
            "phrase_kind": "asks_for_money",
            "phrase": "ＡＢ会员激活金"[2:],
        },
    )
    assert again.status_code == 422 and _fields(again) == {"phrase"}
    assert "全市词库中已有该词语" in again.get_data(as_text=True)
    assert _last_entry(app).seq == entry.seq

    # withdrawing it is a log entry of its own
    assert post_form(admin_client, f"/rules/{rule.id}/withdraw", {}).status_code == 302
    withdrawn = _last_entry(app)
    assert (withdrawn.entity_id, withdrawn.op) == (str(rule.id), "delete")
    assert not _rules(app, "screening_phrase")[0].active


def test_bad_screening_phrases_are_refused_naming_each_field(
    app: Flask, admin_client: FlaskClient
) -> None:
    cases = [
        ({"phrase_kind": "", "phrase": "会员激活金"}, {"phrase_kind"}),
        ({"phrase_kind": "pay_far_above_going_rate", "phrase": "会员激活金"}, {"phrase_kind"}),
        ({"phrase_kind": "bait_wording", "phrase": ""}, {"phrase"}),
        ({"phrase_kind": "bait_wording", "phrase": "！ ？。"}, {"phrase"}),
        ({"phrase_kind": "bait_wording", "phrase": "钱"}, {"phrase"}),
        ({"phrase_kind": "bait_wording", "phrase": "费" * 33}, {"phrase"}),
        ({"phrase_kind": "bait_wording", "phrase": "费" * 65}, {"phrase"}),
    ]
    for data, named in cases:
        response = post_form(admin_client, "/rules/", {"kind": "screening_phrase", **data})
        assert response.status_code == 422, data
        assert _fields(response) == named, data
    assert _rules(app, "screening_phrase") == []


def test_a_block_by_id_number_keeps_only_the_keyed_hash(
    app: Flask, admin_client: FlaskClient
) -> None:
    with app.app_context():
        expected = keys.hash_id(ID_NUMBER)
    typed = _full_width(ID_NUMBER[:6]) + " " + ID_NUMBER[6:]  # full-width digits and a space
    added = post_form(
        admin_client,
        "/rules/",
        {
            "kind": "blocked_employer",
            "name": "王某（个人）",
            "id_number": typed,
            "credit_code": "",
            "reason": "收取押金",
        },
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    entry = _last_entry(app)
    assert entry.fields["id_hash"] == expected and entry.fields["credit_code"] is None
    (rule,) = _rules(app, "blocked_employer")
    assert rule.body["id_hash"] == expected
    for stored in (str(entry.fields), entry.raw, str(rule.body), rule.title):
        assert ID_NUMBER not in stored and ID_NUMBER[6:14] not in stored  # not even the birth date
    page = admin_client.get("/rules/").get_data(as_text=True)
    assert expected[:12] in page and ID_NUMBER not in page

    bad = post_form(
        admin_client,
        "/rules/",
        {"kind": "blocked_employer", "name": "李某", "id_number": "110105", "reason": "收取押金"},
    )
    assert bad.status_code == 422 and _fields(bad) == {"id_number"}
    assert len(_rules(app, "blocked_employer")) == 1


def test_a_block_by_credit_code_is_normalised_and_blocks_the_hubs_copy(
    app: Flask, admin_client: FlaskClient
) -> None:
    with app.app_context(), db.database.connection_context():
        Employer.create(
            id="e-1", station="st-1", kind="organisation", name="某劳务", credit_code=CREDIT
        )
        Employer.create(id="e-2", station="st-2", kind="person", name="王某", id_hash="a" * 64)
    typed = " " + CREDIT.lower() + " "
    added = post_form(
        admin_client,
        "/rules/",
        {"kind": "blocked_employer", "name": "某劳务", "credit_code": typed, "reason": "收取押金"},
    )
    assert added.status_code == 302, added.get_data(as_text=True)
    assert _last_entry(app).fields["credit_code"] == CREDIT
    with app.app_context(), db.database.connection_context():
        rules.add_rule(
            "blocked_employer", {"name": "王某", "id_hash": "A" * 64, "reason": "扣押身份证"}, None
        )
        assert [e.id for e in Employer.select().where(Employer.blocked).order_by(Employer.id)] == [
            "e-1",
            "e-2",
        ]
    bad = post_form(
        admin_client,
        "/rules/",
        {"kind": "blocked_employer", "name": "某", "credit_code": "123", "reason": "收取押金"},
    )
    assert bad.status_code == 422 and _fields(bad) == {"credit_code"}


def test_auditors_cannot_add_rules(app: Flask) -> None:
    add_admin(app, "zhou", "auditor")
    client = app.test_client()
    login(client, "zhou")
    refused = post_form(
        client,
        "/rules/",
        {"kind": "screening_phrase", "phrase_kind": "bait_wording", "phrase": "锦鲤岗位"},
    )
    assert refused.status_code == 403
    assert _rules(app, "screening_phrase") == []
