"""The whole registration round trip through the real pages, in Chromium, with CSRF on:
associate registers → HQ sends back → associate completes → HQ approves → application PDF."""
from __future__ import annotations

import io
import re
import subprocess

import pytest

from .conftest import SCREENS

pytestmark = pytest.mark.browser

NAME = "测试喆"  # 喆 is outside GB2312: exercises the PDF's per-character font fallback
MOBILE = "13900001234"
ADDRESS = "上海市徐汇区漕溪北路88号"


def shot(page, name: str) -> None:
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=True)


def login(page, base: str, username: str, *, screenshot: str | None = None) -> None:
    page.goto(f"{base}/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill("pw")
    if screenshot:
        shot(page, screenshot)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")
    page.get_by_role("heading", name=re.compile("我的待办")).wait_for()


def logout(page, base: str) -> None:
    page.locator("header.top").get_by_role("button", name="退出").click()
    page.wait_for_url(f"{base}/login")


def inbox_row(page, title: str):
    return page.locator("table.inbox tbody tr").filter(has_text=title)


def pdf_text(data: bytes) -> str:
    text = ""
    try:
        from pypdf import PdfReader

        text = "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages)
    except Exception:  # noqa: BLE001 - fall back to poppler
        pass
    if NAME not in text or "入会申请表" not in text:
        text += subprocess.run(["pdftotext", "-layout", "-", "-"], input=data,
                               capture_output=True, check=True).stdout.decode("utf-8", "replace")
    return text


def test_registration_round_trip(app, live_server, pdf_fonts, browser_context):
    from playwright.sync_api import expect

    base = live_server
    browser, context = browser_context
    page = context.new_page()
    title = f"入会登记 {NAME}"

    # 1. The associate registers a member; the form refuses a missing name first.
    login(page, base, "assoc1", screenshot="01-login")
    page.locator("header nav").get_by_role("link", name="入会登记").click()
    page.wait_for_url(f"{base}/members/new")
    expect(page.get_by_role("heading", name="入会申请表")).to_be_visible()
    page.locator("#mobile").fill(MOBILE)
    page.locator("#gender").select_option(label="男")
    page.locator("#birth_date").fill("1990-03-15")
    expect(page.locator("#associate_id")).to_have_value(re.compile(r"\d+"))  # defaults to me
    expect(page.locator("#applied_on")).to_have_value(re.compile(r"\d{4}-\d{2}-\d{2}"))
    page.get_by_role("button", name="提交总部审核").click()
    expect(page.get_by_text("请填写姓名")).to_be_visible()
    assert page.url == f"{base}/members/new"
    expect(page.locator("#mobile")).to_have_value(MOBILE)  # what was typed is kept
    shot(page, "02-form-validation-error")

    page.locator("#name").fill(NAME)
    expect(page.locator("#address")).to_have_value("")
    # two anniversaries, each a name and a month-day (the form's rows)
    page.locator("#anniversaries-0-name").fill("结婚纪念日")
    page.locator("#anniversaries-0-day").fill("05-20")
    page.locator("#anniversaries-1-name").fill("相识纪念日")
    page.locator("#anniversaries-1-day").fill("10-01")
    page.get_by_role("button", name="提交总部审核").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/members/\d+$"))
    member_url = page.url
    expect(page.get_by_role("heading", name=re.compile(NAME))).to_be_visible()
    expect(page.get_by_text("临时会员卡")).to_be_visible()
    flash = page.locator(".flash.ok")
    expect(flash).to_contain_text("已提交总部审核")
    card_no = re.search(r"临时卡号\s*(\S+)", flash.inner_text()).group(1)
    assert re.fullmatch(r"TS1\d{7}", card_no)
    expect(page.locator("main p.muted").first).to_contain_text(card_no)
    expect(page.locator("#v-anniversary")).to_have_text("结婚纪念日 **-**；相识纪念日 **-**")
    shot(page, "03-member-registered")

    # 2. HQ finds the case in its inbox and sends it back with a comment.
    logout(page, base)
    login(page, base, "hq")
    row = inbox_row(page, title)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("审核新会员资料")
    shot(page, "04-hq-inbox")
    row.get_by_role("link", name=title).click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/cases/\d+$"))
    case_url = page.url
    expect(page.locator("h1 .tag")).to_have_text("待总部审核")
    send_back = page.locator("#act-send_back")
    send_back.locator("textarea[name=comment]").fill("缺少家庭地址")
    send_back.get_by_role("button", name="退回补全").click()
    page.wait_for_url(case_url)
    expect(page.locator(".flash.ok")).to_have_text("操作成功")
    expect(page.locator("h1 .tag")).to_have_text("退回门店补全")
    expect(page.locator("ol.timeline blockquote")).to_have_text("缺少家庭地址")

    # 3. The associate completes the address and resubmits.
    logout(page, base)
    login(page, base, "assoc1")
    row = inbox_row(page, title)
    expect(row).to_contain_text("补全会员资料")
    row.get_by_role("link", name="补全资料").click()
    page.wait_for_url(re.compile(rf"{re.escape(base)}/registrations/\d+/complete$"))
    expect(page.get_by_role("heading", name="补全会员资料")).to_be_visible()
    expect(page.locator("#name")).to_have_value(NAME)
    expect(page.locator("#anniversaries-1-day")).to_have_value("10-01")
    expect(page.locator("#anniversaries-2-name")).to_have_value("")  # a row to add one more
    page.get_by_label("家庭地址").fill(ADDRESS)
    page.get_by_role("button", name="补全并重新提交").click()
    page.wait_for_url(case_url)
    expect(page.locator(".flash.ok")).to_contain_text("资料已补全")
    expect(page.locator("h1 .tag")).to_have_text("待总部审核")
    expect(page.locator("ol.timeline")).to_contain_text("修改字段")  # names of changed fields
    expect(page.locator("ol.timeline")).not_to_contain_text(ADDRESS)

    # 4. HQ approves with the row's one-click button.
    logout(page, base)
    login(page, base, "hq")
    row = inbox_row(page, title)
    expect(row).to_have_count(1)
    expect(row.get_by_role("checkbox")).to_be_visible()  # bulk approval is offered too
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "05-hq-inbox-phone")
    page.set_viewport_size({"width": 1280, "height": 900})
    row.get_by_role("button", name="审核通过").click()
    page.wait_for_url(f"{base}/")
    expect(page.locator(".flash.ok")).to_have_text("操作成功")
    expect(inbox_row(page, title)).to_have_count(0)
    page.goto(case_url)
    expect(page.locator("h1 .tag")).to_have_text("已审核通过")
    expect(page.locator("ol.timeline li")).to_have_count(4)  # 发起, 退回, 重新提交, 通过
    expect(page.locator("section.card h2", has_text="操作")).to_have_count(0)  # case is closed
    shot(page, "06-case-timeline")

    # 5. The member page prints the application form as a PDF.
    page.get_by_role("link", name="查看会员资料").click()
    page.wait_for_url(member_url)
    link = page.get_by_role("link", name="打印入会申请表")
    href = link.get_attribute("href")
    assert href and href.endswith("/application.pdf")
    response = context.request.get(base + href, timeout=60_000)
    assert response.ok, (response.status, response.text()[:500])
    assert response.headers["content-type"] == "application/pdf"
    data = response.body()
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert NAME in text, text[:500]
    assert "入会申请表" in text, text[:500]
    assert card_no in text, text[:500]
