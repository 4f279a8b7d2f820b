"""The monthly visit plan and report (SPEC §3.5) over a controlled month: the plan case per store
from the 1st, items proposed then set by the 28th, the report by the month's last day, the
supervisor's review, HQ's archive by the 30th, items as tasks on their dates, visit records, the
seeded spot-check, the scorecard, frequency control and dead numbers; reminders and escalations
once each; a supervisor sees only their area."""
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select, update

from tests.sales.builders import bulk_members
from webapp import permissions
from webapp.calendar import local_midnight_utc
from webapp.extensions import db
from webapp.formatting import percent
from webapp.models import Case, Member, Notification, PlanItem, Task, VisitRecord
from webapp.periods import Month
from webapp.services import recurring
from webapp.services import visit_plan as vp
from webapp.services.deadlines import process_due
from webapp.workflows import engine

NOV_1 = datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)  # 1 Nov 00:00 local
DEC = Month(2026, 12)


def local(y, m, d, hh=10, mm=0):
    """A local (Asia/Shanghai) moment as aware UTC."""
    return local_midnight_utc(date(y, m, d)) + timedelta(hours=hh, minutes=mm)


def open_task(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).one()


@pytest.fixture
def plans(org):
    recurring.open_due(now=NOV_1)
    return {s.code: vp.plan_case(store_id=s.id, month=DEC) for s in org.stores}


@pytest.fixture
def members(org):
    rows = bulk_members(org.stores[0], 4)
    db.session.execute(update(Member).where(Member.id == rows[1]["id"]).values(tier="A", points=5200))
    db.session.commit()
    return [db.session.get(Member, r["id"]) for r in rows]


def propose(org, case, who, member, day, method="call", associate=None, occasion="生日回访"):
    return vp.propose_item(actor=org[who], case=case, member_id=member.id, occasion=occasion,
                           method=method, associate_id=(associate or org[who]).id,
                           planned_on=date(2026, 12, day), now=local(2026, 11, 10))


def fire(org, case, name, who, when, comment=""):
    db.session.refresh(case)
    engine.fire(case, name, org[who], version=case.version, comment=comment, now=when)
    db.session.commit()


def test_one_plan_per_store_opened_on_the_1st_due_the_28th_and_a_supervisor_sees_only_their_area(org, plans):
    assert all(plans.values()) and plans["S1"].title == "2026-12 客户回访计划"
    task = open_task(plans["S1"])
    assert (task.name, task.role.value) == ("set_plan", "store_manager")
    assert task.due_at == local_midnight_utc(date(2026, 11, 29))  # by the end of the 28th
    recurring.open_due(now=NOV_1 + timedelta(hours=3))
    assert db.session.scalar(select(db.func.count(Case.id)).where(Case.process == "visit_plan")) == 4
    seen = db.session.scalars(select(Case.store_id).where(
        Case.process == "visit_plan", permissions.case_filter(org["supervisor1"]))).all()
    assert sorted(seen) == sorted([org.stores[0].id, org.stores[1].id])
    rows = vp.consolidation(user=org["supervisor2"], month=DEC)
    assert [r.code for r in rows] == ["S3", "S4"]


def test_the_whole_cycle_with_send_back_and_each_deadline(org, plans, members):
    case = plans["S1"]
    item = propose(org, case, "assoc1", members[0], 3)
    assert item.status == "proposed"
    # a proposal is not a task: nothing in anybody's inbox on its date
    assert vp.open_item_tasks(now=local(2026, 12, 3)) == 0
    with pytest.raises(vp.VisitError):  # an associate proposes only for themself
        propose(org, case, "assoc1", members[1], 4, associate=org["assoc1b"])
    with pytest.raises(vp.VisitError):  # the date must lie in the planned month
        vp.propose_item(actor=org["assoc1"], case=case, member_id=members[1].id, occasion="x",
                        method="call", associate_id=org["assoc1"].id, planned_on=date(2026, 11, 30))
    with pytest.raises(engine.NotAllowed):  # another store's plan
        propose(org, plans["S3"], "assoc1", members[0], 3)
    with pytest.raises(engine.NotAllowed):  # only the manager sets the plan
        fire(org, case, "set_plan", "assoc1", local(2026, 11, 27))
    fire(org, case, "set_plan", "manager1", local(2026, 11, 27))
    db.session.refresh(item)
    assert item.status == "set" and case.state == "reporting"
    assert open_task(case).due_at == local_midnight_utc(date(2026, 12, 1))  # by the end of 30 Nov
    with pytest.raises(vp.VisitError):  # the plan is set: associates no longer add to it
        propose(org, case, "assoc1", members[2], 5)
    assert propose(org, case, "manager1", members[2], 5, associate=org["assoc1b"]).status == "set"
    with pytest.raises(vp.VisitError):
        vp.submit_report(actor=org["manager1"], case=case, version=case.version, remarks=" ")
    vp.submit_report(actor=org["manager1"], case=case, version=case.version, remarks="本月完成良好",
                     now=local(2026, 11, 29))
    assert case.state == "review" and case.data["remarks"] == "本月完成良好"
    assert open_task(case).role.value == "area_supervisor"
    with pytest.raises(engine.NotAllowed):  # another area's supervisor
        fire(org, case, "approve", "supervisor2", local(2026, 11, 29, 12))
    with pytest.raises(engine.WorkflowError):  # sending back needs the comments
        fire(org, case, "send_back", "supervisor1", local(2026, 11, 29, 12))
    fire(org, case, "send_back", "supervisor1", local(2026, 11, 29, 12), comment="请补充A类会员的拜访")
    assert case.state == "reporting"
    propose(org, case, "manager1", members[1], 8, method="visit")
    vp.submit_report(actor=org["manager1"], case=case, version=case.version, remarks="已补充",
                     now=local(2026, 11, 29, 15))
    fire(org, case, "approve", "supervisor1", local(2026, 11, 29, 16))
    assert case.state == "approved"
    archive = open_task(case)
    assert archive.role.value == "hq_specialist"
    assert archive.due_at == local_midnight_utc(date(2026, 12, 1))  # by the end of the 30th
    done, problems = vp.archive_all(actor=org["hq"], month=DEC)
    assert (done, problems) == (1, [])
    db.session.refresh(case)
    assert case.state == "archived"
    with pytest.raises(vp.VisitError):  # the plan is closed
        propose(org, case, "manager1", members[3], 9)


def test_reminder_before_and_escalation_after_the_28th_once_each(org, plans):
    task = open_task(plans["S1"])
    process_due(now=local(2026, 11, 27, 1))  # 48 h before the end of the 28th: the reminder
    process_due(now=local(2026, 11, 27, 2))
    process_due(now=local(2026, 11, 29, 0, 1))  # the 28th is over: the supervisor is told
    process_due(now=local(2026, 11, 29, 1))
    kinds = db.session.execute(select(Notification.kind, Notification.role)
                               .where(Notification.task_id == task.id)).all()
    assert sorted((k, r.value) for k, r in kinds) == [("escalate", "area_supervisor"),
                                                      ("remind", "store_manager")]


def set_plan(org, case, members):
    items = [propose(org, case, "assoc1", members[0], 3),
             propose(org, case, "assoc1", members[1], 3, method="visit"),
             propose(org, case, "manager1", members[2], 10, method="sms", associate=org["assoc1b"])]
    fire(org, case, "set_plan", "manager1", local(2026, 11, 27))
    return items


def test_set_items_become_tasks_on_their_dates_once_and_a_recorded_visit_closes_it(org, plans, members):
    items = set_plan(org, plans["S1"], members)
    assert vp.open_item_tasks(now=local(2026, 12, 2)) == 0
    assert vp.open_item_tasks(now=local(2026, 12, 3, 8)) == 2
    assert vp.open_item_tasks(now=local(2026, 12, 3, 9)) == 0  # run again: nothing twice
    tasks = db.session.scalars(select(Task).where(Task.name == "visit")).all()
    assert {t.assignee_id for t in tasks} == {org["assoc1"].id}
    assert all(t.due_at == local_midnight_utc(date(2026, 12, 4)) for t in tasks)
    db.session.refresh(items[0])
    record = vp.record_visit(actor=org["assoc1"], member_id=None, method="call",
                             visited_at=local(2026, 12, 3, 11), result="已接通，顾客满意",
                             feedback="希望有新款通知", follow_up=True, plan_item_id=items[0].id,
                             now=local(2026, 12, 3, 11, 5))
    assert record.member_id == members[0].id and record.ym == 202612
    task_case = db.session.get(Case, items[0].task_case_id)
    assert task_case.state == "done"
    with pytest.raises(vp.VisitError):  # recorded once
        vp.record_visit(actor=org["assoc1"], member_id=None, method="call",
                        visited_at=local(2026, 12, 3, 12), result="再次", plan_item_id=items[0].id,
                        now=local(2026, 12, 3, 12))
    # the item visited before its date never becomes a task
    vp.record_visit(actor=org["assoc1b"], member_id=None, method="sms", visited_at=local(2026, 12, 8),
                    result="已发短信", plan_item_id=items[2].id, now=local(2026, 12, 8, 12))
    assert vp.open_item_tasks(now=local(2026, 12, 10, 8)) == 0
    assert vp.progress(store_id=org.stores[0].id, month=DEC, now=local(2026, 12, 9)) == {
        "done": 2, "due": 0, "overdue": 1, "upcoming": 0}


def test_dead_numbers_cannot_be_called_or_messaged_and_frequency_control_flags(org, plans, members):
    db.session.execute(update(Member).where(Member.id == members[3].id).values(mobile_dead_at=NOV_1))
    db.session.commit()
    for method in ("call", "sms"):
        with pytest.raises(vp.VisitError, match="空号"):
            propose(org, plans["S1"], "assoc1", members[3], 3, method=method)
    assert propose(org, plans["S1"], "assoc1", members[3], 3, method="mail").status == "proposed"
    # three visits since, points unchanged: flagged for the quarterly cadence
    for day in (2, 5, 8):
        vp.record_visit(actor=org["assoc1"], member_id=members[0].id, method="call",
                        visited_at=local(2026, 11, day), result="已接通", now=local(2026, 11, day, 12))
    assert propose(org, plans["S1"], "assoc1", members[0], 4).frequency_flag is True
    assert propose(org, plans["S1"], "assoc1", members[1], 4).frequency_flag is False


def test_report_figures_match_a_hand_computed_month(org, members):
    """November's plan (opened in October): 3 set items (call C, visit A, sms C), 2 done, one
    unplanned visit; points: member 0 from 100 to 350 (+250), member 1 from 5200 to 5200."""
    recurring.open_due(now=datetime(2026, 9, 30, 16, 0, tzinfo=timezone.utc))
    nov = Month(2026, 11)
    case = vp.plan_case(store_id=org.stores[0].id, month=nov)
    db.session.execute(update(Member).where(Member.id == members[0].id).values(points=100))
    db.session.commit()
    for m, day, method in ((members[0], 3, "call"), (members[1], 4, "visit"), (members[2], 5, "sms")):
        vp.propose_item(actor=org["assoc1"], case=case, member_id=m.id, occasion="季度回访",
                        method=method, associate_id=org["assoc1"].id, planned_on=date(2026, 11, day),
                        now=local(2026, 10, 10))
    fire(org, case, "set_plan", "manager1", local(2026, 10, 27))
    items = vp.plan_items(case=case)
    for item in items[:2]:
        vp.record_visit(actor=org["assoc1"], member_id=None, method=item.method,
                        visited_at=local(2026, 11, item.planned_on.day), result="完成",
                        plan_item_id=item.id, now=local(2026, 11, 20))
    vp.record_visit(actor=org["assoc1"], member_id=members[0].id, method="call",
                    visited_at=local(2026, 11, 15), result="顺访", now=local(2026, 11, 20))
    db.session.execute(update(Member).where(Member.id == members[0].id).values(points=350))
    db.session.commit()
    s = vp.month_summary(store_id=org.stores[0].id, month=nov)
    assert (s.planned, s.done, s.unplanned, s.visited_members, s.points_growth) == (3, 2, 1, 2, 250)
    assert s.by_method == {"call": [1, 1], "sms": [1, 0], "visit": [1, 1], "mail": [0, 0]}
    assert s.by_tier == {"A": [1, 1], "B": [0, 0], "C": [2, 1]}
    assert percent(s.rate) == "66.7%"


def test_spot_check_sample_is_seeded_reproducible_and_feeds_the_scorecard(org, plans, members, ctx):
    from webapp import settings
    settings.put("visit_spot_check_size", "2")
    db.session.commit()
    items = set_plan(org, plans["S1"], members)
    for item, day in zip(items, (3, 4, 10)):  # the second one a day late
        vp.record_visit(actor=db.session.get(type(org["assoc1"]), item.associate_id), member_id=None,
                        method=item.method, visited_at=local(2026, 12, day), result="完成",
                        plan_item_id=item.id, now=local(2026, 12, 20))
    with pytest.raises(engine.NotAllowed):
        vp.draw_sample(actor=org["manager1"], store_id=org.stores[0].id, month=DEC)
    sample = vp.draw_sample(actor=org["hq"], store_id=org.stores[0].id, month=DEC, now=local(2026, 12, 21))
    again = vp.draw_sample(actor=org["hq"], store_id=org.stores[0].id, month=DEC, now=local(2026, 12, 22))
    assert len(sample) == 2 and [r.id for r in again] == [r.id for r in sample]
    # the same records, the same seed: the same draw (reproducible)
    ids = sorted(db.session.scalars(select(VisitRecord.id)).all())
    import random
    assert [r.id for r in sample] == sorted(random.Random(f"2026-12:{org.stores[0].id}").sample(ids, 2))
    vp.record_check(actor=org["hq"], record=sample[0], confirmed=True, note="顾客确认")
    vp.record_check(actor=org["hq"], record=sample[1], confirmed=False, note="顾客说没接到电话")
    vp.save_remarks(actor=org["hq"], store_id=org.stores[0].id, month=DEC, remarks="执行到位")
    [row] = [r for r in vp.scorecard(user=org["supervisor1"], month=DEC) if r["code"] == "S1"]
    assert (row["planned"], row["done"], percent(row["execution"])) == (3, 3, "100.0%")
    assert (row["sampled"], row["checked"], row["confirmed"], percent(row["confirmation"])) == (2, 2, 1, "50.0%")
    assert row["on_time"] == 2 and percent(row["timeliness"]) == "66.7%"
    assert row["remarks"] == "执行到位"
    assert [r["code"] for r in vp.scorecard(user=org["supervisor1"], month=DEC)] == ["S1", "S2"]
    outside = db.session.scalars(select(VisitRecord).where(VisitRecord.sampled_at.is_(None))).first()
    with pytest.raises(vp.VisitError):
        vp.record_check(actor=org["hq"], record=outside, confirmed=True, note="")
    assert db.session.scalar(select(db.func.count(PlanItem.id))) == 3


def test_area_summary_opens_on_the_25th_due_before_the_1st_prefilled_and_escalates_once(org, plans, members):
    assert recurring.open_due(now=local(2026, 11, 24, 23)).get("visit_area_summary", 0) == 0
    assert recurring.open_due(now=local(2026, 11, 25, 0, 5))["visit_area_summary"] == 2
    case = vp.area_summary_case(area_id=org.areas[0].id, month=Month(2026, 11))
    task = open_task(case)
    assert (task.role.value, task.due_at) == ("area_supervisor", local_midnight_utc(date(2026, 12, 1)))
    process_due(now=local(2026, 11, 29, 12))  # 48 h before: the reminder
    process_due(now=local(2026, 12, 1, 0, 1))  # the 1st has begun: the area manager is told
    process_due(now=local(2026, 12, 1, 2))
    kinds = sorted((k, r.value) for k, r in db.session.execute(
        select(Notification.kind, Notification.role).where(Notification.task_id == task.id)))
    assert kinds == [("escalate", "area_manager"), ("remind", "area_supervisor")]
    with pytest.raises(engine.NotAllowed):
        vp.submit_area_summary(actor=org["supervisor2"], case=case, version=case.version, text="x")
    with pytest.raises(vp.VisitError):
        vp.submit_area_summary(actor=org["supervisor1"], case=case, version=case.version, text=" ")
    vp.submit_area_summary(actor=org["supervisor1"], case=case, version=case.version,
                           text="两店均按计划执行", now=local(2026, 11, 30, 18))
    assert case.state == "submitted" and case.data["text"] == "两店均按计划执行"
    assert [f["code"] for f in case.data["figures"]] == ["S1", "S2"]


def test_hq_consolidation_and_area_prefill_cost_the_same_statements_for_4_or_40_stores(org):
    """The speed target (200 stores at 1 M members) rests on set-based queries: the number of
    statements does not grow with the stores."""
    from sqlalchemy import event

    from webapp.models import Store

    def statements(fn):
        seen = []
        engine_ = db.session.get_bind()
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine_, "before_cursor_execute", listener)
        try:
            fn()
        finally:
            event.remove(engine_, "before_cursor_execute", listener)
        return len(seen)

    recurring.open_due(now=NOV_1)
    hq = org["hq"]
    assert hq.role
    few = (statements(lambda: vp.consolidation(user=hq, month=DEC)),
           statements(lambda: vp.area_figures(user=hq, area_id=org.areas[0].id, month=DEC)))
    db.session.add_all([Store(code=f"X{i:02d}", name=f"新店{i}", area_id=org.areas[i % 2].id) for i in range(36)])
    db.session.commit()
    recurring.open_due(now=NOV_1 + timedelta(hours=1))
    assert hq.role  # loaded again after the commit, outside the measurement
    many = (statements(lambda: vp.consolidation(user=hq, month=DEC)),
            statements(lambda: vp.area_figures(user=hq, area_id=org.areas[0].id, month=DEC)))
    assert len(vp.consolidation(user=hq, month=DEC)) == 40
    assert many == few


def test_hq_spot_check_task_from_the_20th_due_before_the_30th_closes_only_when_every_sample_is_checked(org, plans, members):
    items = set_plan(org, plans["S1"], members)
    vp.record_visit(actor=org["assoc1"], member_id=None, method="call", visited_at=local(2026, 12, 3),
                    result="完成", plan_item_id=items[0].id, now=local(2026, 12, 3, 12))
    assert recurring.open_due(now=local(2026, 12, 20, 0, 5))["visit_spot_check"] == 1
    case = db.session.scalars(select(Case).where(Case.dedupe_key == "visit_spot_check:2026-12")).one()
    task = open_task(case)
    assert (task.role.value, task.due_at) == ("hq_specialist", local_midnight_utc(date(2026, 12, 30)))
    with pytest.raises(engine.WorkflowError, match="未抽取样本"):
        fire(org, case, "finish_check", "hq", local(2026, 12, 21))
    [record] = vp.draw_sample(actor=org["hq"], store_id=org.stores[0].id, month=DEC, now=local(2026, 12, 21))
    with pytest.raises(engine.WorkflowError):
        fire(org, case, "finish_check", "hq", local(2026, 12, 21))
    vp.record_check(actor=org["hq"], record=record, confirmed=True, note="", now=local(2026, 12, 21))
    fire(org, case, "finish_check", "hq", local(2026, 12, 22))
    assert case.state == "checked"


def _due(case):
    return open_task(case).due_at


def test_dated_deadlines_on_a_holiday_move_to_the_previous_working_day_when_the_calendar_says_so(org, members):
    """"Dates that fall on a holiday follow the calendar setting (as is, or the previous working
    day)": with the setting on, a deadline whose day is not a working day (a weekend or a
    holiday per the holiday calendar) moves back to the previous working day; a weekend day the
    calendar makes a workday (调休) stays; a move into the past is not made."""
    from webapp import settings
    settings.put("visit_due_before_holiday", "1")
    db.session.commit()
    # February 2026: Saturday the 28th is a make-up workday of the Spring Festival: as is.
    recurring.open_due(now=local(2026, 2, 1, 0, 5))
    march = vp.plan_case(store_id=org.stores[0].id, month=Month(2026, 3))
    assert _due(march) == local_midnight_utc(date(2026, 3, 1))  # by the end of Sat 28 Feb
    # November 2026: Saturday the 28th is a weekend day → by the end of Friday the 27th.
    recurring.open_due(now=NOV_1)
    dec = vp.plan_case(store_id=org.stores[0].id, month=DEC)
    assert _due(dec) == local_midnight_utc(date(2026, 11, 28))
    # the spot-check "before the 30th": the 29th is a Sunday → by the end of Friday the 27th
    recurring.open_due(now=local(2026, 11, 20, 0, 5))
    check = db.session.scalars(select(Case).where(Case.dedupe_key == "visit_spot_check:2026-11")).one()
    assert _due(check) == local_midnight_utc(date(2026, 11, 28))
    # "before the 1st": Monday 30 November is a working day → as is
    recurring.open_due(now=local(2026, 11, 25, 0, 5))
    summary = vp.area_summary_case(area_id=org.areas[0].id, month=Month(2026, 11))
    assert _due(summary) == local_midnight_utc(date(2026, 12, 1))
    # May 2026: the last day (31st) is a Sunday → the report and the area summary are due by
    # the end of Friday the 29th; HQ's archive "by the 30th" (a Saturday) likewise.
    recurring.open_due(now=local(2026, 5, 1, 0, 5))
    june = vp.plan_case(store_id=org.stores[0].id, month=Month(2026, 6))
    assert _due(june) == local_midnight_utc(date(2026, 5, 29))  # Thursday the 28th: as is
    vp.propose_item(actor=org["assoc1"], case=june, member_id=members[0].id, occasion="生日回访",
                    method="call", associate_id=org["assoc1"].id, planned_on=date(2026, 6, 3),
                    now=local(2026, 5, 10))
    fire(org, june, "set_plan", "manager1", local(2026, 5, 27))
    assert _due(june) == local_midnight_utc(date(2026, 5, 30))
    vp.submit_report(actor=org["manager1"], case=june, version=june.version, remarks="好",
                     now=local(2026, 5, 28))
    fire(org, june, "approve", "supervisor1", local(2026, 5, 28, 12))
    assert _due(june) == local_midnight_utc(date(2026, 5, 30))
    recurring.open_due(now=local(2026, 5, 25, 0, 5))
    may = vp.area_summary_case(area_id=org.areas[0].id, month=Month(2026, 5))
    assert _due(may) == local_midnight_utc(date(2026, 5, 30))
    # the setting off: every date as is
    settings.put("visit_due_before_holiday", "0")
    db.session.commit()
    recurring.open_due(now=local(2027, 2, 1, 0, 5))
    feb = vp.plan_case(store_id=org.stores[0].id, month=Month(2027, 3))
    assert _due(feb) == local_midnight_utc(date(2027, 3, 1))  # Sunday 28 Feb 2027, as is
