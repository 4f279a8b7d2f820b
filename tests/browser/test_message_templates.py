"""The administrator edits the welcome SMS in the browser: live preview with a demo member and
the SMS count while typing, a bad placeholder refused, save; HQ's next approval sends the new text."""
from __future__ import annotations

import re

import pytest

from sqlalchemy import select

from tests.factories import register
from webapp.extensions import db
from webapp.models import Member
from webapp.services.cases import fire

from .conftest import SCREENS
from .test_registration_flow import inbox_row, login, logout

pytestmark = pytest.mark.browser


def test_admin_edits_the_welcome_and_the_next_approval_uses_it(app, org, live_server, browser_context):
    from playwright.sync_api import expect

    demo = register(org, name="李娜", gender="F", mobile="13811112222")
    fire(actor=org["hq"], case=demo, transition="approve", version=demo.version)
    card_no = db.session.scalar(select(Member.card_no).where(Member.name == "李娜"))
    register(org, name="王强", gender="M", mobile="13822223333")
    db.session.commit()
    base = live_server
    _browser, context = browser_context
    page = context.new_page()

    login(page, base, "admin")
    page.goto(f"{base}/admin/")
    page.get_by_role("link", name="消息模板").click()
    row = page.locator("#template-welcome_temporary")
    expect(row).to_contain_text("{称呼}，诚挚感谢您选择{品牌}")
    row.get_by_role("link", name="修改").click()
    expect(page.locator("#preview")).to_contain_text("先生，诚挚感谢您选择")   # the newest member
    page.locator("#card_no").fill(card_no)                                    # the demo member
    expect(page.locator("#preview-member")).to_contain_text(card_no)
    expect(page.locator("#preview")).to_contain_text("李女士，诚挚感谢您选择")

    body = page.locator("#body")
    body.fill("{称呼}，欢迎加入{品牌}！您的卡号{卡号}，积分{积分}分。{未知}")
    expect(page.locator("#body-error")).to_contain_text("未知的占位符：{未知}")
    body.fill("{称呼}，欢迎加入{品牌}！您的卡号{卡号}，积分{积分}分。")
    expect(page.locator("#preview")).to_contain_text(re.compile(r"李女士，欢迎加入.+！您的卡号\S+，积分\d+分。"))
    expect(page.locator("#sms-count")).to_contain_text("按 1 条短信计费")
    body.fill("{称呼}" + "很长的短信" * 15)
    expect(page.locator("#sms-count")).to_contain_text("按 2 条短信计费")
    body.fill("{称呼}，欢迎加入{品牌}！您的卡号{卡号}，积分{积分}分。")
    expect(page.locator("#preview")).to_contain_text("李女士，欢迎加入")
    page.screenshot(path=str(SCREENS / "template-edit.png"), full_page=True)
    page.get_by_role("button", name="保存为新版本").click()
    expect(page.locator(".flash")).to_contain_text("已保存为第 1 版")
    expect(page.locator("table.versions")).to_contain_text("第 1 版")

    logout(page, base)
    login(page, base, "hq")
    inbox_row(page, "入会登记 王强").get_by_role("button", name="审核通过").click()
    expect(page.locator(".flash.ok")).to_have_text("操作成功")
    page.goto(f"{base}/outbox")
    expect(page.locator("table").get_by_text(re.compile(r"王先生，欢迎加入.+！您的卡号\S+，积分\d+分。"))).to_be_visible()
