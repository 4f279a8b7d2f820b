"""Inbox queries: what waits for me and for my role in my scope, most urgent first.

The inbox is the union of five sets (assigned to me, my role's pool in my scope, escalated
to my role, escalated to my role as the second role, handled with my role as co-handler; see
permissions.inbox_filter). One OR
over them defeats the indexes once the task table is large, so each set is read on its own,
in deadline order, only as far as the page needs (an index range scan that stops after
`offset + limit` rows), and the small union is sorted again. The navigation badges, computed
on every page, are counted only up to NAV_CAP: "99+" costs the same with 100 open tasks as
with 100,000. The inbox page reads its rows (as columns, no ORM objects) and both badges in a
single statement.

The tier filter ("different folders", issue #11) keeps the tasks whose case concerns a member of
that tier: each part joins its case and member by primary key and still walks its own index in
deadline order, stopping at the page; tasks without a member show only unfiltered. A filtered
page's badges are counted apart (they count the whole inbox, not the folder).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime

from sqlalchemy import and_, func, select, union, union_all

from .. import clock, permissions
from ..extensions import db
from ..models import Case, Member, Notification, Role, Store, Task, User
from ..workflows.tier_change_steps import TIERS  # the inbox's tier folders (None: all)

NAV_CAP = 100  # badges show "99+" from here on


def _urgency():
    return Task.due_at.asc().nulls_last(), Task.id


def _branches(user: User, process: str | None = None, tier: str | None = None):
    """One SELECT id, due_at per part of the inbox condition (of one process, of the cases of
    one tier's members)."""
    for condition in permissions.inbox_filter(user, parts=True):
        query = select(Task.id, Task.due_at).where(condition)
        if process:
            query = query.join(Case, Case.id == Task.case_id).where(Case.process == process)
        if tier:
            query = query.where(_tier_of_task().not_in([t for t in TIERS if t != tier]))
        yield query


def _tier_of_task():
    """The tier of the member a task's case concerns (NULL without one), as a correlated scalar
    subquery: two primary-key lookups per task, taken while the part walks its own task index
    in deadline order, and the walk stops at the page.

    Asked as "not one of the other tiers" (NULL — no member — is not kept either), because a
    planner guesses that "= 'C'" on a subquery keeps 0.5 % of the rows and then sorts the whole
    part instead of walking its index; "<>" it guesses keeps nearly all. As a join, PostgreSQL
    hashed the whole case table for the role pool. bench/bench_inbox_tiers.py has the figures."""
    return (select(Member.tier).join(Case, Case.member_id == Member.id)
            .where(Case.id == Task.case_id).scalar_subquery())


def _union(queries, *, distinct: bool = True, cte: bool = False):
    """UNION of the branches; each is wrapped in a subquery so that its own ORDER BY/LIMIT
    is allowed everywhere (SQLite refuses them directly inside a compound SELECT)."""
    subs = [q.subquery() for q in queries]
    combine = union if distinct else union_all
    compound = combine(*(select(*s.c) for s in subs))
    return compound.cte("inbox") if cte else compound.subquery("inbox")


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One open task as the inbox lists it: the task, its case and store, read as columns.

    Carries process/state/store_id/area_id like a Case, so engine.allowed_transitions and
    engine.task_label take it as they take a case's task."""
    id: int
    name: str
    role: Role
    assignee_id: int | None
    assignee_name: str | None
    due_at: datetime | None
    escalated_at: datetime | None
    escalate_to: Role | None
    escalate_also: Role | None
    case_id: int
    title: str
    version: int
    process: str
    state: str
    store_id: int | None
    area_id: int | None
    store_name: str | None
    calendar_gap: str | None  # years the deadline counted without their holidays ("2027")
    tier: str | None  # the tier of the member the case concerns (None: no member)

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at <= clock.now()


@dataclass(frozen=True, slots=True)
class InboxPage:
    rows: list[InboxRow]
    nav: dict | None  # the navigation badges, read by the same statement (None: page empty)


_ROW_COLUMNS = (Task.id, Task.name, Task.role, Task.assignee_id, User.display_name, Task.due_at,
                Task.escalated_at, Task.escalate_to, Task.escalate_also, Case.id, Case.title,
                Case.version, Case.process, Case.state, Case.store_id, Case.area_id, Store.name,
                Task.calendar_gap,
                # a lookup evaluated for the page's rows only (after the sort and limit), not a
                # join over every row the parts read
                select(Member.tier).where(Member.id == Case.member_id).correlate(Case)
                .scalar_subquery().label("tier"))


@dataclass(frozen=True, slots=True)
class _Reader:
    """What the inbox statement depends on of its user (permissions reads no more)."""
    id: int
    role: Role
    store_id: int | None
    area_id: int | None


@lru_cache(maxsize=512)
def _cached_page_statement(reader: _Reader, limit: int, offset: int, process: str | None,
                           tier: str | None):
    return _build_page_statement(reader, limit=limit, offset=offset, process=process, tier=tier)


def page_statement(user: User, *, limit: int = 50, offset: int = 0, process: str | None = None,
                   tier: str | None = None):
    """The inbox page's statement for this user, built once per user, scope, page and filter and
    then kept: building it and its cache key is most of the page's Python (~5 of 13 ms). Run it
    with `page_params()` (the moment it is run for, for the stand-in part)."""
    if tier is not None and tier not in TIERS:
        raise ValueError(f"unknown tier {tier!r}")
    reader = _Reader(user.id, Role(user.role), user.store_id, user.area_id)
    return _cached_page_statement(reader, limit, offset, process, tier)


def page_params() -> dict:
    return {permissions.INBOX_NOW: clock.now()}


def _run(statement) -> list:
    """The rows of a kept inbox or badge statement (plain columns, no ORM entities), run on the
    session's connection: the ORM's execute path (its compile state, result wrapping) cost a
    third of the page's query time for rows that need none of it. Pending changes are flushed
    first, as the session's autoflush would."""
    if db.session.autoflush:
        db.session.flush()
    return db.session.connection().execute(statement, page_params()).all()


def _build_page_statement(user, *, limit: int = 50, offset: int = 0, process: str | None = None,
                          tier: str | None = None):
    """The one SELECT behind an inbox page: its rows (InboxRow columns) and, on each row, the
    inbox and unread-notification counts capped at NAV_CAP.

    Each branch reads at most max(offset + limit, NAV_CAP) rows in deadline order: the page can
    only hold rows among them, and their union counted is the capped badge (a branch that
    reached the cap makes the union reach it too; otherwise every branch was read whole)."""
    window = max(offset + limit, NAV_CAP)
    if tier:  # a folder's badges are counted apart (inbox_page): read only as far as the page
        window = offset + limit
    page = _union((q.order_by(*_urgency()).limit(window) for q in _branches(user, process, tier)),
                  cte=True)
    counts = (select(func.count()).select_from(page).scalar_subquery(),
              _unread_count_query(user, NAV_CAP).scalar_subquery())
    return (select(*_ROW_COLUMNS, *counts).select_from(page)
            .join(Task, Task.id == page.c.id).join(Case, Case.id == Task.case_id)
            .outerjoin(Store, Store.id == Case.store_id)
            .outerjoin(User, User.id == Task.assignee_id)
            .order_by(*_urgency()).limit(limit).offset(offset))


def inbox_page(user: User, *, limit: int = 50, offset: int = 0, process: str | None = None,
               tier: str | None = None) -> InboxPage:
    """A page of the inbox (of one tier's members with `tier`), earliest deadline first (overdue
    ones come first by nature), and the navigation badges, in one statement."""
    result = _run(page_statement(user, limit=limit, offset=offset, process=process, tier=tier))
    rows = [InboxRow(*r[:-2]) for r in result]
    nav = None
    if result and process is None and tier is None:
        nav = {"inbox": _badge(min(result[0][-2], NAV_CAP)),
               "notifications": _badge(min(result[0][-1], NAV_CAP))}
    return InboxPage(rows, nav)


def inbox_tasks(user: User, *, limit: int = 50, offset: int = 0, process: str | None = None,
                tier: str | None = None) -> list[InboxRow]:
    """Open tasks for this user, earliest deadline first."""
    return inbox_page(user, limit=limit, offset=offset, process=process, tier=tier).rows


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


@lru_cache(maxsize=512)
def _nav_statement(reader: _Reader):
    """Kept per user, as the inbox page's statement is (see page_statement)."""
    return select(_inbox_count_query(reader, NAV_CAP).scalar_subquery(),
                  _unread_count_query(reader, NAV_CAP).scalar_subquery())


def nav_counts(user: User) -> dict:
    """Badges for the navigation bar (computed on every page, so capped: 0..99 or "99+");
    both counts in one round trip."""
    reader = _Reader(user.id, Role(user.role), user.store_id, user.area_id)
    row = _run(_nav_statement(reader))[0]
    return {"inbox": _badge(min(row[0], NAV_CAP)), "notifications": _badge(min(row[1], NAV_CAP))}


def mark_all_read(*, user: User) -> int:
    """Mark the user's unread notifications (up to 1,000) read; commits."""
    from sqlalchemy import update

    from . import transaction

    ids = [n.id for n in notifications_for(user, unread_only=True, limit=1000)]
    if ids:
        with transaction():
            db.session.execute(update(Notification).where(Notification.id.in_(ids))
                               .values(read_at=clock.now()))
    return len(ids)
