"""The English catalog: every station string has an English text, it is compiled, pages use it."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask
from web_helpers import console_client

from station_node import station_state as state

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "station_node" / "translations" / "en" / "LC_MESSAGES"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _po() -> list[tuple[str, str]]:
    with open(CATALOG / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    return [(str(m.id), str(m.string)) for m in catalog if m.id and not m.fuzzy]


def test_no_english_text_is_missing_or_fuzzy() -> None:
    with open(CATALOG / "messages.po", "rb") as fh:
        catalog = read_po(fh)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    assert not catalog.obsolete


def test_every_string_in_the_code_is_in_the_catalog() -> None:
    with open(ROOT / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    found = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(ROOT), method_map, options_map)
    }
    assert found, "nothing extracted: babel.cfg patterns do not match"
    assert sorted(found - {msgid for msgid, _ in _po()}) == []


def test_compiled_catalog_matches_the_po_file() -> None:
    with open(CATALOG / "messages.mo", "rb") as fh:
        compiled = read_mo(fh)
    assert {str(m.id): str(m.string) for m in compiled if m.id} == dict(_po())


def test_sync_page_in_english(web_app: Flask, admin_token: str) -> None:
    client = console_client(web_app)
    client.get("/lang/en?next=/console/sync")
    page = client.get("/console/sync").get_data(as_text=True)
    assert "kuaigong station enroll HUB_URL CODE" in page

    with web_app.app_context():
        state.save_enrolment(
            state.Enrolment("http://10.0.0.9:8090", "st-east", "东城", "hub", "00" * 32, "", "k")
        )
        state.update_status(
            reachable=True,
            accepted_seq=12,
            hub_seq=3,
            blocked="behind_receipt",
            rejection={
                "reason": "clock_drift",
                "zh": "驿站时钟与中心相差太大",
                "en": "The station clock is far off",
                "detail": "",
            },
            last_error={
                "code": "hub_unreachable",
                "zh": "连不上市级中心",
                "en": "The hub cannot be reached",
            },
            key_revoked={"reason": "lost", "after_seq": 1},
        )
    panel = client.get("/console/sync/panel").get_data(as_text=True)
    assert "Reachable" in panel and "Sync now" in panel
    assert "up to entry 12; hub log received up to entry 3" in panel
    assert "The station clock is far off" in panel and "The hub cannot be reached" in panel
    assert "signing key: lost." in panel
    assert not CJK.search(panel), CJK.findall(panel)


def test_named_date_formats_follow_the_language(web_app: Flask) -> None:
    from station_node.views import templating

    when = dt.datetime(2026, 5, 1, 2, 0)  # stored in UTC; the station shows its own time
    with web_app.test_request_context("/kiosk?lang=en"):
        english = templating.local(when, "day_time")
    with web_app.test_request_context("/kiosk"):
        chinese = templating.local(when, "day_time")
    assert re.fullmatch(r"May 01 \d\d:00", english) and re.fullmatch(r"05月01日 \d\d:00", chinese)
    assert english[-5:] == chinese[-5:]
