"""Issue #14 in Chromium: on Friday the store manager draws the memorisation check from the
week's profiles; the associate, on a 390 px phone, opens it from the inbox, answers from memory
and sees the score; the manager's week page shows it."""
from __future__ import annotations

import pytest
import time_machine
from sqlalchemy import select

from tests.workflows.test_weekly_routine import local, members, sweep  # noqa: F401
from webapp.extensions import db
from webapp.models import RoutineQuestion

from .conftest import SCREENS
from .test_registration_flow import login, logout

pytestmark = pytest.mark.browser


def test_the_associate_answers_the_friday_check_on_a_phone(app, org, members, live_server,  # noqa: F811
                                                          browser_context):
    from playwright.sync_api import expect

    from webapp.services import recurring, routine

    base = live_server
    browser, context = browser_context
    with time_machine.travel(local(23, 0, 1), tick=False):
        recurring.open_due()
    sweep(local(27, 0))
    case = routine.week_case(store_id=org.stores[0].id, day=local(27).date())
    page = context.new_page()
    with time_machine.travel(local(27, 10)):
        login(page, base, "manager1")
        page.goto(f"{base}/cases/{case.id}")
        page.get_by_role("button", name="从本周档案出题").click()
        expect(page.get_by_text("已出题")).to_be_visible()
        logout(page, base)
        # pin the first question to a known answer: the size of the member whose record says L码
        questions = db.session.scalars(select(RoutineQuestion).where(
            RoutineQuestion.associate_id == org["assoc1"].id).order_by(RoutineQuestion.position)).all()
        for q in questions:
            q.kind = "tier"
        questions[0].member_id, questions[0].kind = members[0].id, "size"
        db.session.commit()

        phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
        mobile = phone.new_page()
        login(mobile, base, "assoc1")
        expect(mobile.locator("#routine-panel")).to_contain_text("今日记忆档案")
        mobile.locator("#routine-panel").get_by_role("link", name="回答本周记忆检查").click()
        mobile.get_by_label(f"{members[0].name}的尺码").fill("l码")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        mobile.screenshot(path=str(SCREENS / "routine_check_phone.png"), full_page=True)
        mobile.get_by_role("button", name="提交答案").click()
        expect(mobile.locator("#score")).to_contain_text("得分：1 / 4")
        expect(mobile.locator(".answers")).to_contain_text("正确")
        mobile.screenshot(path=str(SCREENS / "routine_check_score_phone.png"), full_page=True)
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        phone.close()

        login(page, base, "manager1")
        page.goto(f"{base}/routine/{case.id}")
        expect(page.locator("#check")).to_contain_text("25%")
        page.screenshot(path=str(SCREENS / "routine_week_manager.png"), full_page=True)
