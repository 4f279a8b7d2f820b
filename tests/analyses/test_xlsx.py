"""The xlsx downloads: the chart plots exactly the page's chart, A4 print setup, text stays text."""
import io
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.extensions import db
from webapp.models import Store
from webapp.services import analyses


@pytest.fixture
def october(org):
    members = bulk_members(org.stores[0], 6)
    import_sales(org["hq"], [sale("S1", f"Q{i}", "2026-10-10 12:00", amount, 2, card=m["card_no"])
                             for i, (m, amount) in enumerate(zip(members, ["50", "150", "400", "700",
                                                                           "1500", "90"]))]
                 + [sale("S1", f"P{i}", "2026-09-10 12:00", "120", card=members[i]["card_no"])
                    for i in range(3)]
                 + [sale("S1", "N1", "2025-10-11 12:00", "100")])
    return org


def _cells(book, ref: str) -> list:
    sheet_name, cells = re.fullmatch(r"'?(.+?)'?!(\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)", ref).groups()
    sheet = book[sheet_name]
    found = sheet[cells.replace("$", "")]
    rows = found if isinstance(found, tuple) else ((found,),)
    return [c.value for row in rows for c in (row if isinstance(row, tuple) else (row,))]


@pytest.mark.parametrize("kind", ["consumption", "demographics", "spending-power", "churn"])
def test_the_xlsx_chart_plots_the_page_chart(october, login, kind):
    client = login("hq")
    query = f"scope=store:{october.stores[0].id}&period=2026-10"
    book = load_workbook(io.BytesIO(client.get(f"/analyses/{kind}.xlsx?{query}").data))
    report = analyses.run(user=october["hq"], kind=kind, scope=f"store:{october.stores[0].id}",
                          period="2026-10")
    chart = book.worksheets[0]._charts[0]
    (series,) = chart.series
    values = _cells(book, series.val.numRef.f)
    labels = _cells(book, (series.cat.strRef or series.cat.numRef).f)
    assert labels == report.chart.labels
    assert values == [("—" if v is None else pytest.approx(float(v))) for v in report.chart.values]
    assert all(isinstance(v, (int, float, Decimal)) for v in values if v != "—")


def test_spending_power_chart_has_no_money_row(october, login):
    book = load_workbook(io.BytesIO(login("hq").get(
        f"/analyses/spending-power.xlsx?scope=store:{october.stores[0].id}&period=2026-10").data))
    cat = book.worksheets[0]._charts[0].series[0].cat
    labels = _cells(book, (cat.strRef or cat.numRef).f)
    assert not any("客单价(元)" in label for label in labels) and len(labels) == 11


@pytest.mark.parametrize("kind", ["consumption", "demographics", "spending-power", "churn"])
def test_every_analysis_sheet_prints_on_a4_fit_to_width(october, login, kind):
    book = load_workbook(io.BytesIO(login("hq").get(
        f"/analyses/{kind}.xlsx?scope=store:{october.stores[0].id}&period=2026-10").data))
    for sheet in book.worksheets:
        assert int(sheet.page_setup.paperSize) == 9
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
        assert sheet.print_title_rows
        header_row = int(sheet.print_title_rows.split(":")[0].lstrip("$"))
        assert sheet.cell(header_row, 1).value in ("序列", "月份")


def test_percent_and_money_cells_are_numbers_with_formats(october, login):
    sheet = load_workbook(io.BytesIO(login("hq").get(
        f"/analyses/spending-power.xlsx?scope=store:{october.stores[0].id}&period=2026-10").data)).active
    cells = {row[1].value: row[4] for row in sheet.iter_rows() if row[1].value and len(row) > 4}
    share, ticket = cells["会员销售额占比"], cells["会员销售客单价(元)"]
    assert isinstance(share.value, (int, float)) and share.number_format == '0.0"%"'
    assert isinstance(ticket.value, (int, float)) and ticket.number_format == "#,##0.00"
    data = {row[1].value: row[4] for row in sheet.iter_rows() if row[1].value and len(row) > 4}
    assert data["销售额(元)"].value == pytest.approx(2890) and data["销售额(元)"].number_format == "#,##0.00"


FORMULAS = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]


@pytest.mark.parametrize("name", FORMULAS)
def test_a_store_named_like_a_formula_is_text_in_every_xlsx(org, login, name):
    from webapp.services import complaint_stats

    store = db.session.get(Store, org.stores[0].id)
    store.name = name
    db.session.commit()
    client = login("hq")
    book = load_workbook(io.BytesIO(client.get(
        f"/analyses/consumption.xlsx?scope=store:{store.id}&period=2026-10").data))
    cell = book.active["B2"]
    assert cell.value in (name, name.replace("\r", "\n")) and cell.data_type == "s"  # XML reads CR as LF
    row = complaint_stats.Row(name, 1, (1, 1))
    row.rates = {"reply": Decimal("100.0"), "solution": None, "revisit": None}
    sheet = load_workbook(io.BytesIO(complaint_stats.xlsx([row], "2026-11"))).active
    assert sheet["A3"].value in (name, name.replace("\r", "\n")) and sheet["A3"].data_type == "s"
    assert sheet["C3"].number_format == '0.0"%"'
    assert int(sheet.page_setup.paperSize) == 9 and sheet.print_title_rows
