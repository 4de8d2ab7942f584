"""The annual station evaluation as CSV and XLSX files.

The workbook has a summary sheet and one sheet per heading (工作量 / 专业化 / 服务成效), headers
in the reader's language, numbers stored as numbers (a value with nothing to measure is an
empty cell, never 0), the header row frozen.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from central_hub.services.evaluation import (
    BAND_NAMES,
    GRADE_NAMES,
    HEADINGS,
    INDICATORS,
    local_time,
)


def _pick(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def summary_headers(lang: str) -> list[str]:
    heads = [
        _pick(lang, "驿站编号", "Station id"),
        _pick(lang, "驿站名称", "Station"),
        _pick(lang, "区县", "District"),
        _pick(lang, "社区", "Community"),
    ]
    heads += [_pick(lang, f"{zh}得分", f"{en} points") for _, zh, en in HEADINGS]
    heads += [
        _pick(lang, "总分", "Total"),
        _pick(lang, "等级", "Grade"),
        _pick(lang, "补贴档次", "Subsidy band"),
        _pick(lang, "补贴金额（元）", "Subsidy (yuan)"),
        _pick(lang, "整改期限", "Rectification deadline"),
    ]
    return heads


def summary_values(row: dict[str, Any], lang: str) -> list[Any]:
    result = row["result"]
    case = row["case"]
    return [
        row["station_id"],
        row["name"],
        row["district"],
        row["community"],
        *[row["headings"][code] for code, _, _ in HEADINGS],
        float(result.total),
        _pick(lang, *GRADE_NAMES[result.grade]),
        _pick(lang, *BAND_NAMES[result.band]),
        int(result.subsidy),
        local_time(case.deadline) if case is not None else None,
    ]


def heading_headers(heading: str, lang: str) -> list[str]:
    heads = [_pick(lang, "驿站编号", "Station id"), _pick(lang, "驿站名称", "Station")]
    for ind in INDICATORS:
        if ind.heading == heading:
            heads.append(_pick(lang, f"{ind.zh}（{ind.unit}）", f"{ind.en} ({ind.unit})"))
            heads.append(_pick(lang, f"{ind.zh}得分", f"{ind.en} points"))
    heads.append(_pick(lang, "小计", "Subtotal"))
    return heads


def heading_values(row: dict[str, Any], heading: str) -> list[Any]:
    result = row["result"]
    values: list[Any] = [row["station_id"], row["name"]]
    for ind in INDICATORS:
        if ind.heading == heading:
            values.append(result.measured.get(ind.code))
            values.append(float(result.scores.get(ind.code, 0)))
    values.append(row["headings"][heading])
    return values


def evaluation_csv(rows: list[dict[str, Any]], lang: str = "zh") -> bytes:
    """The summary and every indicator in one CSV (UTF-8 with BOM, so spreadsheet programs read
    the Chinese headers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    extra = [heading_headers(code, lang)[2:-1] for code, _, _ in HEADINGS]
    writer.writerow(summary_headers(lang) + [h for part in extra for h in part])
    for row in rows:
        cells = summary_values(row, lang)
        for code, _, _ in HEADINGS:
            cells += heading_values(row, code)[2:-1]
        writer.writerow(["" if c is None else c for c in cells])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _sheet(sheet: Worksheet, headers: list[str], body: list[list[Any]]) -> None:
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in body:
        sheet.append(values)
    for column in sheet.columns:
        width = max(len(str(c.value if c.value is not None else "")) for c in column) * 2 + 2
        sheet.column_dimensions[column[0].column_letter].width = min(40, width)
    sheet.freeze_panes = "A2"


def evaluation_xlsx(rows: list[dict[str, Any]], year: int, lang: str = "zh") -> bytes:
    """The workbook: the summary sheet, then one sheet per heading."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = _pick(lang, f"{year}年度汇总", f"Summary {year}")
    _sheet(summary, summary_headers(lang), [summary_values(row, lang) for row in rows])
    for code, zh, en in HEADINGS:
        sheet = book.create_sheet(_pick(lang, zh, en))
        _sheet(sheet, heading_headers(code, lang), [heading_values(row, code) for row in rows])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
