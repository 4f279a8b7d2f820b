"""HQ opens the spending-power analysis of a store for a month in Chromium: the table and the chart
are on the page, and the PDF and the xlsx (with a native Excel chart) download."""
from __future__ import annotations

import io
import subprocess

import pytest

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.services import sales

from .conftest import SCREENS

pytestmark = pytest.mark.browser


def _data(org) -> None:
    """A store with October sales, last October's and September's, and a target."""
    members = bulk_members(org.stores[0], 40)
    rows = []
    for prefix, day, n, amount in (("O", "2026-10-12 15:00", 60, "400"), ("L", "2025-10-12 15:00", 50, "320"),
                                   ("S", "2026-09-12 15:00", 45, "350")):
        rows += [sale("S1", f"{prefix}{i}", day, amount, 1 + i % 2, card=members[i % 40]["card_no"])
                 for i in range(n)]
        rows += [sale("S1", f"{prefix}N{i}", day, "200") for i in range(20)]
    import_sales(org["hq"], rows)
    sales.set_target(actor=org["hq"], store=org.stores[0], ym=202610, amount="30000")


def test_hq_reads_spending_power_and_downloads_pdf_and_xlsx(app, live_server, pdf_fonts,
                                                             browser_context, org):
    from playwright.sync_api import expect

    _data(org)
    browser, context = browser_context
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("input[name=username]").fill("hq")
    page.locator("input[name=password]").fill("pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")

    page.locator("header.top").get_by_role("link", name="分析").click()
    page.get_by_role("link", name="会员消费力分析表").click()
    page.locator("#by-month select[name=scope]").select_option(f"store:{org.stores[0].id}")
    page.locator("#by-month input[name=period]").fill("2026-10")
    page.get_by_role("button", name="按月查询").click()
    expect(page.get_by_role("heading", name="会员消费力分析表")).to_contain_text("1号店")
    rows = page.locator("#figures tbody tr")
    expect(rows).to_have_count(14)
    expect(rows.filter(has_text="销售完成率")).to_contain_text("%")
    expect(rows.filter(has_text="会员销售额占比")).to_contain_text("85.7%")  # 24000 / 28000
    chart = page.locator("#chart svg")
    expect(chart).to_be_visible()
    assert chart.locator("rect").count() >= 10
    page.screenshot(path=str(SCREENS / "analysis_spending_power.png"), full_page=True)

    with page.expect_download() as pdf_download:
        page.locator("#pdf-link").click()
    pdf = SCREENS / "analysis_spending_power.pdf"
    pdf_download.value.save_as(pdf)
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          check=True).stdout.decode()
    assert "会员消费力分析表" in text and "85.7%" in text
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(SCREENS / "analysis_spending_power_pdf")], check=True)

    with page.expect_download() as xlsx_download:
        page.locator("#xlsx-link").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(open(xlsx_download.value.path(), "rb").read()))
    sheet = book.worksheets[0]
    assert sheet._charts, "the xlsx holds a native Excel chart"
    assert sheet["A1"].value == "会员消费力分析表"
    labels = [sheet.cell(row=r, column=2).value for r in range(1, sheet.max_row + 1)]
    assert "会员连带销售率" in labels

    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(SCREENS / "analysis_spending_power_phone.png"), full_page=True)
