"""Demo data for the weekly routine (SPEC §3.8): this week's case of every store under way — the
Monday plan set by each manager (demo associates memorise 2 profiles a day), and, as far as the
week has gone, the Friday check (the demo associates answered it), the Saturday review; on
Sunday the report waits for the manager. Today's profiles follow from each store's members."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from . import clock
from .calendar import local_date, local_midnight_utc
from .extensions import db
from .models import Role, Store, User
from .services import recurring, routine
from .workflows import engine


def _at(day, hour: float) -> datetime:
    return local_midnight_utc(day) + timedelta(hours=hour)


def load() -> None:
    now = clock.now()
    today = local_date(now)
    monday = today - timedelta(days=today.weekday())
    recurring.open_process("weekly_routine", now=_at(monday, 0.05))
    db.session.commit()
    for store in db.session.scalars(select(Store).order_by(Store.id)):
        case = routine.week_case(store_id=store.id, day=today)
        manager = db.session.scalars(select(User).where(
            User.store_id == store.id, User.role == Role.STORE_MANAGER, User.active.is_(True))).first()
        if case is None or manager is None:
            continue
        staff = routine.associates(store.id)
        plan_at = _at(monday, 9.5)
        if plan_at > now:
            continue  # Monday morning: the plan still waits for the manager
        routine.set_plan(actor=manager, case=case, version=case.version,
                         methods=dict(routine.DEFAULT_METHODS),
                         profiles={str(u.id): 2 for u in staff},
                         visits={str(u.id): 3 for u in staff}, note="A类客户本周上门拜访，生日客户提前电话问候。",
                         now=plan_at)
        for weekday, system, step, hour in ((5, "to_check", "finish_check", 18),
                                           (6, "to_review", "finish_review", 17)):
            day = monday + timedelta(days=weekday - 1)
            if _at(day, 0) > now:
                break
            engine.fire(case, system, None, version=case.version, now=_at(day, 0))
            db.session.commit()
            if weekday == 5 and _at(day, 11) <= now:
                routine.start_check(actor=manager, case=case, now=_at(day, 10))
                for user in staff:
                    questions = routine.my_questions(actor=user, case=case)
                    # the demo associates know their members' tiers and little else
                    routine.answer_check(actor=user, case=case, now=_at(day, 11), answers={
                        str(q.id): q.member.tier if q.kind == "tier" else "" for q in questions})
            if _at(day, hour) <= now and (weekday != 5 or _at(day, 11) <= now):
                routine.fire_step(actor=manager, case=case, version=case.version, transition=step,
                                  now=_at(day, hour))
        sunday = monday + timedelta(days=6)
        if _at(sunday, 0) <= now and case.state in ("reviewing", "reviewed"):
            engine.fire(case, "to_report", None, version=case.version, now=_at(sunday, 0))
            db.session.commit()
