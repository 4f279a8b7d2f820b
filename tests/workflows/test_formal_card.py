"""Formal membership (SPEC §3.2): the sale that reaches the threshold starts the case (every
path), the welcome SMS at once, HQ makes the card, the day-5 call, each branch, the card formal."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.sales.builders import bulk_members, sale
from webapp.extensions import db
from webapp.models import Case, Member, OutboxMessage, Task
from webapp.services import sales
from webapp.services.deadlines import process_due
from webapp.workflows import engine

T0 = datetime(2026, 11, 20, 6, 0, tzinfo=timezone.utc)  # Friday 20 Nov, 14:00 local
DAY5 = datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)  # 24 Nov 00:00 local: day 5


def buy(org, m, no, amount, when=T0):
    with time_machine.travel(when, tick=False):
        sales.record(rows=[sale("S1", no, "2026-11-20 13:00", amount, card=m["card_no"])],
                     actor=org["hq"], source="import")


def formal_case():
    return db.session.scalars(select(Case).where(Case.process == "formal_card")).one()


def open_task(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).one()


@pytest.fixture
def member(org):
    (m,) = bulk_members(org.stores[0], 1)
    m["card_no"] = "TS1" + m["card_no"][1:]  # the temporary series, as registration numbers it
    db.session.execute(db.update(Member).where(Member.id == m["id"])
                       .values(associate_id=org["assoc1"].id, card_no=m["card_no"]))
    db.session.commit()
    return m


def step(org, case, name, who, when):
    with time_machine.travel(when, tick=False):
        engine.fire(case, name, org[who], version=case.version, now=when)
        db.session.commit()


def test_exactly_the_threshold_starts_it_once_with_the_welcome_sms_and_an_hq_task(org, member):
    buy(org, member, "A1", "999.00")
    assert db.session.scalars(select(Case).where(Case.process == "formal_card")).all() == []
    buy(org, member, "A2", "1.00")  # 1000 points: exactly the threshold
    case = formal_case()
    assert (case.state, open_task(case).name) == ("card_requested", "make_card")
    [sms] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "welcome_formal")).all()
    assert "恭喜您成为" in sms.body and "1000分" in sms.body
    buy(org, member, "A3", "50.00")  # over the line again: nothing new
    assert len(db.session.scalars(select(Case).where(Case.process == "formal_card")).all()) == 1


def test_day_five_call_then_mail_it_then_hq_mails_and_the_card_is_formal(org, member):
    buy(org, member, "A1", "1200.00")
    case = formal_case()
    step(org, case, "card_sent", "hq", T0 + timedelta(days=1))
    with time_machine.travel(DAY5 - timedelta(minutes=1), tick=False):
        assert process_due()["timer"] == 0
    with time_machine.travel(DAY5 + timedelta(hours=1), tick=False):
        assert process_due()["timer"] == 1
    db.session.expire_all()
    case = formal_case()
    task = open_task(case)
    assert (case.state, task.name, task.assignee_id) == ("call", "pickup_call", org["assoc1"].id)
    step(org, case, "mail_it", "assoc1", DAY5 + timedelta(hours=3))
    assert open_task(case).name == "mail_card"
    step(org, case, "mailed", "hq", DAY5 + timedelta(days=1))
    db.session.expire_all()
    m = db.session.get(Member, member["id"])
    assert (m.card_type, m.card_no, m.previous_card_no) == ("formal", "F" + member["card_no"][1:],
                                                           member["card_no"])
    assert formal_case().state == "issued"


def test_coming_later_holds_the_card_then_hand_over(org, member):
    buy(org, member, "A1", "1200.00")
    case = formal_case()
    step(org, case, "card_sent", "hq", T0 + timedelta(hours=2))
    with time_machine.travel(DAY5 + timedelta(hours=1), tick=False):
        process_due()
    db.session.expire_all()
    case = formal_case()
    step(org, case, "coming_later", "assoc1", DAY5 + timedelta(hours=2))
    assert open_task(case).name == "follow_up"
    step(org, case, "handed_over", "assoc1", DAY5 + timedelta(days=2))
    assert db.session.get(Member, member["id"]).card_type == "formal"


def test_no_answer_calls_again_up_to_the_set_number_and_an_associate_cannot_mark_it_made(org, member):
    buy(org, member, "A1", "1200.00")
    case = formal_case()
    with pytest.raises(engine.NotAllowed):
        engine.fire(case, "card_sent", org["assoc1"], version=case.version)
    step(org, case, "card_sent", "hq", T0 + timedelta(hours=2))
    with time_machine.travel(DAY5 + timedelta(hours=1), tick=False):
        process_due()
    db.session.expire_all()
    case = formal_case()
    step(org, case, "no_answer", "assoc1", DAY5 + timedelta(hours=2))
    step(org, case, "no_answer", "assoc1", DAY5 + timedelta(days=1))
    with pytest.raises(engine.WorkflowError, match="最多拨打次数"):
        engine.fire(case, "no_answer", org["assoc1"], version=case.version)
    step(org, case, "away_long", "assoc1", DAY5 + timedelta(days=2))
    assert formal_case().state == "deferred"


def test_the_till_api_starts_it_too_and_the_old_number_still_finds_the_member(org, member, client):
    secret = sales.create_token(actor=org["admin"], store=org.stores[0], name="收银机")[1]
    with time_machine.travel(T0, tick=False):
        response = client.post("/api/v1/sales", headers={"Authorization": f"Bearer {secret}"},
                               json={"sales": [{"sale_no": "T1", "sold_at": "2026-11-20T13:00:00+08:00",
                                                "amount": "1500.00", "items": 2,
                                                "member_card": member["card_no"]}]})
    assert response.status_code == 200, response.get_json()
    assert formal_case().state == "card_requested"


def test_the_old_temporary_number_still_finds_the_member_after_the_card_is_formal(org, member, login):
    buy(org, member, "A1", "1200.00")
    case = formal_case()
    step(org, case, "mail_it", "assoc1", T0 + timedelta(hours=1))  # said already at the sale
    step(org, case, "mailed", "hq", T0 + timedelta(days=1))
    buy(org, member, "A2", "10.00", when=T0 + timedelta(days=2))  # a till still sends the old card
    db.session.expire_all()
    assert db.session.get(Member, member["id"]).points == 1210
    page = login("assoc1").get(f"/members?q={member['card_no']}")
    assert page.status_code == 200 and ("F" + member["card_no"][1:]) in page.get_data(as_text=True)


def test_the_import_page_starts_it_too(org, member, login):
    """The third path: a store manager uploads the till file on the page and confirms it."""
    from tests.sales.builders import csv_file, upload_page

    client = login("manager1")
    data = csv_file([sale("S1", "U1", "2026-11-20 13:00", "1000.00", card=member["card_no"])])
    with time_machine.travel(T0, tick=False):
        page = upload_page(client, data)  # the upload is read by the worker, then previewed
        assert page.status_code == 200, page.data.decode()[:500]
        token = page.data.decode().split('name="token" value="')[1].split('"')[0]
        assert client.post("/sales/import/confirm", data={"token": token}).status_code == 302
    case = formal_case()
    assert (case.state, case.member_id) == ("card_requested", member["id"])
    assert db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "welcome_formal")).one().member_id == member["id"]


def test_coming_today_then_handed_over_and_away_long_then_reissued(org, member):
    buy(org, member, "A1", "1200.00")
    case = formal_case()
    step(org, case, "card_sent", "hq", T0 + timedelta(hours=2))
    with time_machine.travel(DAY5 + timedelta(hours=1), tick=False):
        process_due()
    db.session.expire_all()
    case = formal_case()
    step(org, case, "coming_today", "assoc1", DAY5 + timedelta(hours=2))
    assert (case.state, open_task(case).name) == ("at_store", "hand_over")
    step(org, case, "handed_over", "assoc1", DAY5 + timedelta(hours=6))
    m = db.session.get(Member, member["id"])
    assert (case.state, m.card_type, m.card_issued_on.isoformat()) == ("issued", "formal", "2026-11-24")

    (other,) = bulk_members(org.stores[0], 1)
    db.session.execute(db.update(Member).where(Member.id == other["id"])
                       .values(associate_id=org["assoc1"].id, card_no="TS1" + other["card_no"][1:]))
    db.session.commit()
    other["card_no"] = "TS1" + other["card_no"][1:]
    buy(org, other, "B1", "1000.00")
    later = db.session.scalars(select(Case).where(Case.process == "formal_card",
                                                  Case.member_id == other["id"])).one()
    step(org, later, "away_long", "assoc1", T0 + timedelta(hours=1))  # said at the sale
    assert later.state == "deferred"
    step(org, later, "reissue", "assoc1", T0 + timedelta(days=40))  # back: from the purchase record
    assert (later.state, open_task(later).name) == ("at_store", "hand_over")
    step(org, later, "handed_over", "assoc1", T0 + timedelta(days=40, hours=1))
    assert db.session.get(Member, other["id"]).card_type == "formal"
