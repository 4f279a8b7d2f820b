"""Inbox queries: what waits for me and for my role in my scope, most urgent first.

The inbox is the union of four sets (assigned to me, my role's pool in my scope, escalated
to my role, escalated to my role as the second role; see permissions.inbox_filter). One OR
over them defeats the indexes once the task table is large, so each set is read on its own, in deadline order, only as far as the
page needs (an index range scan that stops after `offset + limit` rows), and the small union
is sorted again. The navigation badges, computed on every page, are counted only up to
NAV_CAP: "99+" costs the same with 100 open tasks as with 100,000.
"""
from __future__ import annotations

from sqlalchemy import and_, func, select, union, union_all
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import Case, Notification, Task, User

NAV_CAP = 100  # badges show "99+" from here on


def _urgency():
    return Task.due_at.asc().nulls_last(), Task.id


def _branches(user: User, process: str | None = None):
    """One SELECT id, due_at per part of the inbox condition."""
    for condition in permissions.inbox_filter(user, parts=True):
        query = select(Task.id, Task.due_at).where(condition)
        if process:
            query = query.join(Case, Case.id == Task.case_id).where(Case.process == process)
        yield query


def _union(queries, *, distinct: bool = True):
    """UNION of the branches; each is wrapped in a subquery so that its own ORDER BY/LIMIT
    is allowed everywhere (SQLite refuses them directly inside a compound SELECT)."""
    subs = [q.subquery() for q in queries]
    combine = union if distinct else union_all
    return combine(*(select(*s.c) for s in subs)).subquery("inbox")


def inbox_tasks(user: User, *, limit: int = 50, offset: int = 0, process: str | None = None):
    """Open tasks for this user, earliest deadline first (overdue ones come first by nature)."""
    window = offset + limit  # the page can only hold rows among each branch's first `window`
    page = _union(q.order_by(*_urgency()).limit(window) for q in _branches(user, process))
    query = (select(Task).join(page, page.c.id == Task.id)
             .options(joinedload(Task.case).joinedload(Case.store), joinedload(Task.assignee))
             .order_by(*_urgency()).limit(limit).offset(offset))
    return db.session.scalars(query).unique().all()


def _inbox_count_query(user: User, cap: int | None):
    branches = _branches(user)
    if cap is not None:
        branches = (q.limit(cap) for q in branches)
    return select(func.count()).select_from(_union(branches))


def inbox_count(user: User, *, cap: int | None = None) -> int:
    """Number of open tasks in the inbox; with `cap`, counting stops there (min(count, cap))."""
    total = db.session.scalar(_inbox_count_query(user, cap))
    return min(total, cap) if cap is not None else total


def notifications_for(user: User, *, unread_only: bool = True, limit: int = 50):
    """Reminders and escalations addressed to me or my role in my scope."""
    query = select(Notification).where(_notification_filter(user))
    if unread_only:
        query = query.where(Notification.read_at.is_(None))
    return db.session.scalars(query.order_by(Notification.id.desc()).limit(limit)).all()


def _notification_parts(user: User):
    """Addressed to me / to my role in my scope: two disjoint conditions (user_id set or not)."""
    scoped = and_(Notification.role == user.role, Notification.user_id.is_(None),
                  permissions.notification_scope(user))
    return Notification.user_id == user.id, scoped


def _notification_filter(user: User):
    from sqlalchemy import or_

    return or_(*_notification_parts(user))


def _unread_count_query(user: User, cap: int | None):
    branches = [select(Notification.id).where(part, Notification.read_at.is_(None))
                for part in _notification_parts(user)]
    if cap is not None:
        branches = [q.limit(cap) for q in branches]
    return select(func.count()).select_from(_union(branches, distinct=False))


def unread_count(user: User, *, cap: int | None = None) -> int:
    """Unread notifications for this user; with `cap`, counting stops there."""
    total = db.session.scalar(_unread_count_query(user, cap))
    return min(total, cap) if cap is not None else total


def _badge(count: int) -> int | str:
    return f"{NAV_CAP - 1}+" if count >= NAV_CAP else count


def nav_counts(user: User) -> dict:
    """Badges for the navigation bar (computed on every page, so capped: 0..99 or "99+");
    both counts in one round trip."""
    row = db.session.execute(select(_inbox_count_query(user, NAV_CAP).scalar_subquery(),
                                    _unread_count_query(user, NAV_CAP).scalar_subquery())).one()
    return {"inbox": _badge(min(row[0], NAV_CAP)), "notifications": _badge(min(row[1], NAV_CAP))}
