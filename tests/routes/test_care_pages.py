"""The care batch on the case page (SPEC §3.4): the manager sees the lines with reasons, removes,
changes a method, adds by card number; bad input gets a message; others cannot change it."""
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import select, update

from tests.sales.builders import bulk_members
from webapp.extensions import db
from webapp.models import CareLine, Case, Member
from webapp.services import care

GENERATE = datetime(2027, 1, 30, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def batch(org):
    a, b, dead = bulk_members(org.stores[0], 3)
    db.session.execute(update(Member).values(points=2000, tier="A"))
    db.session.execute(update(Member).where(Member.id == b["id"]).values(tier="B"))
    db.session.execute(update(Member).where(Member.id == dead["id"]).values(mobile_dead_at=GENERATE))
    db.session.commit()
    with time_machine.travel(GENERATE, tick=False):
        care.generate_due()
    case = db.session.scalars(select(Case).where(Case.process == "care_batch")).one()
    return case, {"A": a, "B": b, "dead": dead}


def line_of(case, member):
    return db.session.scalars(select(CareLine).where(CareLine.case_id == case.id,
                                                     CareLine.member_id == member["id"])).one()


def test_the_manager_reviews_and_approves_on_the_case_page(org, login, batch):
    case, m = batch
    client = login("manager1")
    page = client.get(f"/cases/{case.id}").data.decode()
    assert "关怀名单" in page and "待关怀 2 人" in page
    assert "另向留有电子邮箱的C级会员发送积分信息邮件" in page  # the Spring Festival's rule
    assert "电话祝福，上门赠送礼品" in page and "系统排除（空号）" in page
    assert "审核通过" in page
    b = line_of(case, m["B"])
    response = client.post(f"/care/{case.id}/lines/{b.id}/remove", follow_redirects=True)
    assert "操作成功" in response.data.decode()
    db.session.expire_all()
    assert line_of(case, m["B"]).status == "removed"
    a = line_of(case, m["A"])
    client.post(f"/care/{case.id}/lines/{a.id}/method", data={"method": "sms_gift_store"})
    db.session.expire_all()
    assert line_of(case, m["A"]).method == "sms_gift_store"
    response = client.post(f"/care/{case.id}/lines/{a.id}/method", data={"method": "nope"},
                           follow_redirects=True)
    assert "未知的关怀方式" in response.data.decode()
    response = client.post(f"/care/{case.id}/add", data={"card_no": "X123"}, follow_redirects=True)
    assert "本店没有该卡号的会员" in response.data.decode()
    response = client.post(f"/care/{case.id}/add", data={"card_no": m["B"]["card_no"]},
                           follow_redirects=True)
    db.session.expire_all()
    assert line_of(case, m["B"]).status == "planned"
    with time_machine.travel(GENERATE, tick=False):
        client.post(f"/cases/{case.id}/approve", data={"version": case.version})
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "approved"
    page = client.get(f"/cases/{case.id}").data.decode()
    assert "移除" not in page  # approved: no more changes


def test_the_batch_lines_filter_by_tier_and_the_call_task_shows_the_tier(org, login, batch):
    case, m = batch
    client = login("manager1")
    only_b = client.get(f"/cases/{case.id}?tier=B").data.decode()
    assert m["B"]["card_no"] in only_b and m["A"]["card_no"] not in only_b
    assert "待关怀 2 人" in only_b and 'aria-current="page">B级会员' in only_b  # counts the batch
    assert "该级别没有会员" in client.get(f"/cases/{case.id}?tier=C").data.decode()
    every = client.get(f"/cases/{case.id}?tier=nope").data.decode()
    assert m["A"]["card_no"] in every and m["B"]["card_no"] in every
    with time_machine.travel(GENERATE, tick=False):
        client.post(f"/cases/{case.id}/approve", data={"version": case.version})
    gift = db.session.scalars(select(Case).where(Case.process == "care_action",
                                                 Case.member_id == m["A"]["id"])).first()
    page = login("assoc1").get(f"/cases/{gift.id}").data.decode()
    assert '会员资料 <span class="tag tier">A级</span>' in page


def test_the_associate_opens_a_care_task_with_the_filled_script(org, login, batch):
    case, m = batch
    db.session.execute(update(Member).values(associate_id=org["assoc1"].id))
    db.session.commit()
    with time_machine.travel(GENERATE, tick=False):
        from webapp.services import cases
        cases.fire(actor=org["manager1"], case=case, transition="approve", version=case.version)
    gift = db.session.scalars(select(Case).where(Case.process == "care_action",
                                                 Case.member_id == m["A"]["id"])).one()
    page = login("assoc1").get(f"/cases/{gift.id}").data.decode()
    assert "准备礼品（上门赠送）" in page and "意见询问" in page
    assert db.session.get(Member, m["A"]["id"]).name[:1] + "先生" in page


def test_an_associate_sees_but_cannot_change_and_another_store_gets_404(org, login, batch):
    case, m = batch
    b = line_of(case, m["B"])
    client = login("assoc1")
    page = client.get(f"/cases/{case.id}").data.decode()
    assert "关怀名单" in page and "移除" not in page
    response = client.post(f"/care/{case.id}/lines/{b.id}/remove", follow_redirects=True)
    assert "只有本店店长可以修改关怀名单" in response.data.decode()
    db.session.expire_all()
    assert line_of(case, m["B"]).status == "planned"
    other = login("manager3")
    assert other.post(f"/care/{case.id}/lines/{b.id}/remove").status_code == 404
    assert other.get(f"/cases/{case.id}").status_code == 404


def test_todays_profiles_own_members_first_rotating_by_day(org, login):
    own = bulk_members(org.stores[0], 3)
    others = bulk_members(org.stores[0], 2)
    db.session.execute(update(Member).where(Member.id.in_([m["id"] for m in own]))
                       .values(associate_id=org["assoc1"].id, preferences="衬衫40码，偏爱蓝色"))
    db.session.commit()
    client = login("assoc1")
    seen = []
    for day in (1, 2, 3):
        with time_machine.travel(datetime(2026, 12, day, 2, 0, tzinfo=timezone.utc), tick=False):
            page = client.get("/care/profiles").data.decode()
        names = [db.session.get(Member, m["id"]).name for m in own + others]
        shown = [n for n in names if f"{n} <span" in page.split("复习昨天的档案")[0]]
        assert len(shown) == 2
        seen.append(shown)
    assert seen[0] != seen[1]  # a new pair each day
    assert "复习昨天的档案" in page
    everyone = {n for pair in seen for n in pair}
    assert len(everyone) >= 4  # all five come round in turn
    assert login("hq").get("/care/profiles").status_code == 403


def test_profiles_page_fits_a_phone(org, login):
    bulk_members(org.stores[0], 2)
    page = login("assoc1").get("/care/profiles").data.decode()
    assert 'name="viewport"' in page and "今日记忆的会员档案" in page


def test_the_daily_sheet_is_one_a4_page_with_the_days_calls_and_profiles(org, login, batch):
    import io

    from pypdf import PdfReader

    case, m = batch
    db.session.execute(update(Member).values(associate_id=org["assoc1"].id,
                                             preferences="衬衫40码"))
    db.session.commit()
    from webapp.services import cases
    from webapp.services.deadlines import process_due

    with time_machine.travel(GENERATE, tick=False):
        cases.fire(actor=org["manager1"], case=case, transition="approve", version=case.version)
    day = datetime(2027, 2, 6, 2, 0, tzinfo=timezone.utc)  # 10:00 local on 春节
    with time_machine.travel(day, tick=False):
        process_due()
        response = login("assoc1").get("/care/sheet.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    assert len(reader.pages) == 1 and abs(float(reader.pages[0].mediabox.width) - 595.3) < 1
    text = reader.pages[0].extract_text()
    name = db.session.get(Member, m["A"]["id"]).name
    assert "今日工作单" in text and f"春节：电话 {name}" in text and "意见询问" in text
    assert "衬衫40码" in text
    assert "139" not in text  # no phone numbers on paper
    assert login("hq").get("/care/sheet.pdf").status_code == 403


def test_approving_after_the_day_says_why_and_a_lapsed_batch_shows_its_state(org, login, batch):
    from datetime import timedelta

    from webapp.services.deadlines import process_due

    case, _m = batch
    after = datetime(2027, 2, 6, 17, 0, tzinfo=timezone.utc)  # 7 Feb 01:00 local: the day is over
    with time_machine.travel(after, tick=False):
        client = login("manager1")
        response = client.post(f"/cases/{case.id}/approve", data={"version": case.version},
                               follow_redirects=True)
        assert response.status_code < 500
        assert "关怀日已过，名单不能再审核" in response.data.decode()
        process_due(now=after + timedelta(minutes=1))
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "expired"
    page = login("manager1").get(f"/cases/{case.id}").data.decode()
    assert "关怀日已过，未审核" in page and 'id="act-approve"' not in page
