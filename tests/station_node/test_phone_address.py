"""The address QR codes carry (board and slips): phones on the station's Wi-Fi must be able to
open it. A board or console opened on the station PC itself (127.0.0.1) and a slip printed by
the dispatch beat (no request at all) must not hand phones an address that points at
themselves."""

from __future__ import annotations

import pytest
from flask import Flask

from station_node.cli import serving_url
from station_node.services.phone_address import phone_base_url


@pytest.mark.parametrize(
    ("host", "config", "expected"),
    [
        ("192.168.1.20:8080", {}, "http://192.168.1.20:8080"),  # a phone or LAN PC asked
        ("127.0.0.1:8080", {"SERVING_URL": "http://192.168.1.20:8080"}, "http://192.168.1.20:8080"),
        ("localhost:8080", {"SERVING_URL": "http://10.0.0.7:8080/"}, "http://10.0.0.7:8080"),
        ("[::1]:8080", {"SERVING_URL": "http://10.0.0.7:8080"}, "http://10.0.0.7:8080"),
        ("127.0.0.1:8080", {}, "http://127.0.0.1:8080"),  # nothing better known
        (
            "127.0.0.1:8080",
            {"PUBLIC_URL": "https://zhan.example.cn/", "SERVING_URL": "http://10.0.0.7:8080"},
            "https://zhan.example.cn",
        ),
        ("zhan.local:8080", {"SERVING_URL": "http://10.0.0.7:8080"}, "http://zhan.local:8080"),
    ],
)
def test_a_request_gives_the_address_phones_can_reach(
    app: Flask, host: str, config: dict[str, str], expected: str
) -> None:
    app.config.update({"PUBLIC_URL": "", "SERVING_URL": "", **config})
    with app.test_request_context("/board/", headers={"Host": host}):
        assert phone_base_url() == expected


def test_without_a_request_the_serving_address_is_used(app: Flask) -> None:
    app.config.update(PUBLIC_URL="", SERVING_URL="http://192.168.3.4:8080")
    assert phone_base_url() == "http://192.168.3.4:8080"  # the fixture's app context, no request
    app.config.update(SERVING_URL="")
    assert phone_base_url() == "http://localhost"


def test_a_slip_confirmed_by_the_dispatch_beat_carries_the_serving_address(
    app: Flask, make_job, make_worker
) -> None:
    from station_node.models import PrintJob
    from station_node.services import dispatch

    app.config.update(PUBLIC_URL="", SERVING_URL="http://192.168.3.4:8080")
    make_worker()
    job = make_job(dispatch_mode="offer", headcount=1)
    offer = next(iter(job.offers))
    dispatch.accept_offer(offer.id, offer.worker_id, None)  # an SMS "1": no request
    [row] = PrintJob.select()
    assert row.slip["qr_url"] == f"http://192.168.3.4:8080/m/jobs/{job.id[:8].upper()}"


def test_serving_on_every_interface_names_a_lan_address(monkeypatch) -> None:
    import station_node.cli as cli

    assert serving_url("192.168.1.20", 8080) == "http://192.168.1.20:8080"
    assert serving_url("fe80::1", 8080) == "http://[fe80::1]:8080"
    monkeypatch.setattr(cli, "lan_addresses", lambda: ("10.0.0.7", "192.168.1.20"))
    assert serving_url("0.0.0.0", 8080) == "http://10.0.0.7:8080"
    monkeypatch.setattr(cli, "lan_addresses", lambda: ())
    assert serving_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
