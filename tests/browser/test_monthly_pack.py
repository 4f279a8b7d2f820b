"""HQ opens last month's pack in Chromium, sees a flagged figure, reviews the month and downloads
the pack as one PDF and one workbook; LibreOffice opens the workbook with a sheet per analysis
and scope level."""
from __future__ import annotations

import re
import shutil
import subprocess
import zipfile

import pytest
from openpyxl import load_workbook

from sqlalchemy import select

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.extensions import db
from webapp.models import BatchJob
from webapp.services import monthly_pack, printing

from .conftest import SCREENS

pytestmark = pytest.mark.browser


def test_hq_reviews_the_month_and_downloads_the_pack(app, live_server, pdf_fonts, browser_context,
                                                     org, tmp_path):
    from playwright.sync_api import expect

    members = bulk_members(org.stores[0], 10)
    import_sales(org["hq"], [sale("S1", f"O{i}", "2026-10-12 15:00", "400", card=members[i]["card_no"])
                             for i in range(3)])
    browser, context = browser_context
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("input[name=username]").fill("hq")
    page.locator("input[name=password]").fill("pw")
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server}/")

    page.goto(f"{live_server}/pack/2026-10")
    page.locator("select[name=scope]").select_option(f"store:{org.stores[1].id}")
    page.get_by_role("button", name="查看").click()
    expect(page.locator("#review-status")).to_contain_text("尚未审核")
    expect(page.locator("#flags")).to_contain_text("本月没有销售")
    page.screenshot(path=str(SCREENS / "pack_flags.png"), full_page=True)

    page.locator("#review textarea[name=comment]").fill("10月数据已核对")
    page.locator("#review-button").click()  # a worker computes and files the month
    page.set_viewport_size({"width": 390, "height": 844})  # the review's page on a phone
    expect(page.locator("#review-job")).to_contain_text("审核中…")
    page.screenshot(path=str(SCREENS / "pack_reviewing_phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    job = db.session.scalars(select(BatchJob).where(BatchJob.kind == "pack_review")).one()
    monthly_pack.run_review(job.id)  # what the worker runs; the page reloads itself meanwhile
    expect(page.locator("#review-status")).to_contain_text("已审核存档", timeout=15_000)
    expect(page.locator("#review-status")).to_contain_text("10月数据已核对")
    page.screenshot(path=str(SCREENS / "pack_reviewed_phone.png"))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.locator("#pack-pdf").click()  # a filing batch: the worker lays the month out
    page.wait_for_url(re.compile(r".*/batches/\d+$"))
    expect(page.locator("#progress")).to_be_visible()
    printing.render_batch(int(page.url.rsplit("/", 1)[1]))  # what the worker runs
    with page.expect_download(timeout=60_000) as pdf_download:
        page.locator("#download").click()  # the batch page reloads itself until it is done
    pdf = tmp_path / "pack.pdf"
    pdf_download.value.save_as(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True).stdout.decode()
    text = "".join(text.split())  # pdftotext spaces a digit apart from the CJK glyph beside it
    assert "会员流失分析表" in text and "2号店" in text and "10月数据已核对" in text
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf),
                    str(SCREENS / "pack_pdf")], check=True)

    page.goto(f"{live_server}/pack/2026-10")
    with page.expect_download(timeout=60_000) as xlsx_download:
        page.locator("#pack-xlsx").click()
    xlsx = tmp_path / "pack.xlsx"
    xlsx_download.value.save_as(xlsx)
    titles = ("会员消费水平分析表", "消费会员性别年龄分析表", "会员消费力分析表", "会员流失分析表")
    expected = {f"{title}-{level}" for title in titles for level in ("公司", "区域", "门店")}
    # the workbook as a spreadsheet program sees it: LibreOffice when installed, else openpyxl
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice:
        subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                        "--convert-to", "ods", "--outdir", str(tmp_path), str(xlsx)],
                       check=True, capture_output=True, timeout=120)
        content = zipfile.ZipFile(tmp_path / "pack.ods").read("content.xml").decode()
        sheets = re.findall(r'<table:table table:name="([^"]+)"', content)
    else:
        sheets = load_workbook(xlsx, read_only=True).sheetnames
    assert len(sheets) == 12 and set(sheets) == expected
