"""Claiming pool tasks: one person takes a task from their role's pool so colleagues don't duplicate it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import update

from .. import clock, permissions
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, Task, User


class ClaimRefused(Refusal):
    pass


def claim(*, user: User, task: Task, now: datetime | None = None) -> Task:
    """Take an unassigned open task of my role in my scope; a conditional UPDATE lets one claimer win."""
    if task.role != user.role or not permissions.in_scope(user, task.store_id, task.area_id):
        raise ClaimRefused(N_("此待办不属于您的角色或范围"))
    taken = db.session.execute(
        update(Task).where(Task.id == task.id, Task.status == "open", Task.assignee_id.is_(None))
        .values(assignee_id=user.id).execution_options(synchronize_session=False)).rowcount
    if taken != 1:
        db.session.rollback()
        db.session.refresh(task)
        who = task.assignee.display_name if task.assignee else None
        if who:
            raise ClaimRefused(N_("此待办已由%(who)s认领"), who=who)
        raise ClaimRefused(N_("此待办已处理"))
    db.session.add(AuditEvent(case_id=task.case_id, object_type="task", object_id=task.id,
                              actor_id=user.id, at=now or clock.now(), action="claim"))
    db.session.commit()
    db.session.refresh(task)
    return task


def release(*, user: User, task: Task, now: datetime | None = None) -> Task:
    """Give a claimed task back to the role's pool."""
    if task.assignee_id != user.id or task.status != "open":
        raise ClaimRefused(N_("只能退回自己认领的待办"))
    task.assignee_id = None
    db.session.add(AuditEvent(case_id=task.case_id, object_type="task", object_id=task.id,
                              actor_id=user.id, at=now or clock.now(), action="release"))
    db.session.commit()
    return task
