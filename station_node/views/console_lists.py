"""Console lists: one page of rows with the count of all, and CSV or XLSX exports.

Lists used to stop at 200 rows without saying so; now every list says how many rows there are
and pages through them. Exports carry the same words staff read on the pages (local times,
labels, yuan, short numbers), never the stored codes.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import peewee
from flask import Response, request

PER_PAGE = 50
MAX_EXPORT_ROWS = 100_000


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, the count of all rows, and where it sits."""

    rows: list[Any]
    total: int
    number: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else (self.number - 1) * self.per_page + 1

    @property
    def last(self) -> int:
        return min(self.total, self.number * self.per_page)

    def url_args(self, number: int) -> dict[str, Any]:
        """The current page's query arguments with another page number."""
        args: dict[str, Any] = {k: v for k, v in request.args.items() if k != "page"}
        args["page"] = number
        return args


def page_of(query: peewee.ModelSelect, per_page: int = PER_PAGE) -> Page:
    """The page of `query` the request asks for (?page=, out-of-range numbers clamp)."""
    total = query.count()
    try:
        wanted = int(request.args.get("page", "1"))
    except ValueError:
        wanted = 1
    pages = max(1, -(-total // per_page))
    number = min(max(wanted, 1), pages)
    rows = list(query.paginate(number, per_page))
    return Page(rows=rows, total=total, number=number, per_page=per_page)


def page_of_list(items: list[Any], per_page: int = PER_PAGE) -> Page:
    """`page_of` for rows a service already gave as a list."""
    try:
        wanted = int(request.args.get("page", "1"))
    except ValueError:
        wanted = 1
    pages = max(1, -(-len(items) // per_page))
    number = min(max(wanted, 1), pages)
    start = (number - 1) * per_page
    return Page(items[start : start + per_page], len(items), number, per_page)


Columns = list[tuple[str, Callable[[Any], Any]]]


def export(name: str, fmt: str, columns: Columns, rows: Iterable[Any]) -> Response:
    """`rows` as a download: CSV (UTF-8 with BOM, so Excel reads the Chinese) or XLSX."""
    header = [title for title, _ in columns]
    table = [[read(row) for _, read in columns] for row in rows]
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = name[:31]
        sheet.append(header)
        for line in table:
            sheet.append(line)
        for index, title in enumerate(header, start=1):
            letter = sheet.cell(row=1, column=index).column_letter
            sheet.column_dimensions[letter].width = max(10, len(str(title)) * 2 + 2)
        out = io.BytesIO()
        book.save(out)
        body: bytes = out.getvalue()
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        writer.writerows(table)
        body = ("\ufeff" + text.getvalue()).encode("utf-8")
        mime = "text/csv; charset=utf-8"
    filename = f"{name}.{fmt}"
    return Response(
        body,
        mimetype=mime,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(filename)}",
            "Cache-Control": "no-store",
        },
    )


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
