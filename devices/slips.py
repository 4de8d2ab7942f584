"""Job slips for the ESC/POS receipt printer: a typed slip and the exact bytes that print it.

`render_slip` is pure (slip in, bytes out) so the layout is tested byte for byte; `print_slip`
hands those bytes to any python-escpos printer object in one raw write.

Chinese goes out as GB18030 in the printer's Chinese mode (FS &), not through python-escpos's
`text()`: that path only treats text as Chinese when it contains a character in U+4E00..U+9FA5,
never sends FS &, and pushes everything else through single-byte code pages, so a line of
full-width punctuation or a rare name character comes out as "?" (see devices/README.md).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, fields
from typing import Literal, Protocol

import segno

from devices import qr

QrMode = Literal["native", "raster"]


class RawPrinter(Protocol):
    """What `print_slip` needs of a printer: python-escpos's raw write."""

    def _raw(self, msg: bytes) -> None: ...


@dataclass(frozen=True)
class Paper:
    """A paper roll: text columns of font A (a Chinese character takes two) and dots across."""

    columns: int
    dots: int


PAPER_58MM = Paper(columns=32, dots=384)
PAPER_80MM = Paper(columns=48, dots=576)

# The commands a slip uses (ESC/POS; FS & and FS . are the Chinese-mode pair every
# GB18030-capable receipt printer understands).
ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
ALIGN_LEFT = ESC + b"a\x00"
ALIGN_CENTER = ESC + b"a\x01"
BOLD_ON = ESC + b"E\x01"
BOLD_OFF = ESC + b"E\x00"
SIZE_NORMAL = GS + b"!\x00"
SIZE_TALL = GS + b"!\x01"
# GS V 66 0: feed to the cutter, then cut leaving a hinge, so the slip hangs at the printer
# until it is torn off instead of dropping behind the counter. Printers without a partial
# cut make a full one.
CUT = GS + b"V\x42\x00"

# Dots per QR module: 3 is the smallest a phone reads reliably off thermal paper, above 6
# the code only wastes paper.
MIN_MODULE_DOTS = 3
MAX_MODULE_DOTS = 6
QUIET_ZONE = 4  # modules of white around the symbol, as the QR standard asks
_QR_ERROR_BYTE = {"L": 48, "M": 49, "Q": 50, "H": 51}

LABOUR_HOTLINE = "12333"

# Labels as they read on the slip, and in errors that name a field.
LABELS = {
    "station_name": "驿站名称",
    "job_title": "工作",
    "time_window": "时间",
    "address": "地点",
    "employer_name": "雇主",
    "employer_phone": "雇主电话",
    "pay": "工钱",
    "worker_name": "工人",
    "worker_id_masked": "证件号",
    "job_number": "编号",
    "qr_url": "二维码网址",
    "station_hotline": "驿站电话",
    "labour_hotline": "劳动保障热线",
}
# May be blank: a walk-in employer without a phone, a worker registered without an ID card.
OPTIONAL = {"employer_phone", "worker_id_masked"}


class SlipError(ValueError):
    """A slip that must not be printed as given; `field` names the culprit."""

    def __init__(self, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{field}: {message_en}")
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en


@dataclass(frozen=True)
class JobSlip:
    """What a worker takes to the job. Every text is final (already formatted, local time)."""

    station_name: str
    job_title: str
    time_window: str
    address: str
    employer_name: str
    employer_phone: str
    pay: str
    worker_name: str
    worker_id_masked: str
    job_number: str
    qr_url: str
    station_hotline: str
    labour_hotline: str = LABOUR_HOTLINE

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            label = LABELS[f.name]
            if not isinstance(value, str):
                raise SlipError(f.name, f"{label}必须是文字", f"{f.name} must be text")
            if not _clean(value) and f.name not in OPTIONAL:
                raise SlipError(f.name, f"{label}不能为空", f"{f.name} is empty")
        if self.worker_id_masked and "*" not in self.worker_id_masked:
            # A slip is left on counters and in pockets: a full ID number must never print.
            raise SlipError(
                "worker_id_masked",
                "证件号必须打码（中间用 * 遮住）",
                "the ID number must be masked with * before it is printed",
            )
        try:
            qr.make_symbol(self.qr_url)
        except qr.QrError as error:
            raise SlipError("qr_url", error.message_zh, error.message_en) from error


def render_slip(slip: JobSlip, paper: Paper = PAPER_58MM, qr_mode: QrMode = "native") -> bytes:
    """The ESC/POS bytes of one slip, from printer reset to cut."""
    columns = paper.columns
    out = [INIT, CHINESE_ON]

    out += [ALIGN_CENTER, BOLD_ON, SIZE_TALL]
    out += _lines(_wrap("", slip.station_name, columns))
    out += [SIZE_NORMAL]
    out += _lines(_wrap("", "派工单", columns))
    out += [BOLD_OFF, ALIGN_LEFT]
    out += _lines(["-" * columns])

    out += [BOLD_ON]
    out += _lines(_wrap("工作：", slip.job_title, columns))
    out += [BOLD_OFF]
    details = [
        ("编号：", slip.job_number),
        ("时间：", slip.time_window),
        ("地点：", slip.address),
        ("工钱：", slip.pay),
        ("雇主：", slip.employer_name),
        ("电话：", slip.employer_phone),
    ]
    out += _field_lines(details, columns)
    out += _lines(["-" * columns])
    out += _field_lines([("工人：", slip.worker_name), ("证件：", slip.worker_id_masked)], columns)
    out += _lines(["-" * columns])

    out += [ALIGN_CENTER]
    out += [_qr_bytes(slip.qr_url, paper, qr_mode)]
    out += _lines(["扫码查看工作详情"])
    out += [ALIGN_LEFT]
    out += _lines(_wrap("驿站电话：", slip.station_hotline, columns))
    out += _lines(_wrap("劳动保障热线：", slip.labour_hotline, columns))

    out += [CHINESE_OFF, CUT]
    return b"".join(out)


def print_slip(
    printer: RawPrinter,
    slip: JobSlip,
    paper: Paper = PAPER_58MM,
    qr_mode: QrMode = "native",
) -> None:
    """Print `slip` on a python-escpos printer (Network, Serial, File, Dummy...)."""
    printer._raw(render_slip(slip, paper, qr_mode))


def _clean(text: str) -> str:
    """One line of printable text: control and format characters (a stray ESC in a job title
    would be obeyed as a printer command) become spaces, runs of blanks one space."""
    kept = (" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs") else ch for ch in text)
    return " ".join("".join(kept).split())


def _width(ch: str) -> int:
    # In Chinese mode every character GB18030 encodes in more than one byte prints full-width,
    # including "·" and "：", whatever Unicode calls their width.
    return 1 if ch.isascii() else 2


def _wrap(label: str, value: str, columns: int) -> list[str]:
    """`label` + `value` broken to `columns`, continuation lines indented under the value."""
    text = _clean(value)
    indent = sum(_width(ch) for ch in label)
    if columns - indent < 8:
        indent = 0
    lines: list[str] = []
    line, used = label, indent
    for ch in text:
        if used + _width(ch) > columns:
            lines.append(line.rstrip())
            line, used = " " * indent, indent
            if ch == " ":
                continue
        line += ch
        used += _width(ch)
    lines.append(line.rstrip())
    return lines


def _field_lines(pairs: list[tuple[str, str]], columns: int) -> list[bytes]:
    out: list[bytes] = []
    for label, value in pairs:
        if _clean(value):
            out += _lines(_wrap(label, value, columns))
    return out


def _lines(lines: list[str]) -> list[bytes]:
    # Lines come out of `_wrap` already cleaned; cleaning again would eat the indent.
    return [line.encode("gb18030", errors="replace") + b"\n" for line in lines]


def _qr_bytes(url: str, paper: Paper, qr_mode: QrMode) -> bytes:
    symbol = qr.make_symbol(url)
    modules = qr.module_count(symbol) + 2 * QUIET_ZONE
    dots = min(MAX_MODULE_DOTS, paper.dots // modules)
    if dots < MIN_MODULE_DOTS:
        raise SlipError(
            "qr_url",
            "二维码网址太长，在这卷纸上印出来手机扫不了",
            "the QR code URL is too long to print scannably on this paper",
        )
    if qr_mode == "raster":
        return _qr_raster(symbol, dots)
    return _qr_native(url, dots)


def _gs_k(fn: int, params: bytes) -> bytes:
    """One GS ( k function for QR codes (cn = 49)."""
    body = bytes([49, fn]) + params
    return GS + b"(k" + len(body).to_bytes(2, "little") + body


def _qr_native(url: str, module_dots: int) -> bytes:
    """GS ( k: model 2, module size, error level, store the data, print it."""
    return b"".join(
        [
            _gs_k(65, bytes([50, 0])),
            _gs_k(67, bytes([module_dots])),
            _gs_k(69, bytes([_QR_ERROR_BYTE[qr.ERROR_LEVEL]])),
            _gs_k(80, b"0" + url.encode("ascii")),
            _gs_k(81, b"0"),
            b"\n",
        ]
    )


def _qr_raster(symbol: segno.QRCode, module_dots: int) -> bytes:
    """GS v 0: the symbol as a raster bit image, for printers without a native QR command."""
    rows = list(qr.dot_rows(symbol, module_dots, QUIET_ZONE))
    width = len(rows[0])
    width_bytes = (width + 7) // 8
    data = bytearray()
    for row in rows:
        padded = row + [False] * (width_bytes * 8 - width)
        for start in range(0, len(padded), 8):
            byte = 0
            for bit in padded[start : start + 8]:
                byte = (byte << 1) | int(bit)
            data.append(byte)
    header = GS + b"v0\x00" + width_bytes.to_bytes(2, "little") + len(rows).to_bytes(2, "little")
    return header + bytes(data) + b"\n"
