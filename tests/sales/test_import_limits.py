"""Hostile spreadsheets get a clear answer in seconds: a sheet that declares A1:XFD1048576, a
million empty rows, a file that unpacks to far more than it weighs."""
import io
import re
import time
import zipfile

import pytest
from openpyxl import Workbook

from webapp.services import sales_import
from webapp.services.sales_import import ImportFileError, read_rows

HEADER = [zh for _key, zh, _en, _req in sales_import.COLUMNS]


def _xlsx(rows, patch=None) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    if patch is None:
        return out.getvalue()
    src, dst = zipfile.ZipFile(io.BytesIO(out.getvalue())), io.BytesIO()
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as z:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = patch(data.decode()).encode()
            z.writestr(item, data)
    return dst.getvalue()


def test_a_declared_full_sheet_dimension_is_read_in_seconds(app):
    data = _xlsx([HEADER, ["S1", "A-1", "2026-10-05 10:00", "10.00", 1]],
                 patch=lambda xml: re.sub(r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:XFD1048576"/>', xml))
    assert len(data) < 10_000 and b"XFD1048576" in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/worksheets/sheet1.xml")
    started = time.monotonic()
    with app.app_context():
        rows = read_rows(data, "sales.xlsx")
    assert time.monotonic() - started < 5
    assert len(rows) == 1


def test_a_cell_on_the_last_row_is_answered_quickly(app):
    data = _xlsx([HEADER], patch=lambda xml: xml.replace(
        "</sheetData>", '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'))
    started = time.monotonic()
    with app.app_context():
        try:
            read_rows(data, "sales.xlsx")
        except ImportFileError as exc:
            assert "行数过多" in str(exc)
    assert time.monotonic() - started < 5


def test_millions_of_empty_rows_are_refused_at_the_line_limit(app, monkeypatch):
    monkeypatch.setattr(sales_import, "MAX_LINES", 2_000)
    empty = "".join(f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t></t></is></c></row>' for n in range(2, 5_000))
    data = _xlsx([HEADER], patch=lambda xml: xml.replace("</sheetData>", empty + "</sheetData>"))
    with app.app_context(), pytest.raises(ImportFileError, match="行数过多"):
        read_rows(data, "sales.xlsx")


def test_a_file_that_unpacks_to_gigabytes_is_refused_before_it_is_read(app, monkeypatch):
    monkeypatch.setattr(sales_import, "MAX_UNPACKED", 5_000)
    data = _xlsx([HEADER, ["S1", "A-1", "2026-10-05 10:00", "x" * 30_000, 1]])
    with app.app_context(), pytest.raises(ImportFileError, match="解压后过大"):
        read_rows(data, "sales.xlsx")
