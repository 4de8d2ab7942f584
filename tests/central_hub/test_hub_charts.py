"""Server-drawn SVG charts: well-formed, labelled for screen readers, escaped, self-contained."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from central_hub import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))


def test_line_chart_draws_one_point_per_known_value_and_leaves_gaps() -> None:
    svg = charts.line_chart(
        ["1月", "2月", "3月", "4月"], [10, None, 30, 40], title="月度满员率", unit="%", target=50
    )
    root = _parse(svg)
    assert root.get("role") == "img" and root.get("aria-label") == "月度满员率"
    assert root.findtext(f"{SVG}title") == "月度满员率"
    assert len(root.findall(f"{SVG}circle")) == 3
    # The gap splits the line: only 3月–4月 make a polyline of two points.
    lines = root.findall(f"{SVG}polyline")
    assert len(lines) == 1 and len(lines[0].get("points", "").split()) == 2
    assert root.find(f"{SVG}line[@class='target']") is not None
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_bar_chart_scales_bars_to_the_maximum_and_escapes_labels() -> None:
    svg = charts.bar_chart(
        [("<家政>", 100.0), ("搬运 & 装卸", 50.0), ("绿化", None)],
        title="各行业满员率",
        unit="%",
        maximum=100,
    )
    root = _parse(svg)
    widths = [float(r.get("width", "0")) for r in root.findall(f"{SVG}rect")]
    assert len(widths) == 2 and widths[0] == 2 * widths[1]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "<家政>" in texts and "搬运 & 装卸" in texts and "—" in texts
    assert "<家政>" not in str(svg)


def test_progress_bar_caps_the_bar_but_states_the_real_share() -> None:
    root = _parse(charts.progress_bar(250, 200, title="登记人数"))
    full, filled = root.findall(f"{SVG}rect")
    assert filled.get("width") == full.get("width")
    assert "125%" in root.get("aria-label", "")


def test_empty_charts_say_so_instead_of_drawing_axes() -> None:
    for svg in (
        charts.line_chart([], [], title="趋势", empty="暂无数据"),
        charts.bar_chart([], title="行业", empty="暂无数据"),
    ):
        root = _parse(svg)
        assert [t.text for t in root.iter(f"{SVG}text")] == ["暂无数据"]
