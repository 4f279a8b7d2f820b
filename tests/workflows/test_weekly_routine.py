"""The weekly routine (SPEC §3.8; seed 000 §5) over a controlled week, Mon 23 – Sun 29 Nov 2026:
one case per store opened on Monday; each step's task opens on its day, is due by its end,
reminds once and escalates once; the plan sets how many profiles a day; the Friday check is
drawn from the week's profiles and scored against the data; an associate sees only their store."""
from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import insert, select, update

from tests.sales.builders import bulk_members
from webapp.calendar import local_midnight_utc
from webapp.extensions import db
from webapp.models import Case, Member, Notification, RoutineQuestion, Sale, Task
from webapp.services import recurring
from webapp.services import routine
from webapp.services.deadlines import process_due


def local(d, hh=10, mm=0):
    return local_midnight_utc(date(2026, 11, d)) + timedelta(hours=hh, minutes=mm)


MON = local(23, 0)


def tasks(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id).order_by(Task.id)).all()


def sweep(at):
    """The every-minute sweeper at `at` (timers fire with the job's clock)."""
    with time_machine.travel(at, tick=False):
        return process_due(now=at)


def notes(task):
    """The escalations of a task (to the area supervisor's role in its area)."""
    return db.session.scalars(select(Notification).where(Notification.task_id == task.id,
                                                         Notification.kind == "escalate")).all()


@pytest.fixture
def week(org):
    assert recurring.open_due(now=MON)["weekly_routine"] == 4
    return {s.code: routine.week_case(store_id=s.id, day=date(2026, 11, 23)) for s in org.stores}


@pytest.fixture
def members(org):
    """Store 1's members with the data the check asks: sizes, birthdays, a last purchase."""
    rows = bulk_members(org.stores[0], 6)
    for i, row in enumerate(rows):
        db.session.execute(update(Member).where(Member.id == row["id"]).values(
            preferences=["L码 商务休闲 深蓝", "52码 西装 藏青", "XL 衬衫 白色"][i % 3],
            birth_month_day=[517, 1201, 229][i % 3], tier="ABC"[i % 3],
            associate_id=org["assoc1"].id if i < 3 else org["assoc1b"].id))
        db.session.execute(insert(Sale).values(
            store_id=org.stores[0].id, sale_no=f"W{row['id']}", member_id=row["id"],
            sold_at=local(10 + i, 15), ym=202611, amount_fen=49900, items=1, ticket_delta=1))
    db.session.commit()
    return [db.session.get(Member, r["id"]) for r in rows]


def test_a_whole_week_each_step_on_its_day_reminded_and_escalated_once(org, week, members):
    case = week["S1"]
    assert routine.week_case(store_id=org.stores[0].id, day=date(2026, 11, 29)).id == case.id
    assert recurring.open_due(now=local(25)).get("weekly_routine", 0) == 0  # once a week
    assert case.title.startswith("2026-W48") and case.state == "planning"
    [plan_task] = tasks(case)
    assert (plan_task.name, plan_task.created_at, plan_task.due_at) == ("week_plan", MON, local(24, 0))
    assert plan_task.remind_at == local(24, 0) - timedelta(hours=4)

    # Monday evening the manager is reminded; the plan is not set by midnight: escalated once
    sweep(local(23, 20, 30))
    db.session.refresh(plan_task)
    assert plan_task.reminded_at is not None and plan_task.escalated_at is None
    sweep(local(24, 0, 1))
    db.session.refresh(plan_task)
    escalated = plan_task.escalated_at
    assert escalated is not None and plan_task.status == "open"
    sweep(local(24, 0, 2))
    db.session.refresh(plan_task)
    assert plan_task.escalated_at == escalated
    [note] = notes(plan_task)
    assert note.role.name == "AREA_SUPERVISOR" and note.area_id == org.areas[0].id

    # Tuesday the manager sets it (late): assoc1 memorises 3 a day from now, assoc1b 2
    a1, a1b = org["assoc1"], org["assoc1b"]
    routine.set_plan(actor=org["manager1"], case=case, version=case.version,
                     methods={"A": "visit", "B": "call", "C": "sms"},
                     profiles={str(a1.id): "3", str(a1b.id): "2"},
                     visits={str(a1.id): "2", str(a1b.id): "1"}, now=local(24, 9))
    assert case.state == "memorising" and tasks(case)[0].status == "done"
    day = routine.profiles_of_day(actor=a1, now=local(24, 11))
    assert len(day["today"]) == 3 and all(p.own for p in day["today"])  # own members first
    assert len(day["yesterday"]) == 3  # Monday counts in the week's plan too

    # nothing opens before Friday; Friday's check task opens at midnight, due by its end
    sweep(local(26, 23, 59))
    db.session.refresh(case)
    assert case.state == "memorising"
    sweep(local(27, 0))
    db.session.refresh(case)
    assert case.state == "checking"
    check_task = tasks(case)[-1]
    assert (check_task.name, check_task.created_at, check_task.due_at) == (
        "memory_check", local(27, 0), local(28, 0))

    # the manager puts the questions, the associates answer, the check is done on Friday
    assert routine.start_check(actor=org["manager1"], case=case, now=local(27, 10)) == 8
    assert routine.start_check(actor=org["manager1"], case=case, now=local(27, 10)) == 0  # once
    mine = routine.my_questions(actor=a1, case=case)
    assert len(mine) == 4 and {q.member_id for q in mine} <= set(
        routine.week_profiles(a1, case, until=date(2026, 11, 27)))
    routine.answer_check(actor=a1, case=case, answers={}, now=local(27, 11))
    routine.fire_step(actor=org["manager1"], case=case, version=case.version,
                      transition="finish_check", now=local(27, 18))
    assert case.state == "checked"

    # Saturday: the review task opens at midnight (the finished check's timer), not before
    sweep(local(27, 23, 59))
    db.session.refresh(case)
    assert case.state == "checked"
    sweep(local(28, 0))
    db.session.refresh(case)
    assert case.state == "reviewing" and tasks(case)[-1].created_at == local(28, 0)
    visits = {r["associate"].id: r for r in routine.week_visits(case=case)}
    assert (visits[a1.id]["target"], visits[a1.id]["visits"], visits[a1.id]["met"]) == (2, 0, False)
    routine.fire_step(actor=org["manager1"], case=case, version=case.version,
                      transition="finish_review", now=local(28, 17))

    # Sunday: the report, pre-filled, names the week's best advisor
    sweep(local(29, 0))
    db.session.refresh(case)
    assert case.state == "reporting" and tasks(case)[-1].due_at == local(30, 0)
    draft = routine.report_draft(case=case)
    assert "assoc1名" in draft["text"] and draft["best_advisor_id"] in (a1.id, a1b.id)
    with pytest.raises(routine.RoutineError):  # the advisor must be one of the store's
        routine.submit_report(actor=org["manager1"], case=case, version=case.version,
                              text=draft["text"], best_advisor_id=org["assoc3"].id, now=local(29, 18))
    routine.submit_report(actor=org["manager1"], case=case, version=case.version, text=draft["text"],
                          best_advisor_id=a1b.id, now=local(29, 18))
    assert case.state == "done" and case.data["report"]["best_advisor_id"] == a1b.id

    # a store whose manager did nothing: the week still moves on, each step escalated once
    idle = week["S2"]
    db.session.refresh(idle)
    assert idle.state == "reporting"
    assert [(t.name, t.status, t.escalated_at is not None) for t in tasks(idle)] == [
        ("week_plan", "done", True), ("memory_check", "done", True), ("plan_review", "done", True),
        ("week_report", "open", False)]
    report = tasks(idle)[-1]
    sweep(local(30, 0, 1))
    sweep(local(30, 0, 5))
    assert len(notes(report)) == 1


def test_the_friday_check_scores_a_data_answer_right_and_wrong(org, week, members):
    case = week["S1"]
    db.session.execute(update(Case).where(Case.id == case.id).values(state="checking"))
    db.session.commit()
    db.session.refresh(case)
    routine.start_check(actor=org["manager1"], case=case, now=local(27, 10))
    a1 = org["assoc1"]
    questions = routine.my_questions(actor=a1, case=case)
    q = questions[0]
    q2 = questions[1]
    # pin two questions to known kinds on known members
    m_l, m_52 = members[0], members[1]
    q.member_id, q.kind = m_l.id, "size"
    q2.member_id, q2.kind = m_52.id, "birthday"
    db.session.commit()
    assert routine.prompt(q) == f"{m_l.name}的尺码"
    result = routine.answer_check(actor=a1, case=case,
                                  answers={str(q.id): "l码", str(q2.id): "5月17日"}, now=local(27, 11))
    assert q.correct is True  # "l码" is the record's "L码"
    assert q2.correct is False  # 52码's member was born 1 December
    assert result["right"] >= 1 and result["answered"] == 4
    # answered once: a second submission changes nothing
    routine.answer_check(actor=a1, case=case, answers={str(q2.id): "12-01"}, now=local(27, 12))
    db.session.refresh(q2)
    assert q2.answer == "5月17日" and q2.correct is False


def test_scoring_rules_read_the_member_data(org, members):
    m = members[0]  # L码, born 05-17, tier A, last bought 10 Nov
    q = RoutineQuestion(case_id=0, associate_id=0, member_id=m.id, kind="size")
    q.member = m
    assert routine.score(q, " L ") and not routine.score(q, "XL") and not routine.score(q, "")
    q.kind = "birthday"
    assert routine.score(q, "05-17") and routine.score(q, "5/17") and routine.score(q, "0517")
    assert not routine.score(q, "5-18") and not routine.score(q, "生日")
    q.kind = "last_purchase"
    assert routine.score(q, "2026-11-10") and routine.score(q, "11-10")
    assert not routine.score(q, "2026-11-11")
    q.kind = "tier"
    assert routine.score(q, "a") and not routine.score(q, "B")
    q.kind = "preference"
    assert routine.score(q, "深蓝商务") is None  # the manager judges


def test_only_the_store_s_manager_acts_and_an_associate_sees_only_their_store(org, week, members):
    case = week["S1"]
    for who in ("manager3", "assoc1", "supervisor1"):
        with pytest.raises(routine.RoutineError):
            routine.set_plan(actor=org[who], case=case, version=case.version,
                             methods={"A": "visit", "B": "call", "C": "sms"}, profiles={},
                             visits={}, now=local(23, 9))
    with pytest.raises(routine.RoutineError):
        routine.my_questions(actor=org["assoc3"], case=case)
    with pytest.raises(routine.RoutineError):
        routine.page(actor=org["assoc3"], case=case)
    assert routine.open_check(actor=org["assoc3"], now=local(27, 10)) is None
    # bad plan input: a message, nothing changed
    with pytest.raises(routine.RoutineError):
        routine.set_plan(actor=org["manager1"], case=case, version=case.version,
                         methods={"A": "visit", "B": "call", "C": "sms"},
                         profiles={str(org["assoc1"].id): "-1"}, visits={}, now=local(23, 9))
    db.session.refresh(case)
    assert case.state == "planning" and "plan" not in case.data
