"""Tables written out as an XLSX workbook (openpyxl) or a CSV file for French Excel.

Every workbook sheet has a frozen, bold header row, a filter on it, column widths, and a number
format per value type (whole numbers, scores with one decimal, dates as dd/mm/yyyy). CSV files use
`;` and UTF-8 with a byte-order mark, which French Excel opens as is. Text is never a formula: a
cell starting with = + - @ is stored as text in the workbook and gets a leading apostrophe in CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from app.reports.tables import Cell, Table

if TYPE_CHECKING:  # openpyxl is imported where a workbook is written: it costs start-up time
    from openpyxl.cell.cell import Cell as SheetCell
    from openpyxl.styles import Alignment
    from openpyxl.worksheet.worksheet import Worksheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may read as the start of a formula (OWASP's CSV injection list)."""
FORMATS = {int: "0", float: "0.0", date: "dd/mm/yyyy"}
SHEET_NAME_MAX = 31


def workbook(tables: Sequence[Table]) -> bytes:
    """The tables as the sheets of one XLSX workbook, in order."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for table in tables:
        _write_sheet(book.create_sheet(_sheet_name(table.name)), table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _write_sheet(sheet: Worksheet, table: Table) -> None:
    from openpyxl.cell.cell import Cell as SheetCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    sheet.append(table.headers)
    header, wrapped = Font(bold=True), Alignment(wrap_text=True, vertical="top")
    for cell in sheet[1]:
        cell.font = header
    for row_number, row in enumerate(table.rows, start=2):
        for column_number, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_number, column=column_number)
            assert isinstance(cell, SheetCell)  # a new sheet merges no cells
            _set(cell, value, wrapped)
    for index, column in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    last = f"{get_column_letter(len(table.columns))}{max(len(table.rows) + 1, 2)}"
    sheet.auto_filter.ref = f"A1:{last}"


def _set(cell: SheetCell, value: Cell, wrapped: Alignment) -> None:
    """Write one value with its type's format; text stays text, whatever it starts with."""
    if isinstance(value, datetime):
        value = value.date()
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl reads a leading "=" as a formula otherwise
        if len(value) > 60 or "\n" in value:
            cell.alignment = wrapped
        return
    number_format = next((f for kind, f in FORMATS.items() if isinstance(value, kind)), None)
    if number_format and not isinstance(value, bool):
        cell.number_format = number_format


def _sheet_name(name: str) -> str:
    """A sheet name Excel accepts: none of []:*?/\\ and at most 31 characters."""
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in name)
    return cleaned[:SHEET_NAME_MAX]


def csv_bytes(table: Table) -> bytes:
    """The table as CSV for French Excel: `;`, UTF-8 with BOM, CRLF, dates as dd/mm/yyyy."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_text(header) for header in table.headers])
    writer.writerows([_csv_value(value) for value in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _csv_value(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")  # French Excel reads a decimal comma
    if isinstance(value, int):
        return str(value)
    return _csv_text(value)


def _csv_text(text: str) -> str:
    """Text a spreadsheet shows as text: a leading apostrophe before what could start a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text
