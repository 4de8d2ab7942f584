"""The demo's station hardware: a simulated GSM modem and ID card reader, a receipt printer
stand-in, and one small local page to watch and work them.

The modem and the reader are the simulators from `devices.simulated`, on pseudo-terminals, so
the real `kuaigong device sms|idreader` processes drive them over the wire as they would real
hardware. The printer stand-in is a TCP server taking ESC/POS bytes as a network printer does;
each slip is kept raw (`<n>.bin`) and as readable text (`<n>.txt`). The page lists the texts
sent (newest first) with buttons to answer them, the sample ID cards to place on the reader,
and the slips printed, so a newcomer needs no second terminal.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import socketserver
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from devices.idcard import IdCard
from devices.simulated.idcard import SAMPLE_CARDS, SimulatedIdCardReader
from devices.simulated.modem import SentSms, SimulatedModem


@dataclass(frozen=True)
class Sms:
    """A text on the demo page: sent by the station (out) or typed here as a reply (in)."""

    direction: str  # "out" or "in"
    number: str
    text: str
    at: str  # HH:MM:SS local to the demo's machine


def demo_cards(resident: tuple[str, str, str]) -> list[IdCard]:
    """The cards the page offers: the sample resident (registered at every station) first, then
    the simulator's samples, nobody registered (one of them expired)."""
    name, id_number, _mobile = resident
    birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    own = IdCard(
        name=name,
        sex="F" if int(id_number[16]) % 2 == 0 else "M",
        ethnicity="汉",
        birth_date=birth,
        address="北京市朝阳区团结湖北里1号楼",
        id_number=id_number,
        issuing_office="北京市公安局朝阳分局",
        valid_from=dt.date(2012, 3, 1),
        valid_until=None,
    )
    return [own, *SAMPLE_CARDS]


# ESC/POS commands the slip uses, by their first bytes: how many bytes each takes in all.
_FIXED = {b"\x1b@": 2, b"\x1c&": 2, b"\x1c.": 2, b"\x1ba": 3, b"\x1bE": 3, b"\x1d!": 3}
_CUT = b"\x1dV"


def slip_text(data: bytes) -> str:
    """A slip's ESC/POS bytes as the text it prints; the QR code as its URL in brackets."""
    out = bytearray()
    i = 0
    while i < len(data):
        two = data[i : i + 2]
        if two in _FIXED:
            i += _FIXED[two]
        elif two == _CUT:
            i += 4 if data[i + 2 : i + 3] in (b"A", b"B", b"\x41", b"\x42") else 3
        elif data[i : i + 3] == b"\x1d(k":
            length = int.from_bytes(data[i + 3 : i + 5], "little")
            body = data[i + 5 : i + 5 + length]
            if body[:2] == bytes([49, 80]):  # store the QR data
                out += b"[QR " + body[3:] + b"]"
            i += 5 + length
        elif data[i : i + 3] == b"\x1dv0":  # raster image: width in bytes, height in dots
            width = int.from_bytes(data[i + 4 : i + 6], "little")
            height = int.from_bytes(data[i + 6 : i + 8], "little")
            out += b"[QR]"
            i += 8 + width * height
        elif data[i] in (0x1B, 0x1C, 0x1D, 0x10):
            i += 3  # anything else: a short command; skip it rather than print its bytes
        else:
            out.append(data[i])
            i += 1
    return out.decode("gb18030", errors="replace")


class _PrinterHandler(socketserver.BaseRequestHandler):
    server: _PrinterServer

    def handle(self) -> None:
        self.request.settimeout(15)
        data = bytearray()
        try:
            while chunk := self.request.recv(65536):
                data += chunk
                while (end := data.find(_CUT)) >= 0 and len(data) >= end + 4:
                    self.server.keep(bytes(data[: end + 4]))
                    del data[: end + 4]
        except OSError:
            pass
        if data.strip(b"\x00"):
            self.server.keep(bytes(data))


class _PrinterServer(socketserver.ThreadingTCPServer):
    """A network receipt printer as far as the bytes go: one slip per cut, kept in `folder`."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.count = len(list(folder.glob("*.bin")))
        super().__init__(("127.0.0.1", port), _PrinterHandler)

    def keep(self, slip: bytes) -> None:
        with self._lock:
            self.count += 1
            stem = self.folder / str(self.count)
        stem.with_suffix(".bin").write_bytes(slip)
        stem.with_suffix(".txt").write_text(slip_text(slip), encoding="utf-8")


class DemoDevices:
    """The simulated hardware of one station and the page to work it (see the module)."""

    def __init__(
        self, folder: Path, page_port: int, printer_port: int, resident: tuple[str, str, str]
    ) -> None:
        self.folder = folder
        self.page_url = f"http://127.0.0.1:{page_port}/"
        self.printer_url = f"tcp://127.0.0.1:{printer_port}?status=off"
        self.cards = demo_cards(resident)
        self.texts: list[Sms] = []
        self._lock = threading.Lock()
        self.placed: int | None = None  # index into cards
        folder.mkdir(parents=True, exist_ok=True)
        self.modem = SimulatedModem(str(folder / "modem"), on_sent=self._sent)
        self.sms_log = folder / "logs" / "sms.log"
        self.reader = SimulatedIdCardReader()
        self.printer = _PrinterServer(printer_port, folder / "slips")
        self.page = ThreadingHTTPServer(("127.0.0.1", page_port), _page_handler(self))
        self.page.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def modem_port(self) -> str:
        return self.modem.path

    @property
    def reader_port(self) -> str:
        return self.reader.port

    def start(self) -> None:
        (self.folder / "modem").mkdir(exist_ok=True)
        self.modem.start()
        self.reader.start()
        for server in (self.printer, self.page):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        for server in (self.page, self.printer):
            server.shutdown()
            server.server_close()
        self.reader.stop()
        self.modem.stop()

    def _sent(self, sms: SentSms) -> None:
        self._note(Sms("out", sms.number, sms.text, time.strftime("%H:%M:%S")))

    def _note(self, sms: Sms) -> None:
        with self._lock:
            self.texts.append(sms)
        with open(self.sms_log, "a", encoding="utf-8") as log:
            arrow = "→" if sms.direction == "out" else "←"
            log.write(f"[{sms.at}] {arrow} {sms.number}: {sms.text}\n")

    def reply(self, number: str, text: str) -> None:
        """A phone answers: the text reaches the modem, which tells the gateway (+CMTI)."""
        self.modem.deliver(number, text)
        self._note(Sms("in", number, text, time.strftime("%H:%M:%S")))

    def place(self, index: int) -> None:
        """Put a card on the reader. One already there is taken off first, and the reader
        runner gets a moment to see it gone, so placing the same card again reads it again."""
        card = self.cards[index]
        if self.placed is not None:
            self.reader.remove()
            time.sleep(0.8)
        self.reader.place(card)
        self.placed = index

    def remove(self) -> None:
        self.reader.remove()
        self.placed = None

    def slips(self) -> list[tuple[str, str]]:
        """(name, text) of each slip printed, newest first."""
        found = sorted(
            (self.folder / "slips").glob("*.txt"), key=lambda p: int(p.stem), reverse=True
        )
        return [(p.name, p.read_text(encoding="utf-8")) for p in found]

    def state(self) -> dict[str, Any]:
        with self._lock:
            texts = [t.__dict__ for t in reversed(self.texts)]
        return {
            "sms": texts,
            "card": None if self.placed is None else self.cards[self.placed].name,
            "slips": [{"name": n, "text": t} for n, t in self.slips()],
        }


def _page_handler(devices: DemoDevices) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # the demo's terminal stays quiet

        def _send(self, status: int, body: str, kind: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/state.json":
                self._send(200, json.dumps(devices.state(), ensure_ascii=False), "application/json")
            elif self.path in ("/", "/index.html"):
                self._send(200, _render(devices), "text/html")
            else:
                self._send(404, "没有这个页面 / not found", "text/plain")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            try:
                if self.path == "/reply":
                    number, text = form.get("number", "").strip(), form.get("text", "").strip()
                    if not number.isdigit() or not text:
                        raise ValueError("回复需要手机号和内容 / a reply needs a number and text")
                    devices.reply(number, text)
                elif self.path == "/card":
                    card = form.get("card", "")
                    if not card.isdigit() or int(card) >= len(devices.cards):
                        raise ValueError(f"没有这张卡 / no such card: {card!r}")
                    devices.place(int(card))
                elif self.path == "/remove":
                    devices.remove()
                else:
                    self._send(404, "没有这个操作 / not found", "text/plain")
                    return
            except ValueError as exc:
                self._send(400, f"{exc}", "text/plain")
                return
            self.send_response(303)
            self.send_header("Location", "/")
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


_STYLE = """
body { font: 18px/1.5 sans-serif; margin: 1rem 2rem; max-width: 60rem; }
section { border: 1px solid #ccc; border-radius: 6px; padding: .5rem 1rem; margin: 1rem 0; }
li { margin: .4rem 0; } .in { color: #555; } button { font-size: 1rem; padding: .2rem .8rem; }
pre { background: #f6f6f6; padding: .5rem; white-space: pre-wrap; }
"""


def _render(devices: DemoDevices) -> str:
    e = html.escape
    state = devices.state()
    texts = []
    for sms in state["sms"]:
        if sms["direction"] == "out" and "回复1" in sms["text"]:  # an offer: answer it here
            answer = (
                '<form method="post" action="/reply" style="display:inline">'
                f'<input type="hidden" name="number" value="{e(sms["number"])}">'
                '<button name="text" value="1">回复 1 接单</button> '
                '<button name="text" value="2">回复 2 不接</button></form>'
            )
            texts.append(
                f"<li>[{e(sms['at'])}] → {e(sms['number'])}：{e(sms['text'])} {answer}</li>"
            )
        elif sms["direction"] == "out":
            texts.append(f"<li>[{e(sms['at'])}] → {e(sms['number'])}：{e(sms['text'])}</li>")
        else:
            texts.append(
                f'<li class="in">[{e(sms["at"])}] ← {e(sms["number"])}：{e(sms["text"])}</li>'
            )
    notes = ["已登记 registered", *["未登记 not registered"] * (len(devices.cards) - 1)]
    for i, card in enumerate(devices.cards):
        if card.valid_until is not None and card.valid_until < dt.date.today():
            notes[i] = "已过期 expired"
    cards = "".join(
        f'<button name="card" value="{i}">{e(c.name)}（{notes[i]}）</button> '
        for i, c in enumerate(devices.cards)
    )
    on_reader = f"读卡器上：{e(state['card'])}" if state["card"] else "读卡器上没有卡"
    slips = "".join(f"<h3>{e(n)}</h3><pre>{e(t)}</pre>" for n, t in devices.slips()[:5])
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>快工演示设备 demo devices</title>
<style>{_STYLE}</style></head><body>
<h1>演示设备 Demo devices</h1>
<p>本页每 5 秒刷新。This page refreshes every 5 s.</p>
<section id="sms"><h2>短信 SMS（最新在上 newest first）</h2>
<ul>{"".join(texts) or "<li>还没有短信。发单后，短信会出现在这里。</li>"}</ul>
<form method="post" action="/reply">手机号 <input name="number" size="12">
内容 <input name="text" size="10"> <button>发短信给驿站</button></form></section>
<section id="idcard"><h2>身份证读卡器 ID card reader</h2><p>{on_reader}</p>
<form method="post" action="/card">放卡 place a card: {cards}</form>
<form method="post" action="/remove"><button>取走卡片 take it off</button></form>
<p>先在自助机打开登录页，再放卡。Open the kiosk's sign-in page first.</p></section>
<section id="slips"><h2>派工单 Slips（{len(state["slips"])}）</h2>
{slips or "<p>还没有打印。</p>"}</section>
<script>
function later() {{ setTimeout(refresh, 5000); }}
function refresh() {{  // not while someone is typing a reply
  if (document.activeElement && document.activeElement.tagName === "INPUT") later();
  else location.reload();
}}
later();
</script>
</body></html>"""
