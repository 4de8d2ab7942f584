"""Job slips on the ESC/POS receipt printer: the bytes, the golden slip, the queue over TCP."""

from __future__ import annotations

import os
import queue
import re
import select
import socket
import struct
import threading
import time
import tty
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import segno
from escpos.printer import Dummy

from devices import qr, slips
from devices.printer import (
    PrinterConfigError,
    PrintOutcome,
    SlipPrinter,
    parse_printer_url,
)
from devices.qr import QrError, qr_png, qr_svg
from devices.slips import JobSlip, SlipError, print_slip, render_slip

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "job_slip.bin"
URL = "https://wj.kuaigong.local/m/jobs/WJ-20261207-0042"
DLE_EOT = b"\x10\x04"


def make_slip(**changes: str) -> JobSlip:
    slip = JobSlip(
        station_name="望京街道零工驿站",
        job_title="搬运工（家具装卸）",
        time_window="12月7日 周一 08:00–17:00",
        address="朝阳区望京西路48号金隅国际B座地下二层卸货区",
        employer_name="北京顺达搬家服务有限公司",
        employer_phone="010-6478 2231",
        pay="300元/天，当天结清",
        worker_name="阿依古丽·买买提",
        worker_id_masked="6501**********1234",
        job_number="WJ-20261207-0042",
        qr_url=URL,
        station_hotline="010-8472 1100",
    )
    return replace(slip, **changes)


# -- reading ESC/POS back by hand --------------------------------------------------------------

# Fixed-length commands a slip may use: prefix -> total length.
_FIXED = {
    b"\x1b@": 2,
    b"\x1ba": 3,
    b"\x1bE": 3,
    b"\x1bd": 3,
    b"\x1d!": 3,
    b"\x1c&": 2,
    b"\x1c.": 2,
    b"\x1dVB": 4,
    b"\x10\x04": 3,
}


def parse(data: bytes) -> list[tuple[str, bytes]]:
    """Split a byte stream into ("cmd", bytes), ("text", bytes) and ("lf", b"\\n") tokens."""
    tokens: list[tuple[str, bytes]] = []
    i = 0
    while i < len(data):
        if data[i : i + 3] == b"\x1d(k":
            length = struct.unpack("<H", data[i + 3 : i + 5])[0]
            tokens.append(("cmd", data[i : i + 5 + length]))
            i += 5 + length
            continue
        if data[i : i + 3] == b"\x1dv0":
            width, height = struct.unpack("<HH", data[i + 4 : i + 8])
            end = i + 8 + width * height
            tokens.append(("cmd", data[i:end]))
            i = end
            continue
        prefix = next((p for p in _FIXED if data.startswith(p, i)), None)
        if prefix is not None:
            tokens.append(("cmd", data[i : i + _FIXED[prefix]]))
            i += _FIXED[prefix]
            continue
        if data[i] == 0x0A:
            tokens.append(("lf", b"\n"))
            i += 1
            continue
        assert data[i] >= 0x20, f"unknown control byte {data[i]:#x} at {i}"
        start = i
        while i < len(data) and data[i] >= 0x20:
            i += 1
        tokens.append(("text", data[start:i]))
    return tokens


def text_lines(data: bytes) -> list[str]:
    """The printed lines: commands stripped, GB18030 decoded."""
    lines, current = [], b""
    for kind, chunk in parse(data):
        if kind == "text":
            current += chunk
        elif kind == "lf":
            lines.append(current.decode("gb18030"))
            current = b""
    assert current == b"", "text after the last line feed never prints"
    return lines


def qr_commands(data: bytes) -> list[bytes]:
    return [chunk for kind, chunk in parse(data) if chunk.startswith(b"\x1d(k")]


# -- the slip's bytes --------------------------------------------------------------------------


def test_slip_reads_right_when_decoded_by_hand() -> None:
    assert text_lines(render_slip(make_slip())) == [
        "望京街道零工驿站",
        "派工单",
        "-" * 32,
        "工作：搬运工（家具装卸）",
        "编号：WJ-20261207-0042",
        "时间：12月7日 周一 08:00–17:00",
        "地点：朝阳区望京西路48号金隅国际",
        "      B座地下二层卸货区",
        "工钱：300元/天，当天结清",
        "雇主：北京顺达搬家服务有限公司",
        "电话：010-6478 2231",
        "-" * 32,
        "工人：阿依古丽·买买提",
        "证件：6501**********1234",
        "-" * 32,
        "",  # the line the QR code stands on
        "扫码查看工作详情",
        "驿站电话：010-8472 1100",
        "劳动保障热线：12333",
    ]


def test_every_field_is_sent_as_gb18030_in_order() -> None:
    slip = make_slip(address="朝阳区望京西路48号")  # short enough not to wrap
    data = render_slip(slip)
    fields = [
        slip.station_name,
        slip.job_title,
        slip.job_number,
        slip.time_window,
        slip.address,
        slip.pay,
        slip.employer_name,
        slip.employer_phone,
        slip.worker_name,
        slip.worker_id_masked,
        slip.qr_url,
        slip.station_hotline,
        slip.labour_hotline,
    ]
    position = 0
    for value in fields:
        found = data.find(value.encode("gb18030"), position)
        assert found >= 0, f"{value!r} missing or out of order"
        position = found + 1


def test_chinese_mode_is_switched_on_before_any_text_and_off_before_the_cut() -> None:
    tokens = parse(render_slip(make_slip()))
    assert tokens[0] == ("cmd", b"\x1b@")
    assert tokens[1] == ("cmd", b"\x1c&")
    assert tokens[-2] == ("cmd", b"\x1c.")


def test_title_is_centred_and_bold() -> None:
    tokens = parse(render_slip(make_slip()))
    first_text = next(i for i, (kind, _) in enumerate(tokens) if kind == "text")
    before = [chunk for _, chunk in tokens[:first_text]]
    assert b"\x1ba\x01" in before and b"\x1bE\x01" in before
    assert tokens[first_text][1] == "望京街道零工驿站".encode("gb18030")


def test_qr_command_sequence_carries_the_url() -> None:
    data = render_slip(make_slip())
    modules = qr.module_count(qr.make_symbol(URL)) + 8
    dots = min(6, 384 // modules)
    assert qr_commands(data) == [
        b"\x1d(k\x04\x001A2\x00",  # model 2
        b"\x1d(k\x03\x001C" + bytes([dots]),  # module size
        b"\x1d(k\x03\x001E1",  # error correction M
        b"\x1d(k" + struct.pack("<H", len(URL) + 3) + b"1P0" + URL.encode("ascii"),  # store
        b"\x1d(k\x03\x001Q0",  # print
    ]
    # The QR code is printed centred.
    tokens = parse(data)
    qr_at = next(i for i, (_, chunk) in enumerate(tokens) if chunk.startswith(b"\x1d(k"))
    aligns = [chunk for _, chunk in tokens[:qr_at] if chunk.startswith(b"\x1ba")]
    assert aligns[-1] == b"\x1ba\x01"


def test_the_cut_is_last() -> None:
    data = render_slip(make_slip())
    assert data.endswith(b"\x1dVB\x00")
    assert data.count(b"\x1dVB") == 1


def test_print_slip_writes_the_same_bytes_on_python_escpos_dummy() -> None:
    printer = Dummy()
    print_slip(printer, make_slip())
    assert printer.output == render_slip(make_slip())


def test_golden_slip() -> None:
    data = render_slip(make_slip())
    if os.environ.get("KUAIGONG_WRITE_GOLDEN"):
        GOLDEN.write_bytes(data)
    assert data == GOLDEN.read_bytes(), (
        "the slip layout changed; if on purpose, rerun with KUAIGONG_WRITE_GOLDEN=1 and "
        "inspect the new tests/data/job_slip.bin"
    )
    # The golden file itself reads right, so it was not committed broken.
    assert text_lines(GOLDEN.read_bytes())[0] == "望京街道零工驿站"


def test_80mm_paper_uses_wider_lines() -> None:
    lines = text_lines(render_slip(make_slip(), paper=slips.PAPER_80MM))
    assert "-" * 48 in lines
    assert "地点：朝阳区望京西路48号金隅国际B座地下二层卸货" in lines
    assert "      区" in lines


def test_raster_qr_draws_the_segno_matrix() -> None:
    data = render_slip(make_slip(), qr_mode="raster")
    assert qr_commands(data) == []
    (image,) = [chunk for _, chunk in parse(data) if chunk.startswith(b"\x1dv0")]
    width_bytes, height = struct.unpack("<HH", image[4:8])
    bits = image[8:]
    symbol = qr.make_symbol(URL)
    modules = qr.module_count(symbol) + 8
    dots = min(6, 384 // modules)
    assert height == modules * dots
    expected = [list(row) for row in symbol.matrix]
    for y, row in enumerate(expected):
        for x, dark in enumerate(row):
            # Sample the middle of each module, past the quiet zone.
            px, py = (x + 4) * dots + dots // 2, (y + 4) * dots + dots // 2
            byte = bits[py * width_bytes + px // 8]
            assert bool(byte & (0x80 >> (px % 8))) == bool(dark), (x, y)


def test_control_characters_in_a_field_never_reach_the_printer() -> None:
    data = render_slip(make_slip(job_title="搬运工\x1b@\x1dV\x00\n加急"))
    assert "工作：搬运工 @ V 加急" in text_lines(data)
    assert data.count(b"\x1b@") == 1


def test_rare_name_characters_use_four_byte_gb18030() -> None:
    data = render_slip(make_slip(worker_name="王𠮷"))
    assert "王𠮷".encode("gb18030") in data
    assert "工人：王𠮷" in text_lines(data)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"worker_id_masked": "650102199001011234"}, "worker_id_masked"),
        ({"job_title": "  "}, "job_title"),
        ({"qr_url": "wj.kuaigong.local/m/jobs/1"}, "qr_url"),
        ({"qr_url": "https://wj.kuaigong.local/工作/1"}, "qr_url"),
        ({"qr_url": "https://wj.kuaigong.local/" + "a" * 280}, "qr_url"),
    ],
)
def test_a_bad_slip_is_refused_naming_the_field(changes: dict[str, str], field: str) -> None:
    with pytest.raises(SlipError) as caught:
        make_slip(**changes)
    assert caught.value.field == field
    assert caught.value.message_zh and caught.value.message_en


def test_optional_fields_leave_no_empty_line() -> None:
    lines = text_lines(render_slip(make_slip(employer_phone="", worker_id_masked="")))
    assert not any(line.startswith(("电话：", "证件：")) for line in lines)


def test_python_escpos_text_turns_chinese_punctuation_into_question_marks() -> None:
    # Why slips bypass python-escpos's text(): without a CJK ideograph in the string it picks a
    # single-byte code page and prints "?" for full-width punctuation, and it never sends FS &.
    printer = Dummy()
    printer.text("（）：")
    assert printer.output.endswith(b"???")
    assert b"\x1c&" not in printer.output


# -- QR helpers --------------------------------------------------------------------------------


def _matrix_from_svg_path(d: str, size: int) -> list[list[bool]]:
    """Redraw segno's SVG path (absolute M, then relative m/h moves of 1-module-high lines)."""
    grid = [[False] * size for _ in range(size)]
    x = y = 0.0
    for op, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?:\s(-?[\d.]+))?", d):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            for i in range(int(float(a))):
                grid[int(y)][int(x) + i] = True
            x += float(a)
    return grid


def test_qr_svg_is_self_contained_svg_of_the_right_size() -> None:
    svg = qr_svg(URL, scale=5, title="扫码查看工作")
    assert not svg.startswith("<?xml")
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    symbol = qr.make_symbol(URL)
    side = (qr.module_count(symbol) + 8) * 5
    assert (root.get("width"), root.get("height")) == (str(side), str(side))
    for element in root.iter():
        for name, value in element.attrib.items():
            assert "href" not in name and "url(" not in value, (name, value)
    assert not any(el.tag.endswith(("image", "use", "style")) for el in root.iter())
    (path,) = [el for el in root.iter() if el.tag.endswith("path")]
    assert path.get("transform") == "scale(5)"
    drawn = _matrix_from_svg_path(path.get("d", ""), qr.module_count(symbol) + 8)
    expected = segno.make_qr(URL, error="m", boost_error=False).matrix_iter(border=4)
    assert drawn == [[bool(m) for m in row] for row in expected]


def test_qr_png_is_a_png_of_the_right_size() -> None:
    png = qr_png(URL, scale=3)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    side = (qr.module_count(qr.make_symbol(URL)) + 8) * 3
    assert (width, height) == (side, side)


def test_qr_helpers_refuse_what_is_not_a_url() -> None:
    with pytest.raises(QrError) as caught:
        qr_svg("")
    assert "二维码" in caught.value.message_zh


# -- SlipPrinter over a real socket ------------------------------------------------------------


class FakeNetworkPrinter:
    """A raw-port printer on 127.0.0.1: keeps what each connection sent, answers DLE EOT."""

    def __init__(self, port: int = 0, answers_status: bool = True) -> None:
        self.answers_status = answers_status
        self.paper_out = False
        self.received: queue.Queue[bytes] = queue.Queue()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", port))
        self._listener.listen()
        self._listener.settimeout(0.1)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                self.received.put(self._read_all(conn))

    def _read_all(self, conn: socket.socket) -> bytes:
        data, scanned = b"", 0
        while chunk := conn.recv(4096):
            data += chunk
            while self.answers_status:
                at = data.find(DLE_EOT, scanned)
                if at < 0 or at + 2 >= len(data):
                    break  # no query, or its last byte is still on the way
                conn.sendall(bytes([self._answer(data[at + 2])]))
                scanned = at + 3
        return data

    def _answer(self, n: int) -> int:
        if n == 2:
            return 0x12 | (0x20 if self.paper_out else 0)
        if n == 4:
            return 0x12 | (0x60 if self.paper_out else 0)
        return 0x12

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._listener.close()


@pytest.fixture
def fake_printer() -> Iterator[FakeNetworkPrinter]:
    server = FakeNetworkPrinter()
    yield server
    server.close()


@pytest.fixture
def outcomes() -> queue.Queue[PrintOutcome]:
    return queue.Queue()


@pytest.fixture
def make_printer(outcomes: queue.Queue[PrintOutcome]) -> Iterator[Callable[..., SlipPrinter]]:
    made: list[SlipPrinter] = []

    def make(url: str, **options: float) -> SlipPrinter:
        settings: dict = {"retry_interval": 0.05, "probe_interval": None, **options}
        printer = SlipPrinter(url, on_outcome=outcomes.put, **settings)
        made.append(printer)
        printer.start()
        return printer

    yield make
    for printer in made:
        printer.stop()


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_network_printer_receives_exactly_the_slip(
    fake_printer: FakeNetworkPrinter, make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    printer = make_printer(f"tcp://127.0.0.1:{fake_printer.port}?status=off")
    job = printer.submit(make_slip())
    assert outcomes.get(timeout=5) == PrintOutcome(job, True)
    assert fake_printer.received.get(timeout=5) == GOLDEN.read_bytes()
    assert printer.status().state == "ready"
    assert printer.status().waiting == 0


def test_status_is_asked_before_the_slip(
    fake_printer: FakeNetworkPrinter, make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    printer = make_printer(f"tcp://127.0.0.1:{fake_printer.port}")
    printer.submit(make_slip())
    assert outcomes.get(timeout=5).printed
    received = fake_printer.received.get(timeout=5)
    assert received == DLE_EOT + b"\x02" + DLE_EOT + b"\x04" + GOLDEN.read_bytes()


def test_paper_out_holds_the_slip_until_paper_is_back(
    fake_printer: FakeNetworkPrinter, make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    fake_printer.paper_out = True
    printer = make_printer(f"tcp://127.0.0.1:{fake_printer.port}")
    job = printer.submit(make_slip())
    wait_for(lambda: printer.status().state == "error")
    status = printer.status()
    assert "缺纸" in status.message_zh and "out of paper" in status.message_en
    assert status.waiting == 1
    assert outcomes.empty()

    fake_printer.paper_out = False
    assert outcomes.get(timeout=5) == PrintOutcome(job, True)
    status = printer.status()
    assert (status.state, status.message_zh, status.waiting) == ("ready", "", 0)
    assert "缺纸" in status.last_error_zh
    # While the paper was out the printer was only asked, never sent the slip; then once.
    asked = DLE_EOT + b"\x02" + DLE_EOT + b"\x04"
    while (sent := fake_printer.received.get(timeout=5)) == asked:
        pass
    assert sent == asked + GOLDEN.read_bytes()
    assert fake_printer.received.empty()


def test_a_closed_port_is_offline_without_blocking_and_recovers(
    make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    port = free_port()
    printer = make_printer(f"tcp://127.0.0.1:{port}?status=off")
    job = printer.submit(make_slip())
    wait_for(lambda: printer.status().state == "offline")
    status = printer.status()
    assert "连不上打印机" in status.message_zh and f"127.0.0.1:{port}" in status.message_zh
    assert status.waiting == 1
    assert status.as_dict()["message"] == status.message_zh

    server = FakeNetworkPrinter(port)
    try:
        assert outcomes.get(timeout=5) == PrintOutcome(job, True)
        assert server.received.get(timeout=5) == GOLDEN.read_bytes()
        assert printer.status().state == "ready"
    finally:
        server.close()


def test_a_printer_that_hangs_never_holds_up_the_caller(
    make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    # The kernel completes the connection, but nobody ever reads or answers.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        printer = make_printer(f"tcp://127.0.0.1:{port}", status_timeout=1.5)
        printer.submit(make_slip())
        time.sleep(0.2)  # the worker is now waiting for the status answer
        started = time.monotonic()
        second = printer.submit(make_slip())
        assert time.monotonic() - started < 1.0
        assert printer.status().waiting == 2
        assert outcomes.empty()
        assert second == 2


def test_a_slip_that_cannot_print_in_time_fails_with_a_reason(
    make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    printer = make_printer(f"tcp://127.0.0.1:{free_port()}", give_up_after=0.2)
    job = printer.submit(make_slip())
    outcome = outcomes.get(timeout=5)
    assert (outcome.job_id, outcome.printed) == (job, False)
    assert "连不上打印机" in outcome.reason_zh and "cannot reach" in outcome.reason_en
    wait_for(lambda: printer.status().waiting == 0)


def test_a_probe_reports_offline_before_any_slip(
    make_printer: Callable[..., SlipPrinter],
) -> None:
    printer = make_printer(f"tcp://127.0.0.1:{free_port()}", probe_interval=0.05)
    wait_for(lambda: printer.status().state == "offline")


def test_stopping_reports_the_slips_left_waiting(
    make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    printer = make_printer(f"tcp://127.0.0.1:{free_port()}")
    job = printer.submit(make_slip())
    wait_for(lambda: printer.status().state == "offline")
    printer.stop()
    outcome = outcomes.get(timeout=5)
    assert (outcome.job_id, outcome.printed) == (job, False)
    assert "停止" in outcome.reason_zh


def test_a_device_file_printer(
    tmp_path: Path, make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    device = tmp_path / "lp0"
    device.write_bytes(b"")
    printer = make_printer(f"file://{device}")
    printer.submit(make_slip())
    assert outcomes.get(timeout=5).printed
    assert device.read_bytes() == GOLDEN.read_bytes()


def test_an_unplugged_device_file_is_offline_and_not_created(
    tmp_path: Path, make_printer: Callable[..., SlipPrinter]
) -> None:
    device = tmp_path / "lp0"
    printer = make_printer(f"file://{device}")
    printer.submit(make_slip())
    wait_for(lambda: printer.status().state == "offline")
    assert not device.exists()


def test_a_serial_printer_on_a_pseudo_terminal(
    make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    received = bytearray()
    done = threading.Event()

    def printer_side() -> None:
        # Answers DLE EOT like a printer with paper; keeps everything else.
        while not done.is_set():
            if select.select([master], [], [], 0.05)[0]:
                received.extend(os.read(master, 4096))
                if received.endswith((DLE_EOT + b"\x02", DLE_EOT + b"\x04")):
                    os.write(master, b"\x12")

    reader = threading.Thread(target=printer_side, daemon=True)
    reader.start()
    try:
        printer = make_printer(f"serial://{os.ttyname(slave)}?baudrate=19200")
        printer.submit(make_slip())
        assert outcomes.get(timeout=5).printed
        expected = DLE_EOT + b"\x02" + DLE_EOT + b"\x04" + GOLDEN.read_bytes()
        wait_for(lambda: bytes(received) == expected)
    finally:
        done.set()
        reader.join(2)
        os.close(master)
        os.close(slave)


def test_a_missing_serial_port_is_offline(
    tmp_path: Path, make_printer: Callable[..., SlipPrinter]
) -> None:
    printer = make_printer(f"serial://{tmp_path}/ttyUSB9")
    printer.submit(make_slip())
    wait_for(lambda: printer.status().state == "offline")
    assert "连不上打印机" in printer.status().message_zh


def test_the_dummy_printer_keeps_the_bytes(
    make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    printer = make_printer("dummy:")
    printer.submit(make_slip())
    assert outcomes.get(timeout=5).printed
    assert printer.escpos.output == GOLDEN.read_bytes()


def test_an_unforeseen_driver_failure_is_retried_not_fatal(
    make_printer: Callable[..., SlipPrinter], outcomes
) -> None:
    printer = make_printer("dummy:")
    real_raw = printer.escpos._raw
    calls: list[bytes] = []

    def fails_once(msg: bytes) -> None:
        calls.append(msg)
        if len(calls) == 1:
            raise AssertionError("driver bug")
        real_raw(msg)

    printer.escpos._raw = fails_once
    job = printer.submit(make_slip())
    assert outcomes.get(timeout=5) == PrintOutcome(job, True)
    assert printer.escpos.output == GOLDEN.read_bytes()
    assert "意外" in printer.status().last_error_zh


def test_a_failing_callback_does_not_stop_the_queue(fake_printer: FakeNetworkPrinter) -> None:
    printed: list[int] = []

    def flaky(outcome: PrintOutcome) -> None:
        printed.append(outcome.job_id)
        raise RuntimeError("bookkeeping broke")

    url = f"tcp://127.0.0.1:{fake_printer.port}?status=off"
    with SlipPrinter(url, on_outcome=flaky, probe_interval=None) as printer:
        first, second = printer.submit(make_slip()), printer.submit(make_slip())
        wait_for(lambda: printed == [first, second])


@pytest.mark.parametrize(
    "url",
    [
        "lpt1",
        "tcp://:9100",
        "tcp://10.0.0.5:99999",
        "serial://dev/ttyUSB0",
        "serial:///dev/ttyUSB0?baudrate=fast",
        "file:///dev/usb/lp0?status=on",
        "tcp://10.0.0.5?paper=57",
        "tcp://10.0.0.5?qr=picture",
        "tcp://10.0.0.5?colour=red",
    ],
)
def test_a_bad_printer_setting_is_refused_when_built(url: str) -> None:
    with pytest.raises(PrinterConfigError) as caught:
        parse_printer_url(url)
    assert caught.value.message_zh and url in caught.value.message_en


def test_printer_settings_are_read() -> None:
    tcp = parse_printer_url("tcp://192.168.1.50:9100?paper=80&qr=raster")
    assert (tcp.kind, tcp.target, tcp.port, tcp.query_status) == ("tcp", "192.168.1.50", 9100, True)
    assert (tcp.paper, tcp.qr_mode) == (slips.PAPER_80MM, "raster")
    serial = parse_printer_url("serial:///dev/ttyUSB0?baudrate=19200")
    assert (serial.kind, serial.target, serial.baudrate) == ("serial", "/dev/ttyUSB0", 19200)
    usb = parse_printer_url("file:///dev/usb/lp0")
    assert (usb.kind, usb.target, usb.query_status) == ("file", "/dev/usb/lp0", False)
    assert parse_printer_url("dummy:").kind == "dummy"
