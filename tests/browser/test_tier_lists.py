"""The complaints list and the outbox by tier in Chromium, on a 390 px phone: the store manager
picks 级别 A in each list's filters and finds only what concerns the A member; the filters and the
page stay phone-width."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine

from tests.complaint_helpers import record
from tests.factories import register
from webapp.extensions import db
from webapp.models import OutboxMessage

from .conftest import SCREENS
from .test_registration_flow import login

pytestmark = pytest.mark.browser
T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def _fill(org):
    with time_machine.travel(T0, tick=False):
        for tier, mobile, name in (("A", "13700000001", "甲会员"), ("B", "13700000002", "乙会员")):
            member = register(org, username="assoc1", mobile=mobile, name=name).member
            member.tier = tier
            db.session.add(OutboxMessage(channel="sms", store_id=org.stores[0].id, member_id=member.id,
                                         recipient=mobile, template="welcome_temporary",
                                         body=f"{name}您好，欢迎入会。", created_at=T0))
            record(org, name=name, contact=mobile, store=0)
        record(org, name="路人甲", contact="13900009999", store=0)
    db.session.commit()


def test_the_manager_filters_complaints_and_outbox_by_tier_on_a_phone(app, org, live_server,
                                                                     browser_context):
    from playwright.sync_api import expect

    _fill(org)
    browser, _desktop = browser_context
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    login(page, live_server, "manager1")

    page.goto(f"{live_server}/complaints/")
    expect(page.locator("table.list tbody tr")).to_have_count(3)
    page.locator("select[name=tier]").select_option("A")
    page.get_by_role("button", name="查询").click()
    page.wait_for_url(f"{live_server}/complaints/?kind=&tier=A")
    expect(page.locator("table.list tbody tr")).to_have_count(1)
    expect(page.locator("table.list tbody")).to_contain_text("甲会员")
    expect(page.locator("select[name=tier]")).to_have_value("A")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENS / "complaints_tier_phone.png"), full_page=True)

    page.goto(f"{live_server}/outbox")
    page.locator("select[name=tier]").select_option("B")
    page.get_by_role("button", name="查询").click()
    expect(page.locator("h1 small")).to_have_text("1")
    expect(page.locator("table.list tbody")).to_contain_text("乙会员您好")
    expect(page.locator("table.list tbody")).not_to_contain_text("甲会员")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENS / "outbox_tier_phone.png"), full_page=True)
    phone.close()
