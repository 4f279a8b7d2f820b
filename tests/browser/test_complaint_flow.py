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
