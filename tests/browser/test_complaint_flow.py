"""A direct complaint end to end in Chromium: recorded by phone → replied → escalated →
the CS manager proposes → consent → carried out → revisit → survey → filed; the PDF holds the
four stage times."""
from __future__ import annotations

import io
import re

import pytest

from .conftest import SCREENS
from .test_registration_flow import login, logout

pytestmark = pytest.mark.browser


def act(page, step: str, **fields) -> None:
    form = page.locator(f"form#act-{step}")
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator("button[type=submit]").click()
    page.get_by_text("操作成功").wait_for()


def test_direct_complaint_round_trip(app, live_server, pdf_fonts, browser_context):
    from playwright.sync_api import expect
    from pypdf import PdfReader

    browser, context = browser_context
    page = context.new_page()
    base = live_server
    login(page, base, "hq")
    page.goto(f"{base}/complaints/new/direct")
    page.locator("[name=description]").fill("")
    page.get_by_role("button", name="受理").click()
    expect(page.get_by_text("请填写投诉内容").first).to_be_visible()  # nothing saved
    page.locator("[name=channel]").select_option("phone")
    page.locator("[name=contact]").fill("13911112222")
    page.locator("[name=customer_name]").fill("孙先生")
    page.locator("[name=store_id]").select_option(label="1号店")
    page.locator("[name=product]").fill("羊毛大衣")
    page.locator("[name=description]").fill("大衣第一次干洗后起球")
    page.get_by_role("button", name="受理").click()
    page.get_by_text("投诉已受理").wait_for()
    complaint_url = page.url
    expect(page.locator("tr[data-limit=reply]")).to_contain_text("剩余")
    expect(page.locator("#v-contact")).to_have_text("139****2222")
    page.get_by_role("button", name="显示完整").click()  # to call the customer back (audited)
    expect(page.locator("#v-contact")).to_have_text("13911112222")
    act(page, "reply", reply_text="非常抱歉，我们已记录，正在核实质检报告")
    expect(page.locator("form#act-escalate [name=agreed_reply_at]")).to_have_count(0)  # answered
    act(page, "escalate", comment="涉及退款金额超出权限")
    page.screenshot(path=str(SCREENS / "complaint-escalated.png"), full_page=True)
    logout(page, base)

    login(page, base, "hq_manager")
    expect(page.locator("table.inbox")).to_contain_text("处理上报的投诉")
    page.locator("table.inbox").get_by_role("link", name=re.compile("孙先生")).click()
    act(page, "propose", solution_text="全额退款,并赠送免费干洗券一张")
    logout(page, base)

    login(page, base, "hq")
    page.goto(complaint_url)
    expect(page.locator("form#act-carry_out")).to_have_count(0)  # not before consent
    act(page, "consent", consent_by="孙先生", consent_how="phone")
    act(page, "carry_out")
    act(page, "revisit", revisit_note="已到账,顾客表示满意")
    act(page, "survey", survey_score="5", survey_comment="处理及时")
    expect(page.locator("h1 .tag")).to_have_text("已归档")
    page.screenshot(path=str(SCREENS / "complaint-filed.png"), full_page=True)

    response = context.request.get(complaint_url + "/form.pdf", timeout=120_000)
    assert response.ok and response.body()[:4] == b"%PDF"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.body())).pages)
    for label in ("受理时间", "首次联系", "回复时间", "方案执行时间", "回访时间"):
        assert re.search(label + r"[：\s]*\d{4}-\d{2}-\d{2} \d{2}:\d{2}", text), label
    assert "顾客投诉意见处理表（客服部用）" in text and "孙先生" in text


def test_hq_on_a_phone_sees_what_it_can_do_on_an_overdue_store_complaint(app, org, live_server,
                                                                        browser_context):
    """Issue #9.20: the escalated row in HQ's inbox is not empty; HQ takes the complaint over."""
    from datetime import timedelta

    from playwright.sync_api import expect

    from tests.complaint_helpers import record
    from webapp import clock
    from webapp.services.deadlines import process_due

    now = clock.now()
    case = record(org, username="assoc1", kind="store", name="周女士", now=now,
                  received_at=now - timedelta(hours=25))
    process_due(now=now)
    browser, _ = browser_context
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    base = live_server
    login(page, base, "hq")
    row = page.locator(f"tr[data-case='{case.id}']")
    expect(row.get_by_role("link", name="总部接手处理")).to_be_visible()
    expect(row.get_by_role("link", name="备注/催办")).to_be_visible()
    page.screenshot(path=str(SCREENS / "complaint-hq-watch-phone.png"), full_page=True)
    row.get_by_role("link", name="总部接手处理").click()
    form = page.locator("form#act-take_over")
    form.locator("[name=comment]").fill("门店联系不上顾客，总部接手")
    form.locator("button[type=submit]").click()
    page.get_by_text("操作成功").wait_for()
    expect(page.locator("h1")).to_contain_text("周女士")
    expect(page.locator("p.muted").first).to_contain_text("直接投诉处理")
    page.screenshot(path=str(SCREENS / "complaint-taken-over-phone.png"), full_page=True)
    context.close()
