"""Issue #13 in Chromium: an associate proposes an item, the manager sets the plan and submits
the report, the supervisor sends it back, the manager resubmits, the supervisor approves, HQ
archives; next month the associate records the visit on a phone, HQ spot-checks it and the
scorecard shows it."""
from __future__ import annotations

from datetime import datetime

import pytest
import time_machine

from tests.sales.builders import bulk_members
from webapp.calendar import TZ

from .conftest import SCREENS
from .test_registration_flow import login, logout

pytestmark = pytest.mark.browser


def test_plan_report_review_archive_record_spot_check_scorecard(app, org, live_server, browser_context):
    from playwright.sync_api import expect

    from webapp.services import recurring
    from webapp.services.visit_plan import open_item_tasks

    base = live_server
    store = org.stores[0].id
    (member,) = bulk_members(org.stores[0], 1)
    browser, context = browser_context
    page = context.new_page()
    with time_machine.travel(datetime(2026, 11, 20, 10, 0, tzinfo=TZ)):
        recurring.open_due()
        login(page, base, "assoc1")
        page.goto(f"{base}/visits/plan")
        form = page.locator("#propose")
        form.locator("[name=card_no]").fill(member["card_no"])
        form.locator("[name=occasion]").fill("生日回访")
        form.locator("[name=method]").select_option("call")
        form.locator("[name=planned_on]").fill("2026-12-03")
        form.get_by_role("button", name="加入计划").click()
        expect(page.get_by_text("已加入回访计划")).to_be_visible()
        expect(page.locator("#plan-items")).to_contain_text("建议")
        logout(page, base)

        login(page, base, "manager1")
        page.goto(f"{base}/visits/plan")
        page.locator("#act-set_plan").get_by_role("button").click()
        expect(page.locator("#plan-state")).to_have_text("计划已制订，待提交月报")
        page.locator("#act-submit [name=remarks]").fill("本月回访按计划完成。")
        page.locator("#act-submit").get_by_role("button", name="提交回访月报").click()
        expect(page.locator("#plan-state")).to_have_text("待督导审核月报")
        page.screenshot(path=str(SCREENS / "visit_plan_manager.png"), full_page=True)
        logout(page, base)

        login(page, base, "supervisor1")
        page.goto(f"{base}/visits/plan?store={store}")
        page.locator("#act-send_back [name=comment]").fill("请补充A类会员的拜访安排")
        page.locator("#act-send_back").get_by_role("button").click()
        expect(page.locator("#plan-state")).to_have_text("计划已制订，待提交月报")
        logout(page, base)

        login(page, base, "manager1")
        page.goto(f"{base}/visits/plan")
        page.locator("#act-submit [name=remarks]").fill("已补充，请审核。")
        page.locator("#act-submit").get_by_role("button").click()
        logout(page, base)

        login(page, base, "supervisor1")
        page.goto(f"{base}/visits/plan?store={store}")
        page.locator("#act-approve").get_by_role("button").click()
        expect(page.locator("#plan-state")).to_have_text("督导已通过，待总部归档")
        logout(page, base)

        login(page, base, "hq")
        page.goto(f"{base}/visits/hq?month=2026-12")
        page.locator("#archive-all").click()
        expect(page.get_by_text("已归档 1 份计划")).to_be_visible()
        expect(page.locator("#consolidation")).to_contain_text("总部已归档")
        page.screenshot(path=str(SCREENS / "visit_plan_hq.png"), full_page=True)
        logout(page, base)

    with time_machine.travel(datetime(2026, 12, 3, 10, 0, tzinfo=TZ)):
        open_item_tasks()
        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        mobile = phone.new_page()
        login(mobile, base, "assoc1")
        mobile.get_by_role("link", name="回访 生日回访").first.click()
        mobile.locator("[name=result]").fill("已接通，顾客很满意")
        mobile.locator("[name=feedback]").fill("希望新款到店时通知")
        mobile.screenshot(path=str(SCREENS / "visit_record_phone.png"), full_page=True)
        width = mobile.evaluate("document.documentElement.scrollWidth")
        assert width <= 390
        mobile.get_by_role("button", name="保存").click()
        expect(mobile.get_by_text("回访已登记")).to_be_visible()
        expect(mobile.locator("#visit-records")).to_contain_text("已接通，顾客很满意")
        phone.close()

        login(page, base, "hq")
        page.goto(f"{base}/visits/spot-check?store={store}&month=2026-12")
        page.locator("#draw").click()
        page.locator("#sample [name=confirmed]").select_option("1")
        page.locator("#sample [name=note]").fill("顾客确认已接到电话")
        page.locator("#sample").get_by_role("button", name="保存").click()
        expect(page.get_by_text("抽查结果已保存")).to_be_visible()
        page.goto(f"{base}/visits/scorecard?month=2026-12")
        row = page.locator("#scorecard tr", has_text="S1")
        expect(row).to_contain_text("100.0%")
        expect(row).to_contain_text("1/1")
        page.screenshot(path=str(SCREENS / "visit_scorecard.png"), full_page=True)
