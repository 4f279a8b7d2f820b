"""Formal membership end to end in Chromium (CSRF on; issue #11's proof): a till sale takes a
temporary member over the threshold → the welcome SMS at once and the points SMS after the sale
day, both in the outbox → HQ marks the card made and sent → on day 5 the associate's call task →
"mail it" → HQ's mailing task done → the member page shows the formal card (F… number)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from playwright.sync_api import expect
from sqlalchemy import select

from tests.sales.builders import bulk_members
from webapp.extensions import db
from webapp.models import Case, Member, Task
from webapp.services import points, sales
from webapp.services.deadlines import process_due

from .test_registration_flow import login, logout, shot

pytestmark = pytest.mark.browser

SOLD = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # Friday 20 Nov, 14:00 local (day 1)
NEXT_DAY = datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)  # Saturday 09:00 local
DAY5 = datetime(2026, 11, 24, 1, 0, tzinfo=timezone.utc)  # Tuesday 24 Nov 09:00 local: day 5


def test_a_till_sale_over_the_threshold_ends_with_a_mailed_formal_card(
        live_server, browser_context, org):
    (m,) = bulk_members(org.stores[0], 1)
    card = "TS1" + m["card_no"][1:]  # the temporary series, as registration numbers it
    db.session.execute(db.update(Member).where(Member.id == m["id"])
                       .values(associate_id=org["assoc1"].id, card_no=card, points=900,
                               points_balance=900))
    db.session.commit()
    secret = sales.create_token(actor=org["admin"], store=org.stores[0], name="收银机1")[1]
    browser, context = browser_context
    page = context.new_page()

    with time_machine.travel(SOLD, tick=False):  # the till: 100 points more, exactly 1000
        response = page.request.post(
            f"{live_server}/api/v1/sales", headers={"Authorization": f"Bearer {secret}"},
            data={"sales": [{"sale_no": "T-0001", "sold_at": "2026-11-20T13:40:00+08:00",
                             "amount": "100.00", "items": 1, "member_card": card,
                             "category": "丝光棉T恤"}]})
        assert response.status == 200, response.text()
    with time_machine.travel(NEXT_DAY, tick=False):
        assert points.queue_points_sms() == 1  # the daily job, once the sale day is over
        login(page, live_server, "manager1")
        page.goto(f"{live_server}/outbox")
        rows = page.locator("table tbody tr")
        expect(rows.filter(has_text="恭喜您成为")).to_have_count(1)  # welcome (formal) SMS
        expect(rows.filter(has_text="消费共计100元")).to_contain_text("积分是1000分")
        shot(page, "formal-card-outbox")
        logout(page, live_server)

        case = db.session.scalars(select(Case).where(Case.process == "formal_card")).one()
        login(page, live_server, "hq")
        page.goto(f"{live_server}/cases/{case.id}")
        page.get_by_role("button", name="已制卡并送至门店").click()
        expect(page.locator(".flash.ok")).to_have_text("操作成功")
        logout(page, live_server)

    with time_machine.travel(DAY5, tick=False):
        assert process_due()["timer"] == 1  # the day-5 call opens
        login(page, live_server, "assoc1")
        row = page.locator("table.inbox tbody tr").filter(has_text="第5天致电邀请领取正式会员卡")
        expect(row).to_have_count(1)
        page.goto(f"{live_server}/cases/{case.id}")
        expect(page.locator("section.script")).to_contain_text("今天刚好是第5天")
        shot(page, "formal-card-day5-call")
        page.get_by_role("button", name="顾客不能来店：邮寄（已确认地址）").click()
        expect(page.locator(".flash.ok")).to_have_text("操作成功")
        logout(page, live_server)

    with time_machine.travel(DAY5 + timedelta(hours=3), tick=False):
        login(page, live_server, "hq")
        expect(page.locator("table.inbox tbody tr").filter(has_text="邮寄正式会员卡")).to_have_count(1)
        page.goto(f"{live_server}/cases/{case.id}")
        page.get_by_role("button", name="已邮寄会员卡").click()
        expect(page.locator(".flash.ok")).to_have_text("操作成功")
        db.session.expire_all()
        mailing = db.session.scalars(select(Task).where(Task.case_id == case.id,
                                                        Task.name == "mail_card")).one()
        assert mailing.status == "done"
        page.goto(f"{live_server}/members/{m['id']}")
        expect(page.locator("h1")).to_contain_text("正式会员卡")
        expect(page.locator("main")).to_contain_text("FS1" + m["card_no"][1:])
        shot(page, "formal-card-issued")
