"""The annual station evaluation as CSV and XLSX files."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from central_hub.services.citystats import EVALUATION_COLUMNS


def _headers(lang: str) -> list[str]:
    return [en if lang == "en" else zh for _, zh, en in EVALUATION_COLUMNS]


def _values(row: dict[str, Any]) -> list[Any]:
    return ["" if row[key] is None else row[key] for key, _, _ in EVALUATION_COLUMNS]


def evaluation_csv(rows: list[dict[str, Any]], lang: str = "zh") -> bytes:
    """CSV bytes (UTF-8 with BOM, so spreadsheet programs read the Chinese headers)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_headers(lang))
    for row in rows:
        writer.writerow(_values(row))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def evaluation_xlsx(rows: list[dict[str, Any]], year: int, lang: str = "zh") -> bytes:
    """An XLSX workbook with one sheet of the evaluation."""
    book = Workbook()
    sheet = book.active
    sheet.title = f"{year}年度驿站考核" if lang != "en" else f"Evaluation {year}"
    sheet.append(_headers(lang))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_values(row))
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column) + 4
        sheet.column_dimensions[column[0].column_letter].width = min(40, width)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
