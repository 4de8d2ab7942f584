"""Small charts drawn by the server as inline SVG strings: no script, no CDN, no web font.

Each function takes plain numbers and labels and returns markup ready for a template
(`{{ svg | safe }}` or `Markup`). Text uses the page's own font (`font-family: inherit`), so
Chinese labels render with the system CJK fonts the stylesheet names. Every chart carries
`role="img"`, an `aria-label` and a `<title>` so screen readers announce what it shows, and
every label is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

# Colours of the hub's stylesheet (static/hub.css): brand blue, target amber, muted grey.
BRAND = "#0b4f8a"
TARGET = "#8a5a00"
GRID = "#c8c8c8"
INK = "#111"
MUTED = "#4a4a4a"


def _num(value: float) -> str:
    """A coordinate or value without trailing zeros (`12`, `12.5`)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _open(kind: str, width: int, height: int, title: str) -> str:
    label = escape(title)
    return (
        f'<svg class="chart {kind}" xmlns="http://www.w3.org/2000/svg" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{label}" style="max-width:{width}px;font-family:inherit">'
        f"<title>{label}</title>"
    )


def _empty(kind: str, width: int, height: int, title: str, empty: str) -> Markup:
    return Markup(
        _open(kind, width, height, title)
        + f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="{MUTED}" '
        f'font-size="14">{escape(empty)}</text></svg>'
    )


def _nice_top(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value` (a round axis maximum)."""
    if value <= 0:
        return 1.0
    scale = 1.0
    while scale * 10 <= value:
        scale *= 10
    while scale > value:
        scale /= 10
    for step in (1, 2, 2.5, 5, 10):
        if step * scale >= value:
            return step * scale
    return 10 * scale


def line_chart(
    labels: Sequence[str],
    values: Sequence[float | None],
    *,
    title: str,
    unit: str = "",
    target: float | None = None,
    target_label: str = "",
    empty: str = "—",
    width: int = 640,
    height: int = 240,
) -> Markup:
    """A line of one value per label (e.g. per month); None leaves a gap in the line.

    `target`, when given, is drawn as a dashed horizontal line named `target_label`.
    """
    known = [v for v in values if v is not None]
    if not labels or not known:
        return _empty("line", width, height, title, empty)
    left, right, top, bottom = 48, 32, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_top(max(known + ([target] if target is not None else [])))
    step = plot_w / max(1, len(labels) - 1)

    def x(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - (v / peak) * plot_h

    parts = [_open("line", width, height, title)]
    for k in range(5):  # four bands: 0, ¼, ½, ¾, top
        value = peak * k / 4
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_num(y(value))}" '
            f'y2="{_num(y(value))}" stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_num(y(value) + 4)}" text-anchor="end" font-size="11" '
            f'fill="{MUTED}">{escape(_num(value))}</text>'
        )
    every = max(1, -(-len(labels) // 12))  # at most 12 axis labels
    for i, label in enumerate(labels):
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{_num(x(i))}" y="{height - bottom + 18}" text-anchor="middle" '
                f'font-size="11" fill="{MUTED}">{escape(label)}</text>'
            )
    if target is not None:
        parts.append(
            f'<line class="target" x1="{left}" x2="{width - right}" y1="{_num(y(target))}" '
            f'y2="{_num(y(target))}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 4">'
            f"<title>{escape(target_label)} {escape(_num(target))}{escape(unit)}</title></line>"
        )
    runs: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None:
            runs.append([])
        else:
            runs[-1].append(f"{_num(x(i))},{_num(y(v))}")
    for run in runs:
        if len(run) > 1:
            parts.append(
                f'<polyline fill="none" stroke="{BRAND}" stroke-width="2.5" '
                f'points="{" ".join(run)}"/>'
            )
    for i, (label, v) in enumerate(zip(labels, values, strict=False)):
        if v is not None:
            parts.append(
                f'<circle cx="{_num(x(i))}" cy="{_num(y(v))}" r="3.5" fill="{BRAND}">'
                f"<title>{escape(label)}: {escape(_num(v))}{escape(unit)}</title></circle>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(
    rows: Sequence[tuple[str, float | None]],
    *,
    title: str,
    unit: str = "",
    maximum: float | None = None,
    empty: str = "—",
    width: int = 640,
    bar: int = 22,
) -> Markup:
    """Horizontal bars, one per (label, value) row, in the given order (e.g. fill rate by
    sector, `maximum=100`, `unit="%"`). A None value shows "—" and no bar."""
    if not rows:
        return _empty("bars", width, 3 * bar, title, empty)
    label_w, value_w, gap = 150, 64, 8
    plot_w = width - label_w - value_w
    height = len(rows) * (bar + gap) + gap
    known = [v for _, v in rows if v is not None]
    peak = maximum if maximum else _nice_top(max(known) if known else 1.0)
    parts = [_open("bars", width, height, title)]
    for i, (label, value) in enumerate(rows):
        top = gap + i * (bar + gap)
        middle = top + bar / 2 + 5
        shown = "—" if value is None else f"{_num(value)}{unit}"
        parts.append(
            f'<text x="{label_w - 8}" y="{_num(middle)}" text-anchor="end" font-size="13" '
            f'fill="{INK}">{escape(label)}</text>'
        )
        if value is not None:
            length = max(0.0, min(1.0, value / peak)) * plot_w
            parts.append(
                f'<rect x="{label_w}" y="{top}" width="{_num(length)}" height="{bar}" '
                f'fill="{BRAND}"><title>{escape(label)}: {escape(shown)}</title></rect>'
            )
        else:
            length = 0.0
        parts.append(
            f'<text x="{_num(label_w + length + 6)}" y="{_num(middle)}" font-size="13" '
            f'fill="{INK}">{escape(shown)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def progress_bar(
    value: float,
    target: float,
    *,
    title: str,
    unit: str = "",
    width: int = 320,
    height: int = 28,
) -> Markup:
    """How far `value` has come toward `target`, with the share written on the bar."""
    share = 0.0 if target <= 0 else max(0.0, value / target)
    pct = round(share * 100)
    filled = min(1.0, share) * width
    text = f"{_num(value)}{unit} / {_num(target)}{unit} · {pct}%"
    return Markup(
        _open("progress", width, height, f"{title}: {text}")
        + f'<rect x="0" y="0" width="{width}" height="{height}" rx="4" fill="#f2f5f8" '
        f'stroke="{GRID}"/>'
        f'<rect x="0" y="0" width="{_num(filled)}" height="{height}" rx="4" fill="{BRAND}"/>'
        f'<text x="8" y="{height // 2 + 5}" font-size="13" fill="{INK}" '
        f'stroke="#fff" stroke-width="3" paint-order="stroke">{escape(text)}</text></svg>'
    )
