"""Demo visit plans (SPEC §3.5): last month's cycle complete for every store — the plan set by the
28th, the report approved, HQ's archive, the month's visits recorded, HQ's spot-check and remarks,
the area summaries — and this month's under way: items proposed, one store's report waiting for
its supervisor. Replayed through the services with the time each step happened."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from . import clock
from .calendar import local_date, local_midnight_utc
from .extensions import db
from .models import Area, Member, Role, Store, User
from .periods import Month
from .services import recurring
from .services import visit_plan as vp
from .workflows import engine

OCCASIONS = ["生日问候", "新品上市邀约", "季度回访", "售后满意度回访", "积分兑换提醒", "会员日邀约"]
RESULTS = ["已接通，顾客满意", "已接通，顾客表示近期到店", "短信已送达", "顾客不在家，改约下周",
           "已登门送礼，顾客很高兴"]
FEEDBACK = ["希望新款到店时通知", "对上次购买的西装很满意", "", "建议增加大码款式", ""]


def _at(day: date, hour: int = 10) -> datetime:
    return local_midnight_utc(day) + timedelta(hours=hour)


def _staff() -> dict:
    """Every store needs a manager and every area a supervisor for the cycle: add the missing."""
    password = None
    users = list(db.session.scalars(select(User)))
    for store in db.session.scalars(select(Store).order_by(Store.id)):
        if not any(u.store_id == store.id and u.role == Role.STORE_MANAGER for u in users):
            password = password or generate_password_hash("demo")
            users.append(User(username=f"manager_{store.code.lower()}", display_name=f"{store.name[:2]}店长",
                              role=Role.STORE_MANAGER, store_id=store.id, password_hash=password))
            db.session.add(users[-1])
    for area in db.session.scalars(select(Area).order_by(Area.id)):
        if not any(u.area_id == area.id and u.role == Role.AREA_SUPERVISOR for u in users):
            password = password or generate_password_hash("demo")
            users.append(User(username=f"supervisor_{area.id}", display_name=f"{area.name[:2]}主管",
                              role=Role.AREA_SUPERVISOR, area_id=area.id, password_hash=password))
            db.session.add(users[-1])
    db.session.commit()
    return {"users": users, "hq": next(u for u in users if u.role == Role.HQ_SPECIALIST)}


def _role(users, role, *, store_id=None, area_id=None) -> User:
    return next(u for u in users if u.role == role and u.active
                and (store_id is None or u.store_id == store_id) and (area_id is None or u.area_id == area_id))


def _propose(rng, case, store, users, month: Month, n: int, when: datetime) -> None:
    associates = [u for u in users if u.store_id == store.id and u.role == Role.ASSOCIATE]
    members = db.session.scalars(select(Member).where(
        Member.store_id == store.id, Member.status == "active", Member.mobile_dead_at.is_(None))
        .order_by(Member.id).limit(60)).all()
    for member in rng.sample(members, min(n, len(members))):
        who = rng.choice(associates)
        vp.propose_item(actor=who, case=case, member_id=member.id, occasion=rng.choice(OCCASIONS),
                        method=rng.choice(["call", "call", "sms", "visit"]), associate_id=who.id,
                        planned_on=month.day(rng.randint(1, 28)), now=when)


def load(seed: int = 13) -> None:
    """Last month's plan cycle complete for every store, this month's under way."""
    rng = random.Random(seed)
    now = clock.now()
    this = Month.of(now)
    last = this.plus(-1)
    staff = _staff()
    users, hq = staff["users"], staff["hq"]
    stores = db.session.scalars(select(Store).order_by(Store.code)).all()
    # last month: the plan for this month, set, reported, approved and archived
    recurring.open_process("visit_plan", now=_at(last.first_day, 1))
    db.session.commit()
    for store in stores:
        case = vp.plan_case(store_id=store.id, month=this)
        _propose(rng, case, store, users, this, 6, _at(last.day(10)))
        manager = _role(users, Role.STORE_MANAGER, store_id=store.id)
        engine.fire(case, "set_plan", manager, version=case.version, now=_at(last.day(27), 18))
        db.session.commit()
        vp.submit_report(actor=manager, case=case, version=case.version,
                         remarks="上月回访按计划完成，A级会员均已电话问候。", now=_at(last.day(29), 17))
        supervisor = _role(users, Role.AREA_SUPERVISOR, area_id=store.area_id)
        engine.fire(case, "approve", supervisor, version=case.version, comment="同意，注意跟进需回访的顾客。",
                    now=_at(last.day(30), 9))
        engine.fire(case, "archive", hq, version=case.version, now=_at(last.day(30), 15))
        db.session.commit()
    # this month: the plan's items as tasks on their dates, most visits recorded, one unplanned
    today = local_date(now)
    for day in range(1, today.day + 1):
        vp.open_item_tasks(now=_at(this.day(day), 0) + timedelta(minutes=5))
    for store in stores:
        case = vp.plan_case(store_id=store.id, month=this)
        for item in vp.plan_items(case=case):
            if item.planned_on < today and rng.random() < 0.85:
                associate = db.session.get(User, item.associate_id)
                vp.record_visit(actor=associate, method=item.method, visited_at=_at(item.planned_on, 15),
                                result=rng.choice(RESULTS), feedback=rng.choice(FEEDBACK),
                                follow_up=rng.random() < 0.2, plan_item_id=item.id,
                                now=_at(item.planned_on, 16))
        member = db.session.scalars(select(Member).where(
            Member.store_id == store.id, Member.status == "active").order_by(Member.id.desc()).limit(1)).first()
        associate = _role(users, Role.ASSOCIATE, store_id=store.id)
        if member is not None and today.day > 3:
            vp.record_visit(actor=associate, member_id=member.id, method="visit",
                            visited_at=_at(this.day(3), 14), result="顾客到店，顺访", now=_at(this.day(3), 15))
        # HQ's spot-check of this month's visits so far, and its remarks
        if today.day > 20:
            try:
                sample = vp.draw_sample(actor=hq, store_id=store.id, month=this, now=_at(this.day(20)))
            except vp.VisitError:
                sample = []
            for i, record in enumerate(sample):
                vp.record_check(actor=hq, record=record, confirmed=i % 4 != 3,
                                note="顾客确认接到回访" if i % 4 != 3 else "顾客表示未接到电话",
                                now=_at(this.day(21)))
            vp.save_remarks(actor=hq, store_id=store.id, month=this, remarks="回访执行较好，请加强抽查未确认的记录。",
                            now=_at(this.day(21)))
    # last month's area summaries, submitted before the 1st
    recurring.open_process("visit_area_summary", now=_at(last.day(25), 1))
    db.session.commit()
    for area in db.session.scalars(select(Area).order_by(Area.id)):
        case = vp.area_summary_case(area_id=area.id, month=last)
        supervisor = _role(users, Role.AREA_SUPERVISOR, area_id=area.id)
        vp.submit_area_summary(actor=supervisor, case=case, version=case.version,
                               text="各店均按计划完成回访，下月重点关注A级会员的生日回访。", now=_at(last.day(30), 20))
    # this month: next month's plan under way — items proposed; the first store's report submitted
    recurring.open_process("visit_plan", now=_at(this.first_day, 1))
    if today.day >= 25:
        recurring.open_process("visit_area_summary", now=now)
    db.session.commit()
    nxt = this.next()
    for i, store in enumerate(stores):
        case = vp.plan_case(store_id=store.id, month=nxt)
        _propose(rng, case, store, users, nxt, 4, _at(this.day(min(12, today.day))))
        if i == 0 and today.day >= 27:
            manager = _role(users, Role.STORE_MANAGER, store_id=store.id)
            engine.fire(case, "set_plan", manager, version=case.version, now=_at(this.day(27), 18))
            db.session.commit()
            vp.submit_report(actor=manager, case=case, version=case.version,
                             remarks="本月回访基本完成，个别顾客改约下月。", now=min(now, _at(this.day(28), 17)))
