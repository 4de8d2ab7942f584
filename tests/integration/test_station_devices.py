"""The station's printer and ID card reader end to end: a real station HTTP server on
127.0.0.1, the device runners in threads with paired device tokens, a network printer on a real
TCP socket and the simulated card reader on a real pseudo-terminal. The app clock is pinned
(2025-05-06 09:00 at the station), so card validity never depends on today's date."""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from integration_helpers import Station, credit_code
from werkzeug.serving import make_server

from devices.idcard import IdCardReader
from devices.kinds import DeviceKind
from devices.runners.idreader import IdReaderRunner, ReadResult
from devices.runners.printer import PrinterRunner
from devices.runners.station_api import StationApi
from devices.simulated.idcard import SAMPLE_CARDS, SimulatedIdCardReader
from kuaigong import clock
from station_node.models import PrintJob

T0 = dt.datetime(2025, 5, 6, 1, 0, 0)  # 09:00 at the station, a Tuesday
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
VALID, EXPIRED = SAMPLE_CARDS[0], SAMPLE_CARDS[3]


def wait_for(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {check}")


class Served:
    """A station app on werkzeug's threaded server, 127.0.0.1:<free port>, clock pinned at T0."""

    def __init__(self, station: Station) -> None:
        self.station = station
        clock.install(station.app, clock.ManualClock(T0))
        self.start(0)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def start(self, port: int) -> None:
        """Serve (again on the same port after `close`, like a station PC back from a restart)."""
        self.server = make_server("127.0.0.1", port, self.station.app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @contextlib.contextmanager
    def ctx(self) -> Iterator[None]:
        """The app's context with a connection of this thread's own. Not `Station.ctx()`: that
        re-opens the database, closing connections the server's threads are using."""
        from station_node import db

        with self.station.app.app_context(), db.database.connection_context():
            yield

    def pair(self, kind: str, name: str) -> str:
        """A device token, paired the way staff pair one (code on the console, then pair)."""
        from station_node.services.devices import pair, start_pairing

        with self.ctx():
            shown = start_pairing(self.station.staff)
            return pair(shown.code, kind, name)[1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def served(make_station: Callable[..., Station]) -> Iterator[Served]:
    server = Served(make_station("devices", STATION_NAME="团结湖零工驿站"))
    yield server
    server.close()


def grabbed_job(served: Served, title: str = "超市理货") -> str:
    """A one-place grab job and a worker who grabbed it; returns the job id."""
    from station_node.services import dispatch
    from station_node.services.posting import post_job
    from station_node.services.registration import register_employer, register_worker

    with served.ctx():
        staff = served.station.staff
        employer = register_employer(
            {
                "kind": "organisation",
                "name": "团结湖超市有限公司",
                "credit_code": credit_code(1),
                "contact_name": "赵店长",
                "mobile": "13912345678",
                "address": "北京市朝阳区团结湖路1号",
            },
            staff,
        )
        job = post_job(
            {
                "employer_id": employer.id,
                "title": title,
                "category": "catering",
                "skills": ["cleaning"],
                "headcount": 1,
                "pay_fen": 2500,
                "pay_unit": "hour",
                "address": "团结湖路1号超市",
                "community": "团结湖社区",
                "starts_at": "2025-05-07T08:00",
                "ends_at": "2025-05-07T17:00",
                "source": "walk_in",
                "dispatch_mode": "grab",
            },
            staff,
        )
        worker = register_worker(_worker(VALID), staff)
        dispatch.grab(job.id, worker.id, None)
        return job.id


def _worker(card: Any, mobile: str = "13800138000") -> dict[str, Any]:
    return {
        "name": card.name,
        "id_number": card.id_number,
        "mobile": mobile,
        "skills": ["cleaning"],
        "areas": ["团结湖社区"],
    }


class NetworkPrinter:
    """A raw-port (9100) receipt printer on 127.0.0.1: keeps each connection's bytes, answers
    the DLE EOT status queries as a printer with paper does."""

    def __init__(self, port: int = 0) -> None:
        self.listener = socket.create_server(("127.0.0.1", port))
        self.listener.settimeout(0.1)
        self.port = self.listener.getsockname()[1]
        self.jobs: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                data = b""
                while chunk := conn.recv(4096):
                    data += chunk
                    if data.endswith((b"\x10\x04\x02", b"\x10\x04\x04", b"\x10\x04\x03")):
                        conn.sendall(b"\x12")
                self.jobs.append(data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.listener.close()


@pytest.fixture
def network_printer() -> Iterator[NetworkPrinter]:
    printer = NetworkPrinter()
    yield printer
    printer.close()


def _slip_states(served: Served) -> list[str]:
    with served.ctx():
        return [row.status for row in PrintJob.select().order_by(PrintJob.id)]


def test_a_grabbed_job_prints_its_slip_on_the_network_printer(
    served: Served, network_printer: NetworkPrinter
):
    job_id = grabbed_job(served, title="超市理货")
    api = StationApi(served.url, served.pair(DeviceKind.PRINTER, "柜台打印机"), timeout=5)
    runner = PrinterRunner(api, f"tcp://127.0.0.1:{network_printer.port}", poll_interval=0.1)
    runner.start()
    try:
        printed = wait_for(lambda: [j for j in network_printer.jobs if b"\x1dV" in j])
        wait_for(lambda: _slip_states(served) == ["printed"])
        wait_for(lambda: _printer_state(served) == "ready")
    finally:
        runner.stop()
    data = printed[0]
    for text in ("团结湖零工驿站", "超市理货", "团结湖超市有限公司", "样例张三", "12333"):
        assert text.encode("gb18030") in data, text
    assert VALID.id_number.encode() not in data  # only the masked number prints
    assert b"110101********1233" in data
    number = job_id[:8].upper()
    assert f"/m/jobs/{number}".encode() in data  # the QR code's URL, in the GS ( k command


def _printer_state(served: Served) -> str:
    from station_node.services.printing import printer_status

    with served.ctx():
        return str(printer_status()["state"])


def test_a_printer_that_is_off_never_blocks_a_grab_and_shows_on_the_console(
    served: Served,
):
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there: the printer is switched off
    api = StationApi(served.url, served.pair(DeviceKind.PRINTER, "柜台打印机"), timeout=5)
    runner = PrinterRunner(
        api, f"tcp://127.0.0.1:{port}", poll_interval=0.1, connect_timeout=0.5, probe_interval=0.2
    )
    runner.start()
    try:
        console = _console(served)
        wait_for(
            lambda: 'data-state="offline"' in console.get(served.url + "/console/printer").text
        )
        started = time.monotonic()
        grabbed_job(served)
        assert time.monotonic() - started < 5
        time.sleep(0.5)  # rounds pass: the slip waits at the station, it is not used up
        assert _slip_states(served) == ["queued"]
        page = console.get(served.url + "/console/printer").text
        assert "连不上打印机" in page
    finally:
        runner.stop()


def _console(served: Served) -> requests.Session:
    session = requests.Session()
    token = CSRF.search(session.get(served.url + "/console/login").text).group(1)
    signed = session.post(
        served.url + "/console/login",
        data={"username": "wang", "password": "password-1", "csrf_token": token},
        allow_redirects=False,
    )
    assert signed.status_code == 302
    return session


@pytest.fixture
def reader_runner(served: Served) -> Iterator[tuple[SimulatedIdCardReader, list[ReadResult]]]:
    results: list[ReadResult] = []
    with SimulatedIdCardReader() as simulated, IdCardReader(simulated.port, timeout=1) as reader:
        api = StationApi(served.url, served.pair(DeviceKind.IDREADER, "窗口读卡器"), timeout=5)
        runner = IdReaderRunner(api, reader, poll_interval=0.05, on_read=results.append)
        runner.start()
        try:
            yield simulated, results
        finally:
            runner.stop()


def test_a_card_on_the_reader_fills_the_form_and_signs_in_at_the_kiosk(
    served: Served, reader_runner: tuple[SimulatedIdCardReader, list[ReadResult]]
):
    simulated, results = reader_runner
    from station_node.services.registration import register_worker

    with served.ctx():
        register_worker(_worker(VALID), served.station.staff)
    console = _console(served)
    assert console.get(served.url + "/console/idcard/latest").status_code == 404

    simulated.place(VALID)
    card = wait_for(lambda: console.get(served.url + "/console/idcard/latest").json().get("card"))
    assert card["name"] == VALID.name and card["id_number"] == VALID.id_number
    assert card["address"] == VALID.address
    time.sleep(0.3)  # the card lies on the reader: it is sent once
    assert [r.outcome for r in results] == ["posted"]

    kiosk = requests.Session()
    page = kiosk.get(served.url + "/kiosk/signin").text
    read = kiosk.get(served.url + "/kiosk/idcard").json()
    assert read["state"] == "card"
    signed = kiosk.post(
        served.url + "/kiosk/idcard/signin",
        data={"csrf_token": CSRF.search(page).group(1), "read": read["read"]},
        allow_redirects=False,
    )
    assert signed.status_code == 302 and signed.headers["Location"].endswith("/kiosk/mine")
    assert VALID.name in kiosk.get(served.url + "/kiosk/mine").text

    simulated.remove()
    time.sleep(0.3)  # the runner sees the reader empty
    simulated.place(VALID)  # placed again: read again
    wait_for(lambda: len(results) == 2)


def test_an_expired_card_is_refused_with_the_reason(
    served: Served, reader_runner: tuple[SimulatedIdCardReader, list[ReadResult]]
):
    simulated, results = reader_runner
    simulated.place(EXPIRED)
    wait_for(lambda: results)
    assert results[0] == ReadResult(
        "refused", "身份证已过有效期（有效期至 2020年7月1日），请使用有效证件"
    )
    kiosk = requests.get(served.url + "/kiosk/idcard").json()
    assert kiosk["state"] == "refused" and "身份证已过有效期" in kiosk["message"]
    console = _console(served)
    answer = console.get(served.url + "/console/idcard/latest")
    assert answer.status_code == 409 and "2020年7月1日" in answer.json()["message"]


def test_card_data_never_reaches_the_station_log_or_database(
    served: Served,
    reader_runner: tuple[SimulatedIdCardReader, list[ReadResult]],
    caplog: pytest.LogCaptureFixture,
):
    simulated, results = reader_runner
    simulated.place(VALID)
    wait_for(lambda: results)
    assert VALID.id_number not in caplog.text
    data_dir = Path(served.station.app.config["DATA_DIR"])
    from station_node import db

    with served.ctx():
        db.checkpoint()
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert VALID.id_number.encode() not in path.read_bytes(), path


def test_a_slip_printed_while_the_station_was_away_is_reported_when_it_is_back(served: Served):
    free = socket.create_server(("127.0.0.1", 0))
    printer_port = free.getsockname()[1]
    free.close()  # the printer is still off
    grabbed_job(served)
    api = StationApi(served.url, served.pair(DeviceKind.PRINTER, "柜台打印机"), timeout=2)
    runner = PrinterRunner(
        api,
        f"tcp://127.0.0.1:{printer_port}",
        poll_interval=0.1,
        probe_interval=None,  # not probed before the first slip: it is claimed, then waits
        retry_interval=0.1,
        connect_timeout=0.5,
    )
    runner.start()
    printer = None
    try:
        wait_for(lambda: _slip_states(served) == ["printing"])
        station_port = served.server.server_port
        served.close()  # the station PC restarts…
        printer = NetworkPrinter(printer_port)  # …while the printer comes on and prints
        wait_for(lambda: [j for j in printer.jobs if b"\x1dV" in j])
        time.sleep(0.3)  # rounds pass: the report cannot be sent yet
        assert _slip_states(served) == ["printing"]
        served.start(station_port)
        wait_for(lambda: _slip_states(served) == ["printed"])
    finally:
        runner.stop()
        if printer is not None:
            printer.close()
