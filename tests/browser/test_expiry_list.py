"""Issue #12 in Chromium: HQ opens January's expiry list, calls one member, records "renew and
pay"; the member page shows the new expiry date; the store manager sees their store only."""
from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from tests.sales.builders import bulk_members
from webapp.calendar import TZ

from .conftest import SCREENS
from .test_registration_flow import login

pytestmark = pytest.mark.browser


def test_hq_renews_a_listed_member_and_the_store_sees_its_own(app, live_server, browser_context, org):
    from playwright.sync_api import expect

    from webapp.services.recurring import open_due

    mine = bulk_members(org.stores[0], 1, expires=date(2027, 1, 15))[0]
    other = bulk_members(org.stores[2], 1, expires=date(2027, 1, 20))[0]
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=TZ)):
        open_due()
    with time_machine.travel(datetime(2026, 12, 2, 10, 0, tzinfo=TZ)):
        _, context = browser_context
        page = context.new_page()
        login(page, live_server, "hq")
        page.locator("header.top").get_by_role("link", name="到期名单").click()
        expect(page.get_by_role("heading", name="《01月到期会员名单》 2027-01")).to_be_visible()
        expect(page.locator("#expiry-list")).to_contain_text(other["card_no"])
        row = page.locator("#expiry-list tr", has_text=mine["card_no"])
        row.get_by_role("link", name="回访").click()
        expect(page.get_by_text("将于2027-01-15到期")).to_be_visible()  # the filled script
        page.get_by_role("link", name="续卡并已缴费").click()
        page.locator("[name=fee]").fill("50")
        page.screenshot(path=str(SCREENS / "expiry_renew.png"), full_page=True)
        page.get_by_role("button", name="确认续卡").click()
        expect(page.get_by_text("已续卡，新的有效期至 2028-01-15")).to_be_visible()
        expect(page.locator("#card-expiry")).to_contain_text("2028-01-15")
        page.goto(f"{live_server}/expiry/?month=2027-01")
        page.screenshot(path=str(SCREENS / "expiry_list_hq.png"), full_page=True)
        context.clear_cookies()
        login(page, live_server, "manager1")
        page.goto(f"{live_server}/expiry/?month=2027-01")
        expect(page.locator("#expiry-list")).to_contain_text(mine["card_no"])
        expect(page.locator("#expiry-list")).not_to_contain_text(other["card_no"])
        expect(page.locator("#expiry-list")).to_contain_text("已缴费续卡")
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(SCREENS / "expiry_list_store_phone.png"), full_page=True)
