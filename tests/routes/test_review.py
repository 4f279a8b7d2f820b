"""HQ's review list of new registrations: today's by default, another day's, or all pending;
approve one or many from it and come back to it; store and area roles may not open it."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import member_data, register
from webapp import clock
from webapp.calendar import local_date
from webapp.extensions import db
from webapp.models import Case
from webapp.services import cases as case_service
from webapp.services import registration


def yesterdays(org, name):
    actor = org["assoc3"]
    return registration.register(actor=actor, store=actor.store,
                                 data=member_data(actor, name=name, occupation="military"),
                                 now=clock.now() - timedelta(days=1))


def rows(html: str) -> int:
    return html.count("data-case=")


def test_today_by_default_then_a_day_or_all(org, login):
    register(org, name="今天甲", mobile="13812345678")
    old = yesterdays(org, "昨天乙")
    client = login("hq")
    page = client.get("/registrations/review").data.decode()
    assert "今天甲" in page and "昨天乙" not in page and rows(page) == 1
    assert "138****5678" in page and "13812345678" not in page
    assert "1号店" in page and "assoc1名" in page
    assert "今日新会员 (1)" in page and "全部待审核 (2)" in page
    day = local_date(clock.now() - timedelta(days=1))
    page = client.get(f"/registrations/review?day={day}").data.decode()
    assert "昨天乙" in page and "今天甲" not in page and "军人" in page and "3号店" in page
    page = client.get("/registrations/review?all=1").data.decode()
    assert rows(page) == 2 and page.index(str(old.member.card_no)) < page.index("今天甲")


@pytest.mark.parametrize("username", ["assoc1", "manager1", "supervisor1", "admin"])
def test_only_hq_opens_it(org, login, username):
    assert login(username).get("/registrations/review").status_code == 403


def test_approve_from_the_list_returns_to_it(org, login):
    case = register(org, name="单个通过")
    client = login("hq")
    response = client.post(f"/cases/{case.id}/approve",
                           data={"version": case.version, "next": "/registrations/review?all=1"})
    assert response.headers["Location"] == "/registrations/review?all=1"
    db.session.refresh(case)
    assert case.state == "approved"
    assert "单个通过" not in client.get("/registrations/review?all=1").data.decode()


def test_bulk_approve_from_the_list(org, login):
    cases = [register(org, name=f"批量{i}") for i in range(3)]
    client = login("hq")
    page = client.get("/registrations/review").data.decode()
    assert all(f'value="{c.id}:{c.version}"' in page for c in cases)
    response = client.post("/cases/bulk-approve", follow_redirects=True, data={
        "item": [f"{c.id}:{c.version}" for c in cases[:2]], "next": "/registrations/review"})
    page = response.data.decode()
    assert "已批量通过 2 项" in page and "新会员审核" in page and rows(page) == 1
    assert db.session.scalars(select(Case.state).order_by(Case.id)).all() == [
        "approved", "approved", "review"]


def test_resubmitted_entries_are_marked(org, login):
    case = register(org, name="补全过的")
    case_service.fire(actor=org["hq"], case=case, transition="send_back", version=case.version,
                      comment="缺少地址")
    registration.complete(actor=org["assoc1"], case=case, version=case.version,
                          data=member_data(org["assoc1"], name="补全过的", mobile=case.member.mobile))
    page = login("hq").get("/registrations/review").data.decode()
    assert "补全过的" in page and "补全后重新提交" in page


def test_bad_day_and_foreign_next(org, login):
    case = register(org)
    client = login("hq")
    response = client.get("/registrations/review?day=2026-13-45&page=99999999999999999999")
    assert response.status_code == 200 and "请选择有效的日期" in response.data.decode()
    response = client.post(f"/cases/{case.id}/approve",
                           data={"version": case.version, "next": "https://evil.example/"})
    assert response.headers["Location"] == f"/cases/{case.id}"


def test_one_registration_shows_the_members_data_masked_beside_the_actions(org, login):
    case = register(org, name="周芷若", mobile="13812345678", address="上海市静安区愚园路88号")
    page = login("hq").get(f"/cases/{case.id}").data.decode()
    data = page[page.index('class="kv member-data"'):]
    assert "周芷若" in data and "138****5678" in data and "上海市***" in data
    assert "13812345678" not in page and "愚园路" not in page and "1988-05-17" not in page
    assert "教师" in data and "亲友介绍" in data and "1号店" in data
    assert page.index('class="kv member-data"') < page.index('id="act-approve"')
    assert "版本" not in page  # the internal version number is nobody's business


def test_send_back_from_the_list_lands_on_the_comment_box(org, login):
    case = register(org)
    client = login("hq")
    link = f"/cases/{case.id}?act=send_back"
    assert link in client.get("/registrations/review").data.decode()
    page = client.get(f"/cases/{case.id}?act=send_back").data.decode()
    assert page.index('id="act-send_back"') < page.index('id="act-approve"')
    assert 'id="comment-send_back" required autofocus' in page


def test_admin_sees_the_case_but_not_the_members_data(org, login):
    case = register(org, name="周芷若")
    page = login("admin").get(f"/cases/{case.id}").data.decode()
    assert "member-data" not in page and "138" not in page
