"""Issue #9 in Chromium: the administrator follows the task from the inbox, pastes the notice,
checks the coloured year, clicks a day to correct it, and saves."""
from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from webapp.calendar import TZ

from .conftest import SCREENS
from .test_registration_flow import login

pytestmark = pytest.mark.browser

NOTICE = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天。2月20日（周六）上班。
"""


def test_enter_2027_from_the_notice(app, live_server, browser_context):
    from playwright.sync_api import expect

    from webapp.services.daily import ensure_holiday_years

    with time_machine.travel(datetime(2026, 11, 29, 10, 0, tzinfo=TZ)):
        ensure_holiday_years()
        browser, context = browser_context
        page = context.new_page()
        login(page, live_server, "admin")
        page.get_by_role("link", name="去录入").click()
        expect(page.locator("#year-2027")).to_contain_text("未覆盖")
        page.goto(f"{live_server}/admin/holidays/2027")
        page.locator("[name=notice]").fill(NOTICE)
        page.get_by_role("button", name="解析通知").click()
        expect(page.locator('td[data-day="2027-02-05"]')).to_have_class("holiday")
        expect(page.locator('td[data-day="2027-02-20"]')).to_have_class("workday")
        monday = page.locator('td[data-day="2027-01-04"]')
        monday.click()  # a day off the notice did not give: clicked in
        expect(monday).to_have_class("holiday")
        assert "2027-01-04" in page.locator("[name=holidays]").input_value()
        page.screenshot(path=str(SCREENS / "holiday_year_2027.png"), full_page=True)
        monday.click()
        monday.click()  # off → make-up workday → back to the week
        expect(monday).to_have_class("")
        assert "2027-01-04" not in page.locator("[name=holidays]").input_value()
        page.get_by_role("button", name="确认无误，保存2027年").click()
        expect(page.get_by_text("已保存2027年节假日安排：放假11天，调休上班1天")).to_be_visible()
        expect(page.locator("#year-2027")).to_contain_text("管理员录入")
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{live_server}/admin/holidays/2027")
        page.screenshot(path=str(SCREENS / "holiday_year_2027_phone.png"), full_page=True)
        page.goto(f"{live_server}/")
        expect(page.get_by_text("录入2027年节假日安排")).to_have_count(0)
