"""The daily digest: at `staff_digest_hour` (09:00 Asia/Shanghai) each store's group robot gets
today's tasks by person, each area's group robot its stores' numbers (open, due today, overdue;
no names), and every user who chose so gets theirs by e-mail. Run by the daily job
(every 10 minutes); one post per group / user per local day (the row's dedupe key), so a run
twice, late or after a restart posts nothing more."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from .. import clock, mail, settings, staff_alerts
from ..calendar import local_date, to_local
from ..extensions import db
from ..formatting import due_time
from ..models import (AREA_ROLES, COMPANY_ROLES, ROLE_LABELS, Area, Case, GroupRobot, StaffPost,
                      Store, Task, User)
from ..periods import day_window
from ..workflows import engine

MAX_LINES = 40


def _tasks(where, end: datetime) -> list:
    return db.session.execute(
        select(Task.id, Task.name, Task.role, Task.due_at, Task.assignee_id, Case.id.label("case_id"),
               Case.process, User.display_name.label("person"), Store.name.label("store"))
        .join(Case, Case.id == Task.case_id).outerjoin(User, User.id == Task.assignee_id)
        .outerjoin(Store, Store.id == Task.store_id)
        .where(Task.status == "open", Task.due_at <= end, where)  # eod: midnight ending today
        .order_by(Task.due_at, Task.id)).all()


def _line(r, now: datetime, stores: bool) -> str:
    """One task: its label, the case's reference (process and number, never its title: the
    member's name or card number), the store when asked, the deadline, the link."""
    ref = staff_alerts.case_ref(engine.get_process(r.process).label, r.case_id)
    where = f"（{r.store}）" if stores and r.store else ""
    late = "（已超期）" if r.due_at <= now else ""
    return (f"- {engine.task_label(r)}：{ref}{where}，{due_time(r.due_at)[5:]}{late}"
            f" [查看]({staff_alerts.case_link(r.case_id)})")


def text_for(rows, *, title: str, now: datetime, stores: bool = False) -> str:
    """Markdown: a heading, then per person their tasks (`_line`; with their store for a
    reader whose tasks may span stores)."""
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
            lines.append(_line(r, now, stores))
            shown += 1
    if shown < len(rows):
        lines.append(f"\n……共 {len(rows)} 项，详见 {staff_alerts.inbox_link()}")
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
    areas = db.session.execute(
        select(GroupRobot, Area).join(Area, Area.id == GroupRobot.area_id)
        .where(GroupRobot.removed_at.is_(None), GroupRobot.store_id.is_(None))
        .order_by(GroupRobot.id)).all()
    readers = list(db.session.scalars(select(User).where(
        User.active.is_(True), User.digest_by_mail.is_(True)).order_by(User.id))
        ) if mail.configured() else []
    done = _queued_already(
        [f"{prefix}robot:{r.id}" for r, _s in robots] + [f"{prefix}area:{r.id}" for r, _a in areas]
        + [f"{prefix}mail:{u.id}" for u in readers])
    rows = []
    for robot, store in robots:
        key = f"{prefix}robot:{robot.id}"
        if key in done:
            continue
        text = text_for(_tasks(Task.store_id == store.id, end),
                        title=f"{store.name} {day:%m月%d日} 待办汇总", now=now)
        rows.append({"channel": "robot", "robot_id": robot.id, "store_id": store.id,
                     "event": "digest", "dedupe_key": key, "title": "今日待办", "body": text})
    rows += _area_posts([(r, a) for r, a in areas if f"{prefix}area:{r.id}" not in done],
                        prefix=prefix, now=now)
    for user in readers:
        key = f"{prefix}mail:{user.id}"
        if key in done or not user.email:
            continue
        text = text_for(_tasks(_user_scope(user), end),
                        title=f"{user.display_name}，{day:%m月%d日} 的待办", now=now, stores=True)
        rows.append({"channel": "email", "user_id": user.id, "recipient": user.email,
                     "store_id": user.store_id, "event": "digest", "dedupe_key": key,
                     "title": f"今日待办 {day:%m-%d}", "body": text.replace("**", "")})
    staff_alerts.queue(rows)
    db.session.commit()
    return len(rows)


def _queued_already(keys: list[str]) -> set[str]:
    done = set()
    for start in range(0, len(keys), 500):  # the unique index answers each key
        done.update(db.session.scalars(select(StaffPost.dedupe_key).where(
            StaffPost.dedupe_key.in_(keys[start:start + 500]))))
    return done


# ------------------------------------------------------------------ the area's digest

@dataclass
class Counts:
    """An area's or store's open tasks, those due later today, those past their deadline."""
    open: int = 0
    today: int = 0
    late: int = 0

    def add(self, other: "Counts") -> None:
        self.open, self.today, self.late = (self.open + other.open, self.today + other.today,
                                            self.late + other.late)

    def line(self, name: str) -> str:
        return f"- {name}：未完成 {self.open}，今日到期 {self.today}，已超期 {self.late}"


def area_counts(area_ids: list[int], *, now: datetime) -> dict[tuple, Counts]:
    """Open tasks of the areas' stores by store (key ("store", id)) and the areas' own tasks
    (key ("area", id)), in one grouped query: open, due later today (up to the end of the local
    day), overdue (deadline passed). Numbers only."""
    end = day_window(local_date(now))[1]
    stores = select(Store.id).where(Store.area_id.in_(area_ids))
    today = case((and_(Task.due_at > now, Task.due_at <= end), 1), else_=0)
    late = case((Task.due_at <= now, 1), else_=0)
    found = db.session.execute(
        select(Task.store_id, Task.area_id, func.count(), func.sum(today), func.sum(late))
        .where(Task.status == "open",
               or_(Task.store_id.in_(stores),
                   and_(Task.store_id.is_(None), Task.area_id.in_(area_ids))))
        .group_by(Task.store_id, Task.area_id)).all()
    counts: dict[tuple, Counts] = defaultdict(Counts)
    for store_id, area_id, n_open, n_today, n_late in found:
        key = ("store", store_id) if store_id is not None else ("area", area_id)
        counts[key].add(Counts(n_open, int(n_today or 0), int(n_late or 0)))
    return counts


def area_text(area: Area, counts: dict[tuple, Counts], *, now: datetime) -> str:
    """Markdown: per store of the area (every store, none left out when it has nothing), the
    area's own tasks when there are any, and the total."""
    total = Counts()
    lines = [f"**{area.name} {local_date(now):%m月%d日} 门店待办汇总**", ""]
    for store in area.stores:
        mine = counts.get(("store", store.id), Counts())
        total.add(mine)
        lines.append(mine.line(store.name))
    own = counts.get(("area", area.id))
    if own and own.open:
        total.add(own)
        lines.append(own.line("区域本级"))
    if not area.stores:
        lines.append("本区域暂无门店。")
    lines += ["", f"合计：未完成 {total.open}，今日到期 {total.today}，已超期 {total.late}",
              f"[查看待办]({staff_alerts.inbox_link()})"]
    return "\n".join(lines)


def _area_posts(robots: list, *, prefix: str, now: datetime) -> list[dict]:
    if not robots:
        return []
    counts = area_counts(sorted({area.id for _r, area in robots}), now=now)
    return [{"channel": "robot", "robot_id": robot.id, "event": "digest",
             "dedupe_key": f"{prefix}area:{robot.id}", "title": "区域待办汇总",
             "body": area_text(area, counts, now=now)} for robot, area in robots]
