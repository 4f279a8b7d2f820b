"""The daily digest: at `staff_digest_hour` (09:00 Asia/Shanghai) each store's group robot gets
today's tasks by person, and every user who chose so gets theirs by e-mail. Run by the daily job
(every 10 minutes); one post per group / user per local day (the row's dedupe key), so a run
twice, late or after a restart posts nothing more."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, or_, select

from .. import clock, mail, settings, staff_alerts
from ..calendar import local_date, to_local
from ..extensions import db
from ..formatting import due_time
from ..models import (AREA_ROLES, COMPANY_ROLES, ROLE_LABELS, Case, GroupRobot, StaffPost, Store,
                      Task, User)
from ..periods import day_window
from ..workflows import engine

MAX_LINES = 40


def _tasks(where, end: datetime) -> list:
    return db.session.execute(
        select(Task.id, Task.name, Task.role, Task.due_at, Task.assignee_id, Case.id.label("case_id"),
               Case.title, Case.process, User.display_name.label("person"))
        .join(Case, Case.id == Task.case_id).outerjoin(User, User.id == Task.assignee_id)
        .where(Task.status == "open", Task.due_at <= end, where)  # eod: midnight ending today
        .order_by(Task.due_at, Task.id)).all()


def text_for(rows, *, title: str, now: datetime) -> str:
    """Markdown: a heading, then per person their tasks with deadline and link."""
    by_person: dict[str, list] = defaultdict(list)
    for r in rows:
        by_person[r.person or f"{ROLE_LABELS[r.role]}（未分派）"].append(r)
    lines = [f"**{title}**", "", f"今日待办 {len(rows)} 项" if rows else "今日暂无待办。"]
    shown = 0
    for person, items in sorted(by_person.items()):
        lines.append(f"\n**{person}**（{len(items)} 项）")
        for r in items:
            if shown >= MAX_LINES:
                break
            late = "（已超期）" if r.due_at <= now else ""
            lines.append(f"- {engine.task_label(r)}：{r.title}，{due_time(r.due_at)[5:]}"
                         f"{late} [查看]({staff_alerts.case_link(r.case_id)})")
            shown += 1
    if shown < len(rows):
        lines.append(f"\n……共 {len(rows)} 项，详见 {staff_alerts.base_url()}/inbox")
    return "\n".join(lines)


def _user_scope(user: User):
    """A user's own digest: the store's tasks for store staff; otherwise what is assigned to
    them or waits for their role in their area / the company."""
    if user.store_id and user.role not in AREA_ROLES | COMPANY_ROLES:
        return Task.store_id == user.store_id
    unassigned = and_(Task.assignee_id.is_(None), Task.role == user.role)
    if user.role in AREA_ROLES:
        unassigned = and_(unassigned, Task.area_id == user.area_id)
    return or_(Task.assignee_id == user.id, unassigned)


def queue_digests(*, now: datetime | None = None) -> int:
    """Queue today's digests once the digest hour has come; how many were queued."""
    now = clock.as_utc(now) if now else clock.now()
    local = to_local(now)
    if local.hour < settings.get_int("staff_digest_hour"):
        return 0
    day = local_date(now)
    end = day_window(day)[1]
    prefix = f"digest:{day.isoformat()}:"
    robots = db.session.execute(
        select(GroupRobot, Store).join(Store, Store.id == GroupRobot.store_id)
        .where(GroupRobot.removed_at.is_(None)).order_by(GroupRobot.id)).all()
    readers = list(db.session.scalars(select(User).where(
        User.active.is_(True), User.digest_by_mail.is_(True)).order_by(User.id))
        ) if mail.configured() else []
    keys = [f"{prefix}robot:{r.id}" for r, _s in robots] + [f"{prefix}mail:{u.id}" for u in readers]
    done = set()
    for start in range(0, len(keys), 500):  # the unique index answers each key
        done.update(db.session.scalars(select(StaffPost.dedupe_key).where(
            StaffPost.dedupe_key.in_(keys[start:start + 500]))))
    rows = []
    for robot, store in robots:
        key = f"{prefix}robot:{robot.id}"
        if key in done:
            continue
        text = text_for(_tasks(Task.store_id == store.id, end),
                        title=f"{store.name} {day:%m月%d日} 待办汇总", now=now)
        rows.append({"channel": "robot", "robot_id": robot.id, "store_id": store.id,
                     "event": "digest", "dedupe_key": key, "title": "今日待办", "body": text})
    for user in readers:
        key = f"{prefix}mail:{user.id}"
        if key in done or not user.email:
            continue
        text = text_for(_tasks(_user_scope(user), end),
                        title=f"{user.display_name}，{day:%m月%d日} 的待办", now=now)
        rows.append({"channel": "email", "user_id": user.id, "recipient": user.email,
                     "store_id": user.store_id, "event": "digest", "dedupe_key": key,
                     "title": f"今日待办 {day:%m-%d}", "body": text.replace("**", "")})
    staff_alerts.queue(rows)
    db.session.commit()
    return len(rows)

