"""SMS offers end to end: a real station HTTP server on 127.0.0.1, the SMS gateway runner in a
thread with a paired device token, and the simulated GSM modem on a real pseudo-terminal.
A job posted with a worker reachable only by SMS reaches the modem as the Chinese offer text,
a reply of "1" confirms the worker, and a late "1" is told the place is gone. The app clock is
pinned (2025-05-06 09:00 at the station); the modem sends one message every 0.2 s here."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import waitress
from integration_helpers import Station, credit_code

from devices.runners.sms import run_sms_gateway
from devices.simulated.modem import SimulatedModem
from kuaigong import clock
from kuaigong.states import AssignmentStatus, OfferStatus
from station_node.models import Assignment, Offer, SmsMessage

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # 09:00 at the station, a Tuesday
CHINA = dt.timezone(dt.timedelta(hours=8))
SEND_INTERVAL = 0.2


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {check}")


@contextlib.contextmanager
def _inside(station: Station) -> Iterator[None]:
    """The station's app context and a pooled connection. Not `station.ctx()`: that rebinds the
    database, closing every pooled connection, and the server's threads are using them."""
    from station_node import db

    with station.app.app_context(), db.database.connection_context():
        yield


class Gateway:
    """The station served by waitress, the simulated modem and the gateway runner."""

    def __init__(self, station: Station, folder: Path) -> None:
        from station_node.services.devices import pair, start_pairing

        self.station = station
        self.clock = clock.ManualClock(T0)
        clock.install(station.app, self.clock)
        with station.ctx():
            token = pair(start_pairing(station.staff).code, "sms", "短信猫")[1]
        self.server: Any = waitress.create_server(station.app, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        threading.Thread(target=self.server.run, daemon=True).start()
        self.modem = SimulatedModem(
            str(folder), clock=lambda: dt.datetime(2025, 5, 6, 9, 0, 10, tzinfo=CHINA)
        )
        self.modem.start()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=run_sms_gateway,
            args=(self.url, token, self.modem.path),
            kwargs={"interval": SEND_INTERVAL, "poll_interval": 0.05, "stop": self.stop},
            daemon=True,
        )
        self.thread.start()

    def polling(self) -> bool:
        from station_node.services import sms

        with _inside(self.station):
            return sms.gateway_interval() == SEND_INTERVAL

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)
        self.modem.stop()
        self.server.close()


@pytest.fixture
def gateway(make_station: Callable[..., Station], tmp_path: Path) -> Iterator[Gateway]:
    folder = tmp_path / "modem"
    folder.mkdir()
    running = Gateway(make_station("sms"), folder)
    try:
        yield running
    finally:
        running.close()


def post_offer_job(station: Station, mobile: str, title: str, n: int) -> tuple[str, str]:
    """A one-place offer job and one worker, not at the station, with no phone page open:
    reachable only by SMS. Returns (job id, worker id)."""
    from station_node.services.posting import post_job
    from station_node.services.registration import register_employer, register_worker

    with _inside(station):
        worker = register_worker(
            {
                "name": f"刘{n}",
                "id_number": _id_number(n),
                "mobile": mobile,
                "skills": ["cleaning"],
                "areas": ["团结湖社区"],
            },
            station.staff,
        )
        employer = register_employer(
            {
                "kind": "organisation",
                "name": f"团结湖物业有限公司{n}",
                "credit_code": credit_code(n),
                "contact_name": "赵经理",
                "mobile": "13912345678",
                "address": "北京市朝阳区团结湖路1号",
            },
            station.staff,
        )
        job = post_job(
            {
                "employer_id": employer.id,
                "title": title,
                "category": "property",
                "skills": ["cleaning"],
                "headcount": 1,
                "pay_fen": 2500,
                "pay_unit": "hour",
                "address": "团结湖北里3号楼",
                "community": "团结湖社区",
                "starts_at": "2025-05-07T08:00",
                "ends_at": "2025-05-07T17:00",
                "source": "walk_in",
                "dispatch_mode": "offer",
            },
            station.staff,
        )
        return job.id, worker.id


def _id_number(n: int) -> str:
    from stdnum.cn import ric

    body = f"11010519800101{n:03d}"
    return body + ric.calc_check_digit(body + "0")


def test_an_sms_offer_is_answered_by_sms_and_a_late_answer_is_told(gateway: Gateway) -> None:
    wait_for(gateway.polling)  # the gateway has asked for work: offers are paced to it
    station = gateway.station
    job_id, worker_id = post_offer_job(station, "13800138001", "小区保洁", 1)

    [offer_sms] = gateway.modem.wait_for_sent(1, timeout=10)
    with _inside(station):
        offer = Offer.get(Offer.job == job_id)
        queued = SmsMessage.get(SmsMessage.offer == offer.id)
        assert queued.status == "sent" or wait_for(
            lambda: SmsMessage.get_by_id(queued.id).status == "sent"
        )
    assert offer_sms.number == "13800138001"
    assert offer_sms.text == queued.text  # the Chinese text arrives intact
    assert offer_sms.text.startswith("【快工】小区保洁，5月7日08:00开工，团结湖社区")
    assert offer_sms.text.endswith("回复1接单，回复2放弃")

    gateway.modem.deliver("+8613800138001", "1")

    def confirmed() -> bool:
        with _inside(station):
            found = Assignment.get_or_none(Assignment.job == job_id)
            return found is not None and found.status == AssignmentStatus.CONFIRMED

    wait_for(confirmed)
    with _inside(station):
        assert Assignment.get(Assignment.job == job_id).worker_id == worker_id
        assert Offer.get_by_id(offer.id).status == OfferStatus.ACCEPTED
    confirmation = gateway.modem.wait_for_sent(2, timeout=10)[1]
    assert confirmation.text.startswith("【快工】接单成功：小区保洁")

    # A second job; its worker answers only after the deadline.
    late_job, _ = post_offer_job(station, "13800138002", "超市理货", 2)
    assert gateway.modem.wait_for_sent(3, timeout=10)[2].number == "13800138002"
    with _inside(station):
        deadline = Offer.get(Offer.job == late_job).expires_at
    gateway.clock.set(deadline + dt.timedelta(seconds=1))
    gateway.modem.deliver("13800138002", "1")
    told = gateway.modem.wait_for_sent(4, timeout=10)
    assert len(told) == 4, [m.text for m in told]
    assert told[3].number == "13800138002" and "名额已满或已过期" in told[3].text
    with _inside(station):
        assert not Assignment.select().where(Assignment.job == late_job).exists()
        handled = SmsMessage.select().where(SmsMessage.direction == "in").order_by(SmsMessage.id)
        assert [m.outcome for m in handled] == ["accepted", "late"]
