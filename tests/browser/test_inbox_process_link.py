"""The link in a store group's "今日新增 N 个…任务" summary, opened on a 390 px phone: the inbox
shows that process's tasks only, says so, and leads back to the whole inbox."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from webapp.extensions import db
from webapp.models import Case, Role, Task

from .conftest import SCREENS
from .test_registration_flow import inbox_row, login

pytestmark = pytest.mark.browser
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def _task(org, process: str, title: str, hours: int) -> None:
    store = org.stores[0]
    case = Case(process=process, state="call", version=1, title=title, store_id=store.id,
                area_id=store.area_id, created_at=T0, updated_at=T0)
    db.session.add(case)
    db.session.flush()
    db.session.add(Task(case_id=case.id, name="aftersale_call", role=Role.STORE_MANAGER,
                        store_id=store.id, area_id=store.area_id, due_at=T0 + timedelta(hours=hours)))


def test_the_group_link_opens_the_inbox_on_that_process(app, org, live_server, browser_context):
    from playwright.sync_api import expect

    _task(org, "aftersale_call", "售后回访 一", 3)
    _task(org, "aftersale_call", "售后回访 二", 4)
    _task(org, "weekly_routine", "本周例行工作", 5)
    db.session.commit()

    browser, _desktop = browser_context
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    login(page, live_server, "manager1")
    expect(page.locator("table.inbox tbody tr")).to_have_count(3)
    page.goto(f"{live_server}/?process=aftersale_call")
    expect(page.locator("p.process-filter")).to_contain_text("只看：售后第3天电话回访")
    expect(page.locator("table.inbox tbody tr")).to_have_count(2)
    expect(inbox_row(page, "售后回访 二")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENS / "inbox_process_link_phone.png"), full_page=True)
    page.locator("p.process-filter").get_by_role("link", name="显示全部待办").click()
    expect(page.locator("table.inbox tbody tr")).to_have_count(3)
    phone.close()
