"""The day-3 after-sale call (SPEC §3.3): started by the daily job for the sales of day D-2, one
per member and sale day, to the member's associate with the filled script; each outcome; a dead
number gets no further call and no SMS; the points SMS is sent from the same daily job."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.sales.builders import bulk_members, sale
from webapp.extensions import db
from webapp.models import AuditEvent, Case, Member, OutboxMessage, Role, Task
from webapp.outbox import queue_sms, script_text
from webapp.services import sales
from webapp.services.aftersale import start_due_calls
from webapp.services.deadlines import process_due
from webapp.workflows import engine

SOLD = datetime(2026, 11, 20, 5, 0, tzinfo=timezone.utc)  # Friday 20 Nov, 13:00 local (day 1)
DAY2 = datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)  # Saturday 09:00 local
DAY3 = datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)  # Sunday 22 Nov, 09:00 local: day 3


def buy(org, card, no, when="2026-11-20 13:00", amount="300.00", category=""):
    with time_machine.travel(SOLD, tick=False):
        sales.record(rows=[sale("S1", no, when, amount, card=card, category=category)],
                     actor=org["hq"], source="import")


@pytest.fixture
def members(org):
    rows = bulk_members(org.stores[0], 3)
    db.session.execute(db.update(Member).where(Member.id.in_([m["id"] for m in rows]))
                       .values(associate_id=org["assoc1"].id))
    db.session.commit()
    return rows


def calls():
    return db.session.scalars(select(Case).where(Case.process == "aftersale_call")
                              .order_by(Case.member_id)).all()


def open_task(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).one()


def step(org, case, name, who, when, comment=""):
    with time_machine.travel(when, tick=False):
        engine.fire(case, name, org[who], version=case.version, now=when, comment=comment)
        db.session.commit()


def test_day_three_opens_one_call_per_member_and_sale_day_for_the_associate(org, members):
    a, b, _c = members
    buy(org, a["card_no"], "A1")
    buy(org, a["card_no"], "A2", when="2026-11-20 18:00")  # two tickets, one call
    buy(org, b["card_no"], "B1", when="2026-11-21 10:00")  # day 2 for this one: not yet
    assert start_due_calls(now=DAY2) == 0
    assert start_due_calls(now=DAY3) == 1
    assert start_due_calls(now=DAY3 + timedelta(minutes=10)) == 0  # the job runs every 10 minutes
    [case] = calls()
    task = open_task(case)
    assert (case.member_id, task.name, task.assignee_id, task.escalate_to) == (
        a["id"], "aftersale_call", org["assoc1"].id, Role.STORE_MANAGER)
    assert case.title == f"售后回访 {a['card_no']} C级"  # the tier shows in inboxes
    assert task.due_at == datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)  # end of day 3
    script = script_text("aftersale_call", case.member, case.data)
    assert "11月20日" in script and "我们来帮您洗" in script and "assoc1名" in script
    assert start_due_calls(now=DAY3 + timedelta(days=1)) == 1  # b's day 3


def test_the_case_page_shows_the_filled_script(org, members, login):
    buy(org, members[0]["card_no"], "A1")
    start_due_calls(now=DAY3)
    [case] = calls()
    page = login("assoc1").get(f"/cases/{case.id}").data.decode()
    assert "您在11月20日在我们店里买的" in page


def test_the_script_names_what_was_bought_with_its_care_advice(org, members, login):
    """Seed: "买的那件XX(品类,如丝光棉T恤)感觉挺好的吧?" and the washing advice for it; a ticket
    without a category reads "那件衣服" with the general advice; returns are not named."""
    a, b, _c = members
    buy(org, a["card_no"], "A1", category="丝光棉T恤")
    buy(org, a["card_no"], "A2", when="2026-11-20 18:00", category="羊绒大衣")
    buy(org, b["card_no"], "B1")
    start_due_calls(now=DAY3)
    first, second = calls()
    script = script_text("aftersale_call", first.member, first.data)
    assert "买的那件丝光棉T恤和羊绒大衣感觉挺好的吧" in script
    assert "棉质衣物30度以下水洗" in script and "羊毛、羊绒用中性洗涤剂" in script
    plain = script_text("aftersale_call", second.member, second.data)
    assert "买的那件衣服感觉" in plain and "按照洗水标上的方法清洗" in plain
    page = login("assoc1").get(f"/cases/{first.id}").data.decode()
    assert "丝光棉T恤和羊绒大衣" in page


def test_no_answer_retries_next_working_day_up_to_the_limit(org, members):
    buy(org, members[0]["card_no"], "A1")
    start_due_calls(now=DAY3)
    [case] = calls()
    step(org, case, "no_answer", "assoc1", DAY3 + timedelta(hours=2))
    task = open_task(case)
    # Sunday 22 Nov → end of Monday 23 Nov (the next working day)
    assert (case.state, task.name, task.due_at) == (
        "retry", "aftersale_retry", datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc))
    step(org, case, "no_answer", "assoc1", DAY3 + timedelta(days=1))
    with pytest.raises(engine.WorkflowError):  # the third attempt would pass the limit of 3
        step(org, case, "no_answer", "assoc1", DAY3 + timedelta(days=2))
    db.session.rollback()
    step(org, case, "give_up", "assoc1", DAY3 + timedelta(days=2))
    assert case.state == "not_reached" and case.closed_at is not None


def test_a_problem_opens_a_three_day_follow_up_that_escalates_to_the_manager(org, members):
    buy(org, members[0]["card_no"], "A1")
    start_due_calls(now=DAY3)
    [case] = calls()
    with pytest.raises(engine.WorkflowError):  # the problem must be written down
        step(org, case, "problem", "assoc1", DAY3 + timedelta(hours=1))
    db.session.rollback()
    step(org, case, "problem", "assoc1", DAY3 + timedelta(hours=1), comment="裤脚开线")
    task = open_task(case)
    # three working days from Sunday: Mon, Tue, Wed → end of Wednesday 25 Nov
    assert (task.name, task.escalate_to, task.due_at) == (
        "aftersale_problem", Role.STORE_MANAGER, datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc))
    with time_machine.travel(task.due_at + timedelta(minutes=1), tick=False):
        process_due()
    db.session.expire_all()
    assert db.session.get(Task, task.id).escalated_at is not None
    step(org, case, "answered", "assoc1", task.due_at + timedelta(hours=1), comment="已免费修补")
    assert case.state == "done"


def test_a_dead_number_is_flagged_and_gets_no_further_call_or_sms(org, members):
    a = members[0]
    buy(org, a["card_no"], "A1")
    start_due_calls(now=DAY3)
    [case] = calls()
    step(org, case, "number_dead", "assoc1", DAY3 + timedelta(hours=1))
    member = db.session.get(Member, a["id"])
    assert member.mobile_dead_at == DAY3 + timedelta(hours=1)
    assert db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "member", AuditEvent.object_id == a["id"])).all() == ["mobile_dead"]
    buy(org, a["card_no"], "A9", when="2026-11-21 12:00")
    assert start_due_calls(now=DAY3 + timedelta(days=1)) == 0
    assert queue_sms(member, "welcome_formal") is None
    db.session.commit()
    assert db.session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == a["id"])).all() == []


def test_an_associate_of_another_store_may_not_record_the_outcome(org, members):
    buy(org, members[0]["card_no"], "A1")
    start_due_calls(now=DAY3)
    [case] = calls()
    with pytest.raises(engine.NotAllowed):
        step(org, case, "reached", "assoc3", DAY3 + timedelta(hours=1))


def test_the_daily_job_sends_the_points_sms_and_opens_the_day_three_calls(org, members, app,
                                                                         monkeypatch):
    import jobs
    import jobs.deadlines

    monkeypatch.setattr(jobs, "app", lambda: app)
    a = members[0]
    buy(org, a["card_no"], "A1")
    db.session.commit()  # the job writes through its own session
    with time_machine.travel(DAY2, tick=False):
        jobs.deadlines.daily()
        jobs.deadlines.daily()
    [sms] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.member_id == a["id"])).all()
    assert sms.template == "points_temporary" and "11月20日" in sms.body and "300元" in sms.body
    assert calls() == []
    with time_machine.travel(DAY3, tick=False):
        jobs.deadlines.daily()
    assert [c.member_id for c in calls()] == [a["id"]]


def test_a_whole_days_buyers_get_one_call_each_except_a_dead_number(org, members):
    """Everyone who bought on day 1 (new or old customer) gets a day-3 call; a number flagged
    dead gets none."""
    a, b, c = members
    buy(org, a["card_no"], "A1", when="2026-11-20 10:00")
    buy(org, b["card_no"], "B1", when="2026-11-20 21:30")
    buy(org, c["card_no"], "C1", when="2026-11-20 12:00")
    db.session.execute(db.update(Member).where(Member.id == c["id"]).values(mobile_dead_at=SOLD))
    db.session.commit()
    assert start_due_calls(now=DAY3) == 2
    assert [case.member_id for case in calls()] == [a["id"], b["id"]]


def test_the_shop_floor_sheet_fills_the_day_three_script_from_its_case(org, members):
    """The printed day sheet fills each call's script with the case's values (the sale day)."""
    from webapp.services import routine

    buy(org, members[0]["card_no"], "A1", category="牛仔裤")
    start_due_calls(now=DAY3)
    with time_machine.travel(DAY3, tick=False):
        sheet = routine.daily_sheet(actor=org["assoc1"], now=DAY3)
    [row] = [r for r in sheet["tasks"] if r["title"].startswith("售后回访")]
    assert "11月20日" in row["script"] and "那件牛仔裤" in row["script"]
