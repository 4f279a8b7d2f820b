"""A birthday care batch in Chromium (CSRF on): the manager removes a line and approves with one
click; on the day the associate opens the visit task on a phone-width page, reads the filled
script and records it; today's profiles fit a phone."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.sales.builders import bulk_members
from webapp.extensions import db
from webapp.models import Case, Member
from webapp.services import care
from webapp.services.deadlines import process_due

from .test_registration_flow import login, shot

pytestmark = pytest.mark.browser

GENERATE = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)  # 10:00 local, 29 Nov
# the manager reviews between the generation and the day, whatever today the suite runs at (a
# batch approved after its day is refused: the greetings would go out late)
REVIEW = datetime(2026, 11, 30, 2, 0, tzinfo=timezone.utc)  # 10:00 local, 30 Nov
ON_THE_DAY = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # 10:00 local, 1 Dec


def test_manager_approves_a_birthday_batch_and_the_associate_records_the_visit(
        live_server, browser_context, org):
    keep, drop = bulk_members(org.stores[0], 2)
    db.session.execute(update(Member).values(birth_month_day=1201, tier="A", points=5000,
                                             associate_id=org["assoc1"].id,
                                             preferences="西装175/92A，喜欢深色"))
    db.session.commit()
    with time_machine.travel(GENERATE, tick=False):
        care.generate_due()
    case = db.session.scalars(select(Case).where(
        Case.dedupe_key == f"care:birthday:2026-12-01:{org.stores[0].id}")).one()
    names = {m["id"]: db.session.get(Member, m["id"]).name for m in (keep, drop)}

    browser, context = browser_context
    with time_machine.travel(REVIEW, tick=True):  # the live server's thread too
        page = context.new_page()
        login(page, live_server, "manager1")
        page.goto(f"{live_server}/cases/{case.id}")
        expect(page.locator("#care-lines h2")).to_contain_text("待关怀 2 人")
        row = page.locator("#care-lines tr", has_text=names[drop["id"]])
        row.get_by_role("button", name="移除").click()
        expect(page.locator(".flash.ok")).to_have_text("操作成功")
        expect(page.locator("#care-lines h2")).to_contain_text("待关怀 1 人")
        shot(page, "care-batch-review")
        page.get_by_role("button", name="审核通过").click()
        expect(page.locator(".flash.ok")).to_have_text("操作成功")

    with time_machine.travel(ON_THE_DAY, tick=False):
        process_due()
    visit = db.session.scalars(select(Case).where(Case.process == "care_action",
                                                  Case.member_id == keep["id"],
                                                  Case.title.contains("登门拜访"))).one()
    assert db.session.scalars(select(Case).where(Case.process == "care_action",
                                                 Case.member_id == drop["id"],
                                                 Case.title.contains("登门拜访"))).all() == []
    phone_context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    phone_context.set_default_timeout(10_000)
    phone = phone_context.new_page()
    login(phone, live_server, "assoc1")
    phone.goto(f"{live_server}/cases/{visit.id}")
    expect(phone.locator("section.script")).to_contain_text("意见询问")
    shot(phone, "care-visit-phone")
    phone.get_by_role("button", name="已完成").click()
    expect(phone.locator(".flash.ok")).to_have_text("操作成功")
    phone.goto(f"{live_server}/care/profiles")
    expect(phone.locator("section.profile").first).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling on a phone
    shot(phone, "care-profiles-phone")
    phone_context.close()
