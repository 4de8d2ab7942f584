"""QR codes for job pages: one validated symbol, drawn as SVG, PNG or printer dots.

Every QR code the station shows or prints goes through `make_symbol`, so the display board,
the kiosk and the receipt printer agree on what a valid job URL is and on the error
correction level (M: a thermal print that is smudged or folded still scans).
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import segno

# Medium error correction: survives a crease or a smudge on thermal paper without making the
# symbol so dense that a cheap phone camera struggles with it at 25 mm.
ERROR_LEVEL = "M"

# A URL longer than this is a bug upstream (job pages are short); refusing it keeps the printed
# symbol within a size that phones read reliably.
MAX_URL_LENGTH = 300


class QrError(ValueError):
    """The text cannot become a QR code a phone will open."""

    def __init__(self, message_zh: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message_zh = message_zh
        self.message_en = message_en


def make_symbol(url: str) -> segno.QRCode:
    """A QR code (never a Micro QR) for `url`, at a fixed error level."""
    if not isinstance(url, str) or not url.strip():
        raise QrError("二维码网址不能为空", "the QR code URL is empty")
    if not url.startswith(("http://", "https://")):
        raise QrError(
            f"二维码网址必须以 http:// 或 https:// 开头：{url}",
            f"the QR code URL must start with http:// or https://: {url}",
        )
    if not url.isascii() or any(ch.isspace() for ch in url):
        # Phones differ on how they read non-ASCII bytes in a QR code; a URL must arrive
        # percent-encoded so every scanner opens the same page.
        raise QrError(
            f"二维码网址含有空格或非 ASCII 字符，请先做百分号编码：{url}",
            f"the QR code URL has spaces or non-ASCII characters; percent-encode it: {url}",
        )
    if len(url) > MAX_URL_LENGTH:
        raise QrError(
            f"二维码网址太长（{len(url)} 个字符，最多 {MAX_URL_LENGTH}）",
            f"the QR code URL is too long ({len(url)} characters, at most {MAX_URL_LENGTH})",
        )
    # boost_error=False: the printer's native command is told the same level, so the symbol it
    # draws has the size computed here.
    return segno.make_qr(url, error=ERROR_LEVEL, boost_error=False)


def qr_svg(url: str, scale: int = 4, title: str | None = None) -> str:
    """An inline `<svg>` element for a web page: no XML declaration, no external references."""
    if scale < 1:
        raise QrError("二维码放大倍数至少为 1", "the QR code scale must be at least 1")
    buffer = io.BytesIO()
    make_symbol(url).save(
        buffer,
        kind="svg",
        scale=scale,
        xmldecl=False,
        svgns=True,
        nl=False,
        title=title,
        svgclass="qr",
        lineclass=None,
    )
    return buffer.getvalue().decode("utf-8")


def qr_png(url: str, scale: int = 4) -> bytes:
    """The QR code as PNG bytes, `scale` pixels per module, with the standard 4-module margin."""
    if scale < 1:
        raise QrError("二维码放大倍数至少为 1", "the QR code scale must be at least 1")
    buffer = io.BytesIO()
    make_symbol(url).save(buffer, kind="png", scale=scale)
    return buffer.getvalue()


def module_count(symbol: segno.QRCode) -> int:
    """Modules along one side of the symbol, without the quiet zone."""
    width, _ = symbol.symbol_size(scale=1, border=0)
    return int(width)


def dot_rows(symbol: segno.QRCode, scale: int, border: int = 4) -> Iterator[list[bool]]:
    """The symbol as rows of dots (True = dark), `scale` dots per module, for raster printing."""
    for row in symbol.matrix_iter(scale=scale, border=border):
        yield [bool(module) for module in row]
