"""The weekly routine (SPEC §3.8; seed 000 §5): each associate memorises a few member profiles
a day (setting care_profiles_per_day, default 2) and reviews yesterday's.

The profiles of a day rotate through the associate's own assigned members first, then the
store's other active members, by member id: the same day always gives the same profiles, and
every member comes round in turn. (The Monday plan and Friday check are not built yet.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import or_, select

from .. import clock, settings
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import Member, Sale, User
from ..permissions import can


@dataclass(frozen=True)
class Profile:
    member: Member
    purchases: list  # the last sales: (local date, amount in fen, items)
    own: bool  # one of the associate's assigned members


def _pool(user: User) -> list[int]:
    own_first = sql_case((Member.associate_id == user.id, 0), else_=1)
    return db.session.scalars(select(Member.id).where(Member.store_id == user.store_id,
                                                      Member.status == "active")
                              .order_by(own_first, Member.id)).all()


def _of_day(pool: list[int], day: date, n: int) -> list[int]:
    if not pool or n <= 0:
        return []
    start = (day.toordinal() * n) % len(pool)
    return [pool[(start + i) % len(pool)] for i in range(min(n, len(pool)))]


def _profiles(user: User, ids: list[int]) -> list[Profile]:
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(ids)))}
    out = []
    for member_id in ids:
        sales = db.session.execute(select(Sale.sold_at, Sale.amount_fen, Sale.items)
                                   .where(Sale.member_id == member_id)
                                   .order_by(Sale.sold_at.desc()).limit(3)).all()
        out.append(Profile(members[member_id],
                           [(local_date(s.sold_at), s.amount_fen, s.items) for s in sales],
                           members[member_id].associate_id == user.id))
    return out


def profiles_of_day(*, actor: User, now: datetime | None = None) -> dict:
    """Today's profiles to memorise and yesterday's to review, for an associate of a store."""
    if not can(actor, "care.profiles") or actor.store_id is None:
        raise Refusal(N_("只有门店导购和店长有每日记忆的会员档案"))
    today = local_date(now or clock.now())
    n = settings.get_int("care_profiles_per_day")
    pool = _pool(actor)
    return {"day": today, "today": _profiles(actor, _of_day(pool, today, n)),
            "yesterday": _profiles(actor, _of_day(pool, today - timedelta(days=1), n))}




def daily_sheet(*, actor: User, now: datetime | None = None) -> dict:
    """One associate's shop-floor sheet of the day: the calls, visits and follow-ups due by
    tonight or opened today (with the filled script), today's profiles. No phone numbers:
    it is printed."""
    from ..models import Case, Task
    from ..outbox import script_text
    from ..periods import day_window
    from ..workflows.engine import get_process, task_label

    day = profiles_of_day(actor=actor, now=now)
    start, end = day_window(day["day"])
    # due by tonight, or opened today (a holiday's call is due on the next working day)
    tasks = db.session.scalars(select(Task).join(Case, Case.id == Task.case_id).where(
        Task.assignee_id == actor.id, Task.status == "open",
        or_(Task.due_at < end, Task.created_at >= start))
        .order_by(Task.due_at, Task.id)).all()
    rows = []
    for task in tasks:
        spec = get_process(task.case.process).tasks.get(task.case.state)
        member = task.case.member
        script = (script_text(spec.script, member, task.case.data)
                  if spec and spec.script and member else "")
        rows.append({"title": task.case.title, "label": task_label(task), "due_at": task.due_at,
                     "member": member, "script": script})
    return {"associate": actor.display_name, "store": actor.store.name, "day": day["day"],
            "tasks": rows, "profiles": day["today"]}


def daily_sheet_pdf(*, actor: User, now: datetime | None = None) -> bytes:
    """The shop-floor sheet as one A4 PDF."""
    from ..formatting import local_time, yuan
    from ..pdf import render_pdf

    return render_pdf("daily_sheet.html", sheet=daily_sheet(actor=actor, now=now), yuan=yuan,
                      local=local_time)
