"""Issue #9: next year's holidays are asked for from 1 November, and a deadline counted in a year
nobody entered is marked — under a controlled clock (today is 2026-11-29; chinesecalendar 1.11
and holidays 0.109 stop at 2026)."""
from datetime import datetime, timezone

import time_machine
from sqlalchemy import func, select

from tests.factories import register
from webapp.calendar import TZ
from webapp.extensions import db
from webapp.models import Case, Role, Task
from webapp.services.admin import save_holiday_year
from webapp.services.daily import ensure_holiday_years
from webapp.workflows.engine import WorkflowError


def at(y, mo, d, h=10, mi=0):
    """A controlled clock at a Shanghai wall-clock time."""
    return time_machine.travel(datetime(y, mo, d, h, mi, tzinfo=TZ), tick=False)


def holiday_tasks():
    return db.session.scalars(select(Task).join(Case).where(Case.process == "holiday_year")).all()


def test_task_appears_on_the_first_of_november_not_before_and_once(org):
    with at(2026, 10, 31, 23, 59):
        assert ensure_holiday_years() == []
    assert holiday_tasks() == []
    with at(2026, 11, 1, 0, 0):
        opened = ensure_holiday_years()
    with at(2026, 11, 29):
        again = ensure_holiday_years()
    assert [c.data["year"] for c in opened] == [2027] and again == []
    [task] = holiday_tasks()
    assert task.role == Role.ADMIN and task.escalate_to == Role.HQ_MANAGER
    assert task.co_role == Role.HQ_MANAGER  # the CS manager has it from the start too
    assert task.due_at == datetime(2026, 12, 15, 16, 0, tzinfo=timezone.utc)  # end of 15 Dec, Shanghai


def test_no_task_for_a_year_a_library_knows(org):
    with at(2025, 11, 1):
        assert ensure_holiday_years() == []  # 2026 is in both libraries
    assert db.session.scalar(select(func.count(Case.id))) == 0


def test_a_year_already_entered_gets_no_task(org):
    with at(2026, 10, 20):
        save_holiday_year(actor=org["admin"], year=2027, holidays="2027-01-01", workdays="")
    with at(2026, 11, 1):
        assert ensure_holiday_years() == []


def test_the_task_is_in_the_admins_inbox_and_saving_the_year_closes_it(org, login):
    with at(2026, 11, 29):
        [case] = ensure_holiday_years()
        assert "录入2027年节假日安排" in login("hq_manager").get("/").data.decode()
        client = login("admin")
        page = client.get("/").data.decode()
        assert "录入2027年节假日安排" in page and "/admin/holidays" in page
        save_holiday_year(actor=org["admin"], year=2027, holidays="2027-01-01", workdays="")
        assert "录入2027年节假日安排" not in client.get("/").data.decode()
    db.session.refresh(case)
    assert case.state == "entered"


def test_ticking_the_task_off_without_entering_the_year_is_refused(org):
    from webapp.services.cases import fire

    with at(2026, 11, 29):
        [case] = ensure_holiday_years()
        try:
            fire(actor=org["admin"], case=case, transition="enter", version=case.version)
        except WorkflowError as exc:
            assert "尚未录入" in str(exc)
        else:
            raise AssertionError("the task closed while 2027 is unknown")


def _review_task(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).one()


def test_review_deadline_in_a_covered_year_is_not_marked(org):
    with at(2026, 12, 30):  # Wednesday; the next working day is Thursday 31 December 2026
        task = _review_task(register(org))
    assert task.due_at == datetime(2026, 12, 31, 16, 0, tzinfo=timezone.utc)
    assert task.calendar_gap is None


def test_review_deadline_counted_into_an_uncovered_year_is_marked_in_the_inbox(org, login):
    with at(2026, 12, 31):  # Thursday; New Year's Day 2027 is a Friday nobody knows is off
        task = _review_task(register(org))
        page = login("hq").get("/").data.decode()
    assert task.due_at == datetime(2027, 1, 1, 16, 0, tzinfo=timezone.utc)
    assert task.calendar_gap == "2027"
    assert "calendar-gap" in page and "2027年的节假日和调休尚未录入" in page


def test_once_2027_is_entered_the_same_deadline_skips_new_years_day_unmarked(org, login):
    with at(2026, 12, 1):
        save_holiday_year(actor=org["admin"], year=2027, holidays="2027-01-01", workdays="",
                          source="notice")
    with at(2026, 12, 31):
        task = _review_task(register(org))
        page = login("hq").get("/").data.decode()
    assert task.due_at == datetime(2027, 1, 4, 16, 0, tzinfo=timezone.utc)  # end of Monday 4 Jan
    assert task.calendar_gap is None and "calendar-gap" not in page


def test_the_daily_job_opens_it_with_the_mailbox_check(org, app, monkeypatch):
    import jobs
    import jobs.deadlines

    monkeypatch.setattr(jobs, "app", lambda: app)
    db.session.commit()  # the job writes through its own session
    with at(2026, 11, 1, 0, 5):
        jobs.deadlines.daily()
        jobs.deadlines.daily()
    processes = db.session.scalars(select(Case.process).where(
        Case.process.in_(["holiday_year", "mailbox_check", "monthly_pack", "visit_plan"]))
        .order_by(Case.process)).all()
    # the 1st also opens the month's analysis pack and each store's visit plan (issue #13), once
    assert processes == (["holiday_year", "mailbox_check", "monthly_pack"]
                         + ["visit_plan"] * len(org.stores))
