"""The daily complaint-mailbox check: one task per day in the HQ inbox, ticked off in one click."""
from datetime import datetime, timezone

import time_machine
from sqlalchemy import func, select

from webapp.extensions import db
from webapp.models import Case, Role, Task
from webapp.services.cases import fire
from webapp.services.daily import ensure_mailbox_check


def test_one_case_per_local_day_with_a_task_due_at_its_end(org):
    with time_machine.travel(datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc), tick=False):
        first = ensure_mailbox_check()
        again = ensure_mailbox_check()
    assert first.id == again.id
    task = db.session.scalars(select(Task).where(Task.case_id == first.id)).one()
    assert task.role == Role.HQ_SPECIALIST and task.escalate_to == Role.HQ_MANAGER
    assert task.due_at == datetime(2026, 11, 23, 16, 0, tzinfo=timezone.utc)  # midnight Shanghai
    with time_machine.travel(datetime(2026, 11, 23, 17, 0, tzinfo=timezone.utc), tick=False):
        ensure_mailbox_check()  # 01:00 on the 24th in Shanghai: a new day
    mailbox = select(func.count(Case.id)).where(Case.process == "mailbox_check")
    assert db.session.scalar(mailbox) == 2  # (the month's visit plans open with it: issue #13)


def test_ticked_off_from_the_inbox(org, login):
    case = ensure_mailbox_check()
    client = login("hq")
    assert "查看投诉邮箱" in client.get("/").data.decode()
    fire(actor=org["hq"], case=case, transition="check", version=case.version)
    assert "查看投诉邮箱" not in client.get("/").data.decode()
