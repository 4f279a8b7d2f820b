"""Inbox queries: what waits for me and for my role in my scope, most urgent first."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import Case, Notification, Task, User


def inbox_tasks(user: User, *, limit: int = 50, offset: int = 0, process: str | None = None):
    """Open tasks for this user, earliest deadline first (overdue ones come first by nature)."""
    query = (select(Task).where(permissions.inbox_filter(user))
             .options(joinedload(Task.case).joinedload(Case.member), joinedload(Task.assignee))
             .order_by(Task.due_at.asc().nulls_last(), Task.id).limit(limit).offset(offset))
    if process:
        query = query.join(Case, Case.id == Task.case_id).where(Case.process == process)
    return db.session.scalars(query).unique().all()


def inbox_count(user: User) -> int:
    return db.session.scalar(select(func.count(Task.id)).where(permissions.inbox_filter(user)))


def notifications_for(user: User, *, unread_only: bool = True, limit: int = 50):
    """Reminders and escalations addressed to me or my role in my scope."""
    query = select(Notification).where(_notification_filter(user))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)).all()


def _notification_filter(user: User):
    from sqlalchemy import and_, or_

    scoped = and_(Notification.role == user.role, Notification.user_id.is_(None),
                  permissions.notification_scope(user))
    return or_(Notification.user_id == user.id, scoped)


def nav_counts(user: User) -> dict:
    """Badges for the navigation bar."""
    unread = db.session.scalar(select(func.count(Notification.id)).where(
        _notification_filter(user), Notification.read_at.is_(None)))
    return {"inbox": inbox_count(user), "notifications": unread}
