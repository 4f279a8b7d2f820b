"""The monthly pack's review task: opened once on the 1st for HQ, due at the end of the next
working day, ticked off by reviewing the month (not before its figures are frozen)."""
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Case, Role, Task
from webapp.services import monthly_pack, recurring
from webapp.services.cases import fire
from webapp.workflows import engine

DEC_1 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # Tuesday 1 December, 09:00 Shanghai
NOV_1 = datetime(2026, 11, 1, 1, 0, tzinfo=timezone.utc)  # Sunday 1 November


def _pack_cases():
    return db.session.scalars(select(Case).where(Case.process == "monthly_pack")).all()


def test_opened_once_on_the_first_with_a_working_day_deadline(org):
    with time_machine.travel(DEC_1, tick=False):
        recurring.open_due(now=DEC_1)
        recurring.open_due(now=DEC_1)  # running twice changes nothing
    [case] = _pack_cases()
    assert case.title == "审核2026-11会员分析"
    task = db.session.scalars(select(Task).where(Task.case_id == case.id)).one()
    assert (task.role, task.escalate_to) == (Role.HQ_SPECIALIST, Role.HQ_MANAGER)
    assert task.due_at == datetime(2026, 12, 2, 16, 0, tzinfo=timezone.utc)  # end of Wed 2 Dec
    with time_machine.travel(NOV_1, tick=False):
        recurring.open_due(now=NOV_1)
    sunday = next(c for c in _pack_cases() if c.title == "审核2026-10会员分析")
    due = db.session.scalars(select(Task.due_at).where(Task.case_id == sunday.id)).one()
    assert due == datetime(2026, 11, 2, 16, 0, tzinfo=timezone.utc)  # end of Monday 2 Nov


def test_reviewing_the_month_ticks_the_task_off_and_not_before(org):
    with time_machine.travel(DEC_1, tick=False):
        recurring.open_due(now=DEC_1)
        [case] = _pack_cases()
        with pytest.raises(engine.WorkflowError, match="请先在月度分析审核页面审核并存档"):
            fire(actor=org["hq"], case=case, transition="reviewed", version=case.version)
        monthly_pack.review(actor=org["hq"], period="2026-11", comment="已核对")
    db.session.refresh(case)
    assert case.state == "reviewed"
    assert db.session.scalar(select(func.count(Task.id)).where(Task.case_id == case.id,
                                                                Task.status == "open")) == 0
