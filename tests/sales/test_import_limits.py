"""Hostile spreadsheets get a clear answer in seconds: a sheet that declares A1:XFD1048576, a
million empty rows, a file that unpacks to far more than it weighs. Uploads are read by a worker
job in a child process with memory and time limits, never in the web request."""
import io
import os
import re
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.sales.builders import upload_page
from webapp.services import sales_import
from webapp.services.sales_import import ImportFileError, read_rows, read_rows_isolated

ROOT = Path(__file__).resolve().parents[2]

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


# ------------------------------------------------------------------ read in a child, by the worker

def _empty_rows(n: int) -> bytes:
    """A sheet of n empty rows after the header: 24 MB of XML, some 40 KB on disk for 4 million."""
    return _xlsx([HEADER], patch=lambda xml: xml.replace("</sheetData>", "<row/>" * n + "</sheetData>"))


_PARTS = {
    "[Content_Types].xml": '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
    '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
    'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" '
    'Target="sharedStrings.xml"/></Relationships>',
    "xl/worksheets/sheet1.xml": '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1">' + "".join(
        f'<c r="{col}1" t="inlineStr"><is><t>{name}</t></is></c>' for col, name in zip("ABCDEFGHI", HEADER))
    + '</row><row r="2"><c r="A2" t="s"><v>0</v></c></row></sheetData></worksheet>',
}


def _huge_shared_string(megabytes: int) -> bytes:
    """An xlsx whose one shared string is `megabytes` MB of text (written in chunks: this test
    process never holds it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, xml in _PARTS.items():
            z.writestr(name, xml)
        with z.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>')
            chunk = b"x" * 2**20
            for _ in range(megabytes):
                part.write(chunk)
            part.write(b"</t></si></sst>")
    return out.getvalue()


def _rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def test_the_declared_full_dimension_through_the_worker_and_the_page(app, org, login):
    data = _xlsx([HEADER, ["S1", "A-1", "2026-10-05 10:00", None, None, "10.00", 1]],
                 patch=lambda xml: re.sub(r'<dimension ref="[^"]*" ?/>', '<dimension ref="A1:XFD1048576"/>', xml))
    assert len(data) < 6_000
    started = time.monotonic()
    page = upload_page(login("hq"), data, "sales.xlsx")
    assert time.monotonic() - started < 10
    assert page.status_code == 200 and "确认导入 1 笔" in page.data.decode()


def test_four_million_empty_rows_small_on_disk_are_refused_in_seconds(app):
    data = _empty_rows(4_000_000)
    assert len(data) < 100_000
    started = time.monotonic()
    with app.app_context(), pytest.raises(ImportFileError, match="行数过多"):
        read_rows_isolated(data, "sales.xlsx")
    assert time.monotonic() - started < 10


def test_a_400_mb_shared_string_is_refused_in_seconds_and_the_reader_stays_small(app):
    data = _huge_shared_string(400)
    rss, started = _rss_kb(), time.monotonic()
    with app.app_context(), pytest.raises(ImportFileError, match="解压后过大"):
        read_rows_isolated(data, "sales.xlsx")
    assert time.monotonic() - started < 5
    assert _rss_kb() - rss < 50_000


def test_a_string_that_would_exhaust_memory_costs_only_the_child(app, monkeypatch):
    """Past the unpacked-size check (raised here), the child's address-space limit answers."""
    monkeypatch.setattr(sales_import, "MAX_UNPACKED", 10**12)
    monkeypatch.setattr(sales_import, "MAX_MEMORY", 64 * 2**20)
    data = _huge_shared_string(120)
    rss, started = _rss_kb(), time.monotonic()
    with app.app_context(), pytest.raises(ImportFileError, match="超出内存上限"):
        read_rows_isolated(data, "sales.xlsx")
    assert time.monotonic() - started < 20  # ~3 s alone; the suite's parallel load slows it
    assert _rss_kb() - rss < 50_000  # the caller (a long-lived worker) did not grow


def test_a_long_string_within_the_memory_limit_is_still_a_row_error_not_a_row(app, monkeypatch):
    monkeypatch.setattr(sales_import, "MAX_UNPACKED", 10**12)
    with app.app_context(), pytest.raises(ImportFileError, match="单元格过长"):
        read_rows_isolated(_huge_shared_string(20), "sales.xlsx")


def test_a_read_that_takes_too_long_is_killed_at_the_time_limit(app, monkeypatch):
    monkeypatch.setattr(sales_import, "MAX_SECONDS", 1)
    monkeypatch.setattr(sales_import, "MAX_LINES", 10**8)
    data = _empty_rows(2_000_000)  # within the (raised) line limit: minutes to walk
    started = time.monotonic()
    with app.app_context(), pytest.raises(ImportFileError, match="1 秒内未能读完"):
        read_rows_isolated(data, "sales.xlsx")
    assert time.monotonic() - started < 5


def test_an_upload_is_not_read_in_the_request_and_healthz_answers_while_a_worker_reads_it(
        app, org, login, redis_url):
    client = login("hq")
    client.get("/healthz")  # its first answer opens connections
    data = _empty_rows(200_000)  # within the limits: seconds of reading
    started = time.monotonic()
    response = client.post("/sales/import", data={"file": (io.BytesIO(data), "sales.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 303 and time.monotonic() - started < 2
    page = client.get(response.headers["Location"])
    assert page.status_code == 202 and "正在检查文件" in page.data.decode()
    assert '<meta http-equiv="refresh"' in page.data.decode()

    worker = subprocess.Popen(
        [str(ROOT / ".venv/bin/rq"), "worker", "--burst", "--url", redis_url, "--path", str(ROOT),
         app.config["RQ_QUEUE"]], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        answers = []
        while worker.poll() is None and len(answers) < 50:
            asked = time.monotonic()
            assert client.get("/healthz").status_code in (200, 503)
            answers.append(time.monotonic() - asked)
            time.sleep(0.1)
        assert worker.wait(120) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
    assert len(answers) > 3 and max(answers) < 2.0  # /healthz answered throughout the read
    page = client.get(response.headers["Location"])
    assert page.status_code == 422 and "文件中没有数据行" in page.data.decode()
