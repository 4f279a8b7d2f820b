"""Issue #11 "every list filters by tier (different folders)" in Chromium: the store manager on a
390 px phone sees each member task's tier in the inbox, opens the B folder and finds only the
B member's call; the page stays phone-width."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from tests.sales.builders import bulk_members
from webapp.extensions import db
from webapp.models import Case, Member, Role, Task

from .conftest import SCREENS
from .test_registration_flow import inbox_row, login

pytestmark = pytest.mark.browser
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=timezone.utc)


def _call(org, title: str, hours: int, member_id: int | None) -> None:
    store = org.stores[0]
    case = Case(process="aftersale_call", state="call", version=1, title=title, member_id=member_id,
                store_id=store.id, area_id=store.area_id, created_at=T0, updated_at=T0)
    db.session.add(case)
    db.session.flush()
    db.session.add(Task(case_id=case.id, name="aftersale_call", role=Role.STORE_MANAGER,
                        store_id=store.id, area_id=store.area_id, due_at=T0 + timedelta(hours=hours)))


def test_the_manager_opens_a_tier_folder_on_a_phone(app, org, live_server, browser_context):
    from playwright.sync_api import expect

    people = bulk_members(org.stores[0], 3)
    for row, tier in zip(people, "ABC"):
        db.session.execute(update(Member).where(Member.id == row["id"]).values(tier=tier))
        _call(org, f"售后回访 {row['card_no']}", len(tier) + "ABC".index(tier), row["id"])
    _call(org, "本店月度回访计划", 5, None)
    db.session.commit()

    browser, _desktop = browser_context
    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = phone.new_page()
    login(page, live_server, "manager1")
    b_call = f"售后回访 {people[1]['card_no']}"
    expect(inbox_row(page, b_call)).to_contain_text("B级")
    expect(page.locator("table.inbox tbody tr")).to_have_count(4)
    page.locator("nav.tier-folders").get_by_role("link", name="B级会员").click()
    page.wait_for_url(f"{live_server}/?tier=B")
    expect(page.locator("table.inbox tbody tr")).to_have_count(1)
    expect(inbox_row(page, b_call)).to_be_visible()
    expect(page.locator("nav.tier-folders [aria-current=page]")).to_have_text("B级会员")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENS / "inbox_tier_folder_phone.png"), full_page=True)
    page.locator("nav.tier-folders").get_by_role("link", name="全部").click()
    expect(page.locator("table.inbox tbody tr")).to_have_count(4)  # the memberless case is back
    phone.close()
