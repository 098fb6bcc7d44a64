"""The XLSX and CSV writers on their own: types, formats, sheet names, and no formula ever."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest

from app.reports.spreadsheets import csv_bytes, workbook
from app.reports.tables import Column, Table

RISKY = ["=1+1", "+33 6 12 34 56 78", "-2", "@SUM(A1)", "\tcachée", "\r=1"]


def table(name: str = "Écarts") -> Table:
    rows = [(text, -3, 41.25, date(2027, 3, 1), None) for text in RISKY]
    columns = (Column("Texte", 20), Column("Nombre"), Column("Score"), Column("Échéance"), Column("Vide"))
    return Table(name, columns, rows)


def test_text_that_looks_like_a_formula_stays_text_in_the_workbook() -> None:
    book = openpyxl.load_workbook(io.BytesIO(workbook([table()])))
    sheet = book["Écarts"]
    for row, text in enumerate(RISKY, start=2):
        assert sheet.cell(row=row, column=1).value == text.replace("\r", "\n")  # XML's line ends
        assert sheet.cell(row=row, column=1).data_type == "s"
    assert sheet.cell(row=2, column=2).value == -3  # numbers stay numbers
    assert sheet.cell(row=2, column=2).number_format == "0"
    assert sheet.cell(row=2, column=3).number_format == "0.0"
    assert sheet.cell(row=2, column=4).number_format == "dd/mm/yyyy"
    assert sheet.cell(row=2, column=5).value is None
    assert sheet.column_dimensions["A"].width == 20
    assert sheet.auto_filter.ref == "A1:E7"


def test_the_csv_quotes_formulas_out_and_writes_french_numbers_and_dates() -> None:
    content = csv_bytes(table())
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert rows[0] == ["Texte", "Nombre", "Score", "Échéance", "Vide"]
    assert [row[0] for row in rows[1:]] == ["'" + text for text in RISKY]
    assert rows[1][1:] == ["-3", "41,2", "01/03/2027", ""]


@pytest.mark.parametrize(
    ("name", "sheet"),
    [("Plan d'action", "Plan d'action"), ("A/B: [x]?*", "A-B- -x---"), ("x" * 40, "x" * 31)],
)
def test_sheet_names_are_ones_excel_accepts(name: str, sheet: str) -> None:
    assert openpyxl.load_workbook(io.BytesIO(workbook([table(name)]))).sheetnames == [sheet]
