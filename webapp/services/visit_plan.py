"""The monthly visit plan (SPEC §3.5): proposing and setting items, the manager's report with its
figures, plan items as tasks on their dates, visit records, HQ's consolidation, spot-check and
store scorecard. Every function that writes commits, or rolls back what it wrote when it refuses."""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import String, and_, case as sql_case, func, literal, select, true, update

from .. import clock, permissions, settings
from ..calendar import local_date, local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import (Case, Member, PlanItem, Role, Store, StoreVisitScore, User, VisitRecord)
from ..periods import Month
from ..workflows import engine
from ..workflows.visit_plan_steps import plan_month

METHODS = {"call": N_("电话"), "sms": N_("短信"), "visit": N_("登门拜访"), "mail": N_("邮寄")}
TIERS = ("A", "B", "C")
EDITABLE = ("drafting", "reporting")  # the plan may change until the report is submitted


class VisitError(Refusal):
    """Bad input or a step not allowed now; nothing was written."""


def pct(part: int, whole: int) -> Decimal | None:
    """part of whole in percent (formatting.percent shows it), None when there is no whole."""
    return Decimal(part * 100) / Decimal(whole) if whole else None


def _transaction(fn):
    """Commit what `fn` wrote, or roll it back and re-raise."""
    def wrapped(*args, **kwargs):
        try:
            result = fn(*args, **kwargs)
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            raise
    wrapped.__doc__, wrapped.__name__ = fn.__doc__, fn.__name__
    return wrapped


def plan_case(*, store_id: int, month: Month) -> Case | None:
    """The plan case of a store for the month it plans (opened in the month before)."""
    return db.session.scalars(select(Case).where(
        Case.dedupe_key == f"visit_plan:{month.plus(-1).key}:{store_id}")).first()


def _member(member_id: int | None, card_no: str | None, store_id: int) -> Member | None:
    """The active member of this store named by id or by card number (old numbers too)."""
    if member_id:
        member = db.session.get(Member, member_id)
    elif card_no and card_no.strip():
        card = card_no.strip().upper()
        member = db.session.scalars(select(Member).where(
            (Member.card_no == card) | (Member.previous_card_no == card))).first()
    else:
        member = None
    if member is None or member.store_id != store_id or member.status != "active":
        return None
    return member


def frequency_flag(*, member: Member, now: datetime) -> bool:
    """SPEC §3.4: visited several times lately and the points did not grow since the first of
    those visits → fall back to the quarterly cadence."""
    since = Month.of(now).plus(-settings.get_int("visit_frequency_months")).window()[0]
    visits = db.session.execute(select(func.count(VisitRecord.id), func.min(VisitRecord.points_at_visit))
                                .where(VisitRecord.member_id == member.id,
                                       VisitRecord.visited_at >= since)).one()
    count, first_points = visits
    return count >= settings.get_int("visit_frequency_visits") and member.points <= (first_points or 0)


@_transaction
def propose_item(*, actor: User, case: Case, member_id: int | None = None, card_no: str | None = None,
                 occasion: str, method: str, associate_id: int | None, planned_on: date | None,
                 now: datetime | None = None) -> PlanItem:
    """An associate proposes (or the manager adds) one item to next month's plan."""
    now = now or clock.now()
    if case.process != "visit_plan" or not permissions.can(actor, "visit.plan", case):
        raise engine.NotAllowed(N_("您没有权限修改该门店的回访计划"))
    if case.state not in EDITABLE:
        raise VisitError(N_("月报已提交，计划不能再修改"))
    manager = actor.role == Role.STORE_MANAGER
    if case.state == "reporting" and not manager:
        raise VisitError(N_("店长已制订计划，如需增加请联系店长"))
    month = plan_month(case)
    member = _member(member_id, card_no, case.store_id)
    if member is None:
        raise VisitError(N_("请填写本店有效会员的卡号"))
    if method not in METHODS:
        raise VisitError(N_("请选择回访方式"))
    if method in ("call", "sms") and member.mobile_dead_at is not None:
        raise VisitError(N_("该会员手机号为空号或已停机，不能安排电话或短信回访"))
    occasion = (occasion or "").strip()
    if not occasion or len(occasion) > 60:
        raise VisitError(N_("请填写回访事由（60字以内）"))
    if planned_on is None or Month.of(planned_on) != month:
        raise VisitError(N_("回访日期须在%(month)s内"), month=month.key)
    who = db.session.get(User, associate_id) if associate_id else None
    if who is None or not who.active or who.store_id != case.store_id:
        raise VisitError(N_("请选择本店的导购"))
    if not manager and who.id != actor.id:
        raise VisitError(N_("导购只能为自己建议回访项"))
    item = PlanItem(plan_case_id=case.id, store_id=case.store_id, ym=month.ym, member_id=member.id,
                    occasion=occasion, method=method, associate_id=who.id, planned_on=planned_on,
                    status="set" if case.state == "reporting" else "proposed",
                    frequency_flag=frequency_flag(member=member, now=now),
                    proposed_by_id=actor.id, created_at=now)
    db.session.add(item)
    db.session.flush()
    return item


@_transaction
def remove_item(*, actor: User, item: PlanItem) -> None:
    """Take an item off a plan still being drafted (the manager any, an associate their own)."""
    case = db.session.get(Case, item.plan_case_id)
    if not permissions.can(actor, "visit.plan", item):
        raise engine.NotAllowed(N_("您没有权限修改该门店的回访计划"))
    if case.state not in EDITABLE:
        raise VisitError(N_("月报已提交，计划不能再修改"))
    if actor.role != Role.STORE_MANAGER and (item.proposed_by_id != actor.id or item.status != "proposed"):
        raise VisitError(N_("只能删除自己建议且尚未制订的回访项"))
    db.session.delete(item)


@dataclass
class Summary:
    """A store's month of visits, as the monthly report shows it."""

    planned: int = 0
    done: int = 0
    unplanned: int = 0
    by_method: dict = field(default_factory=dict)  # method -> [planned, done]
    by_tier: dict = field(default_factory=dict)  # tier -> [planned, done]
    visited_members: int = 0
    points_growth: int = 0  # accumulated points of the visited members now, minus at first visit

    @property
    def rate(self) -> Decimal | None:
        return pct(self.done, self.planned)

    def as_data(self) -> dict:
        return {"planned": self.planned, "done": self.done, "unplanned": self.unplanned,
                "by_method": self.by_method, "by_tier": self.by_tier,
                "visited_members": self.visited_members, "points_growth": self.points_growth}


def month_summary(*, store_id: int, month: Month) -> Summary:
    """This month's figures of a store, computed from its plan items and visit records."""
    out = Summary(by_method={m: [0, 0] for m in METHODS}, by_tier={t: [0, 0] for t in TIERS})
    rows = db.session.execute(
        select(PlanItem.method, Member.tier, func.count(PlanItem.id),
               func.count(VisitRecord.id))
        .join(Member, Member.id == PlanItem.member_id)
        .outerjoin(VisitRecord, VisitRecord.plan_item_id == PlanItem.id)
        .where(PlanItem.store_id == store_id, PlanItem.ym == month.ym, PlanItem.status == "set")
        .group_by(PlanItem.method, Member.tier)).all()
    for method, tier, planned, visited in rows:
        out.planned += planned
        out.done += visited
        out.by_method.setdefault(method, [0, 0])
        out.by_method[method][0] += planned
        out.by_method[method][1] += visited
        out.by_tier.setdefault(tier, [0, 0])
        out.by_tier[tier][0] += planned
        out.by_tier[tier][1] += visited
    records = select(VisitRecord.member_id, func.min(VisitRecord.points_at_visit).label("first"),
                     func.sum(sql_case((VisitRecord.plan_item_id.is_(None), 1), else_=0)).label("unplanned")
                     ).where(VisitRecord.store_id == store_id, VisitRecord.ym == month.ym
                             ).group_by(VisitRecord.member_id).subquery()
    members, growth, unplanned = db.session.execute(
        select(func.count(records.c.member_id), func.coalesce(func.sum(Member.points - records.c.first), 0),
               func.coalesce(func.sum(records.c.unplanned), 0))
        .join(Member, Member.id == records.c.member_id)).one()
    out.visited_members, out.points_growth, out.unplanned = members, int(growth), int(unplanned)
    return out


@_transaction
def submit_report(*, actor: User, case: Case, version: int, remarks: str,
                  now: datetime | None = None) -> Case:
    """The manager submits 《客户回访情况月报表》: this month's figures, their remarks, next
    month's plan (the case's items) — to the area supervisor."""
    remarks = (remarks or "").strip()
    if not remarks:
        raise VisitError(N_("请填写本月回访情况说明"))
    if len(remarks) > 2000:
        raise VisitError(N_("说明不能超过2000字"))
    this_month = Month.parse(case.data["period"])
    summary = month_summary(store_id=case.store_id, month=this_month).as_data()
    return engine.fire(case, "submit", actor, version=version, now=now,
                       data={"remarks": remarks, "summary": summary})


def open_item_tasks(*, now: datetime | None = None) -> int:
    """Every set plan item whose date has come and that is not yet visited becomes its
    associate's task (one case each, keyed by the item: a second run opens nothing twice)."""
    now = now or clock.now()
    today = local_date(now)
    key = literal("visit_item:") + PlanItem.id.cast(String)
    source = (select((literal("回访 ") + PlanItem.occasion).label("title"),
                     PlanItem.store_id.label("store_id"), Store.area_id.label("area_id"),
                     PlanItem.member_id.label("member_id"), key.label("dedupe_key"),
                     PlanItem.associate_id.label("assignee_id"))
              .join(Store, Store.id == PlanItem.store_id)
              .outerjoin(VisitRecord, VisitRecord.plan_item_id == PlanItem.id)
              .where(PlanItem.status == "set", PlanItem.planned_on <= today,
                     PlanItem.task_case_id.is_(None), VisitRecord.id.is_(None)))
    try:
        ids = engine.start_many(engine.get_process("visit_item"), source, now=now)
        if ids:
            db.session.execute(update(PlanItem).where(PlanItem.task_case_id.is_(None)).values(
                task_case_id=select(Case.id).where(Case.dedupe_key == key).scalar_subquery())
                .execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(ids)


@_transaction
def record_visit(*, actor: User, member_id: int | None = None, card_no: str | None = None,
                 method: str, visited_at: datetime | None,
                 result: str, feedback: str = "", follow_up: bool = False,
                 plan_item_id: int | None = None, now: datetime | None = None) -> VisitRecord:
    """Fill 《客户回访情况登记表》 for one visit, planned or not; a planned one closes its task."""
    now = now or clock.now()
    if not permissions.can(actor, "visit.record"):
        raise engine.NotAllowed(N_("您没有权限登记回访"))
    item = db.session.get(PlanItem, plan_item_id) if plan_item_id else None
    if plan_item_id and (item is None or item.store_id != actor.store_id):
        raise VisitError(N_("回访计划项不存在"))
    if item is not None:
        if item.status != "set":
            raise VisitError(N_("该回访项尚未由店长制订，不能执行"))
        if db.session.scalar(select(VisitRecord.id).where(VisitRecord.plan_item_id == item.id)):
            raise VisitError(N_("该回访项已登记"))
        member_id = item.member_id
    member = _member(member_id, card_no, actor.store_id)
    if member is None:
        raise VisitError(N_("请填写本店有效会员的卡号"))
    if method not in METHODS:
        raise VisitError(N_("请选择回访方式"))
    if method in ("call", "sms") and member.mobile_dead_at is not None:
        raise VisitError(N_("该会员手机号为空号或已停机，不能电话或短信回访"))
    if visited_at is None or visited_at > now:
        raise VisitError(N_("请填写回访时间（不能晚于现在）"))
    result = (result or "").strip()
    if not result or len(result) > 200:
        raise VisitError(N_("请填写回访结果（200字以内）"))
    if len(feedback or "") > 2000:
        raise VisitError(N_("顾客意见不能超过2000字"))
    record = VisitRecord(store_id=member.store_id, ym=Month.of(visited_at).ym, member_id=member.id,
                         associate_id=actor.id, plan_item_id=item.id if item else None, method=method,
                         visited_at=visited_at, result=result, feedback=(feedback or "").strip(),
                         follow_up=bool(follow_up), points_at_visit=member.points, created_at=now)
    db.session.add(record)
    db.session.flush()
    task_case = db.session.get(Case, item.task_case_id) if item and item.task_case_id else None
    if task_case is not None and task_case.state == "due":
        engine.fire(task_case, "record", actor, version=task_case.version, now=now,
                    data={"visit_record": record.id})
    return record


def visible_stores(user: User):
    """The stores this user may see, in code order."""
    return db.session.scalars(select(Store).where(permissions.store_area_filter(user, Store.id, Store.area_id))
                              .order_by(Store.code)).all()


def item_of_case(*, case: Case) -> PlanItem | None:
    """The plan item a visit_item case stands for (None for any other case)."""
    if case.process != "visit_item":
        return None
    return db.session.scalars(select(PlanItem).where(PlanItem.task_case_id == case.id)).first()


def plan_items(*, case: Case, tier: str | None = None) -> list[PlanItem]:
    """The plan's items in date order (of one tier's members with `tier`)."""
    query = select(PlanItem).where(PlanItem.plan_case_id == case.id)
    if tier in TIERS:
        query = query.join(Member, Member.id == PlanItem.member_id).where(Member.tier == tier)
    return db.session.scalars(query.order_by(PlanItem.planned_on, PlanItem.id)).all()


def progress(*, store_id: int, month: Month, now: datetime | None = None) -> dict:
    """The manager's view of execution: set items done, due today, overdue, upcoming."""
    today = local_date(now or clock.now())
    rows = db.session.execute(
        select(PlanItem.planned_on, VisitRecord.id).outerjoin(
            VisitRecord, VisitRecord.plan_item_id == PlanItem.id)
        .where(PlanItem.store_id == store_id, PlanItem.ym == month.ym, PlanItem.status == "set")).all()
    out = {"done": 0, "due": 0, "overdue": 0, "upcoming": 0}
    for planned_on, record_id in rows:
        key = ("done" if record_id else "overdue" if planned_on < today
               else "due" if planned_on == today else "upcoming")
        out[key] += 1
    return out


def visit_records(*, user: User, store_id: int, month: Month, associate_id: int | None = None,
                  method: str | None = None, tier: str | None = None) -> list[VisitRecord]:
    """The visit records of a store and month the user may read, filtered."""
    query = (select(VisitRecord).join(Member, Member.id == VisitRecord.member_id)
             .where(VisitRecord.store_id == store_id, VisitRecord.ym == month.ym,
                    permissions.store_area_filter(user, VisitRecord.store_id)))
    if associate_id:
        query = query.where(VisitRecord.associate_id == associate_id)
    if method in METHODS:
        query = query.where(VisitRecord.method == method)
    if tier in TIERS:
        query = query.where(Member.tier == tier)
    return db.session.scalars(query.order_by(VisitRecord.visited_at.desc(), VisitRecord.id.desc())).all()


def consolidation(*, user: User, month: Month) -> list:
    """HQ's page: every visible store's plan for `month`, its state and its item count (one query)."""
    prev = month.plus(-1).key
    items = (select(PlanItem.store_id, func.count(PlanItem.id).label("n"))
             .where(PlanItem.ym == month.ym).group_by(PlanItem.store_id).subquery())
    return db.session.execute(
        select(Store.id.label("store_id"), Store.code, Store.name, Store.area_id,
               Case.id.label("case_id"), Case.state, Case.version,
               func.coalesce(items.c.n, 0).label("items"))
        .outerjoin(Case, Case.dedupe_key == literal(f"visit_plan:{prev}:") + Store.id.cast(String))
        .outerjoin(items, items.c.store_id == Store.id)
        .where(permissions.store_area_filter(user, Store.id, Store.area_id))
        .order_by(Store.code)).all()


def archive_all(*, actor: User, month: Month) -> tuple[int, list[str]]:
    """HQ archives every approved plan of the month at once; each commits on its own."""
    from .cases import bulk_fire

    pairs = [(row.case_id, row.version) for row in consolidation(user=actor, month=month)
             if row.state == "approved"]
    if not pairs:
        raise VisitError(N_("没有待归档的计划"))
    return bulk_fire(actor=actor, transition="archive", items=pairs)


def draw_sample(*, actor: User, store_id: int, month: Month, now: datetime | None = None) -> list[VisitRecord]:
    """HQ's spot-check sample of a store's month: drawn once, reproducibly (seeded by store and
    month), of size visit_spot_check_size; a second draw returns the same records."""
    if not permissions.can(actor, "visit.check"):
        raise engine.NotAllowed(N_("您没有权限抽查回访"))
    now = now or clock.now()
    mine = (VisitRecord.store_id == store_id, VisitRecord.ym == month.ym)
    drawn = db.session.scalars(select(VisitRecord).where(*mine, VisitRecord.sampled_at.is_not(None))
                               .order_by(VisitRecord.id)).all()
    if drawn:
        return drawn
    ids = db.session.scalars(select(VisitRecord.id).where(*mine).order_by(VisitRecord.id)).all()
    if not ids:
        raise VisitError(N_("该门店本月没有回访记录"))
    size = min(len(ids), max(1, settings.get_int("visit_spot_check_size")))
    chosen = sorted(random.Random(f"{month.key}:{store_id}").sample(ids, size))
    try:
        db.session.execute(update(VisitRecord).where(VisitRecord.id.in_(chosen))
                           .values(sampled_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return db.session.scalars(select(VisitRecord).where(VisitRecord.id.in_(chosen))
                              .order_by(VisitRecord.id)).all()


@_transaction
def record_check(*, actor: User, record: VisitRecord, confirmed: bool | None, note: str,
                 now: datetime | None = None) -> VisitRecord:
    """HQ called the member back: did the visit happen, and how did it go."""
    if not permissions.can(actor, "visit.check"):
        raise engine.NotAllowed(N_("您没有权限抽查回访"))
    if record.sampled_at is None:
        raise VisitError(N_("该记录不在抽查样本中"))
    if confirmed is None:
        raise VisitError(N_("请选择顾客是否确认回访"))
    if len(note or "") > 300:
        raise VisitError(N_("抽查说明不能超过300字"))
    record.check_confirmed, record.check_note = confirmed, (note or "").strip()
    record.checked_at, record.checked_by_id = now or clock.now(), actor.id
    return record


def _on_time_case(month: Month):
    """1 for a planned visit recorded by the end of its planned local day, else 0: the item's
    date (always in its month) mapped to the UTC moment that day ends, so no time zone arithmetic
    runs in SQL."""
    from datetime import timedelta

    from ..models.base import TZDateTime

    ends = {month.first_day + timedelta(days=n):
            literal(local_midnight_utc(month.first_day + timedelta(days=n + 1)), TZDateTime)
            for n in range((month.last_day - month.first_day).days + 1)}
    deadline = sql_case(ends, value=PlanItem.planned_on)
    return sql_case((VisitRecord.visited_at < deadline, 1), else_=0)


def scorecard(*, user: User, month: Month, area_id: int | None = None) -> list[dict]:
    """Per visible store (of one area, when given): execution rate (planned items done),
    spot-check confirmation rate and timeliness (planned visits done by their date), with HQ's
    remarks. One query, whatever the number of stores."""
    # one area: its stores in each aggregate too (else PostgreSQL may aggregate every store's
    # month once per store of the area in a nested loop)
    plan_stores = checked_stores = true()
    if area_id is not None:
        in_area = select(Store.id).where(Store.area_id == area_id)
        plan_stores, checked_stores = PlanItem.store_id.in_(in_area), VisitRecord.store_id.in_(in_area)
    plan = (select(PlanItem.store_id, func.count(PlanItem.id).label("planned"),
                   func.count(VisitRecord.id).label("done"),
                   func.sum(_on_time_case(month)).label("on_time"))
            .outerjoin(VisitRecord, VisitRecord.plan_item_id == PlanItem.id)
            .where(PlanItem.ym == month.ym, PlanItem.status == "set", plan_stores)
            .group_by(PlanItem.store_id).subquery())
    checks = (select(VisitRecord.store_id,
                     func.count(VisitRecord.checked_at).label("checked"),
                     func.sum(sql_case((VisitRecord.check_confirmed.is_(True), 1), else_=0)).label("confirmed"),
                     func.count(VisitRecord.sampled_at).label("sampled"))
              .where(VisitRecord.ym == month.ym, checked_stores).group_by(VisitRecord.store_id).subquery())
    query = (select(Store.id, Store.code, Store.name, plan.c.planned, plan.c.done, plan.c.on_time,
                    checks.c.sampled, checks.c.checked, checks.c.confirmed, StoreVisitScore.remarks)
             .outerjoin(plan, plan.c.store_id == Store.id).outerjoin(checks, checks.c.store_id == Store.id)
             .outerjoin(StoreVisitScore, and_(StoreVisitScore.store_id == Store.id,
                                              StoreVisitScore.ym == month.ym))
             .where(permissions.store_area_filter(user, Store.id, Store.area_id)).order_by(Store.code))
    if area_id is not None:
        query = query.where(Store.area_id == area_id)
    out = []
    for sid, code, name, planned, done, on_time, sampled, checked, confirmed, remarks in db.session.execute(query):
        planned, done, checked, confirmed = planned or 0, done or 0, checked or 0, confirmed or 0
        on_time = int(on_time or 0)
        out.append({"store_id": sid, "code": code, "name": name, "planned": planned, "done": done,
                    "execution": pct(done, planned),
                    "sampled": sampled or 0, "checked": checked, "confirmed": confirmed,
                    "confirmation": pct(confirmed, checked),
                    "on_time": on_time,
                    "timeliness": pct(on_time, done),
                    "remarks": remarks or ""})
    return out


@_transaction
def save_remarks(*, actor: User, store_id: int, month: Month, remarks: str,
                 now: datetime | None = None) -> StoreVisitScore:
    """HQ's assessment remarks on a store's visit work in a month."""
    if not permissions.can(actor, "visit.check"):
        raise engine.NotAllowed(N_("您没有权限评价门店回访"))
    if len(remarks or "") > 2000:
        raise VisitError(N_("评价不能超过2000字"))
    score = db.session.scalars(select(StoreVisitScore).where(
        StoreVisitScore.store_id == store_id, StoreVisitScore.ym == month.ym)).first()
    if score is None:
        score = StoreVisitScore(store_id=store_id, ym=month.ym)
        db.session.add(score)
    score.remarks, score.updated_by_id, score.updated_at = (remarks or "").strip(), actor.id, now or clock.now()
    return score


def scorecard_xlsx(*, user: User, month: Month) -> bytes:
    """The scorecard as a workbook: one row per store, rates as percentages, HQ's remarks."""
    from io import BytesIO

    from openpyxl import Workbook

    from ..i18n_labels import say
    from ..spreadsheet import append, print_setup

    book = Workbook()
    sheet = book.active
    sheet.title = month.key
    append(sheet, [say(N_("门店回访考核")) + f" {month.key}"])
    headers = [N_("门店编码"), N_("门店"), N_("计划回访"), N_("已回访"), N_("执行率"), N_("抽查数"),
               N_("顾客确认"), N_("抽查确认率"), N_("按时完成"), N_("按时率"), N_("总部评价")]
    append(sheet, [say(h) for h in headers])
    rows = scorecard(user=user, month=month)
    for r in rows:
        rate = {5: "0.0%", 8: "0.0%", 10: "0.0%"}
        append(sheet, [r["code"], r["name"], r["planned"], r["done"], _ratio(r["execution"]),
                       r["checked"], r["confirmed"], _ratio(r["confirmation"]), r["on_time"],
                       _ratio(r["timeliness"]), r["remarks"]], rate)
    print_setup(sheet, header_row=2, last_column="K", last_row=2 + len(rows))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _ratio(value: Decimal | None):
    """A percent Decimal as the fraction a "0.0%" cell shows."""
    return None if value is None else value / 100


def area_summary_case(*, area_id: int, month: Month) -> Case | None:
    """The supervisor's summary report case of an area for a month."""
    return db.session.scalars(select(Case).where(
        Case.dedupe_key == f"visit_area_summary:{month.key}:{area_id}")).first()


def area_figures(*, user: User, area_id: int, month: Month) -> list[dict]:
    """The pre-filled part of the area summary: each store's scorecard figures for the month."""
    return scorecard(user=user, month=month, area_id=area_id)


@_transaction
def submit_area_summary(*, actor: User, case: Case, version: int, text: str,
                        now: datetime | None = None) -> Case:
    """The supervisor submits 《分管终端月度客户回访情况总结报告》 to the area manager."""
    text = (text or "").strip()
    if not text:
        raise VisitError(N_("请填写总结"))
    if len(text) > 5000:
        raise VisitError(N_("总结不能超过5000字"))
    figures = [{k: (str(v) if isinstance(v, Decimal) else v) for k, v in row.items()}
               for row in area_figures(user=actor, area_id=case.area_id, month=Month.parse(case.data["period"]))]
    return engine.fire(case, "submit_summary", actor, version=version, now=now,
                       data={"text": text, "figures": figures})


def plan_xlsx(*, user: User, month: Month, store_id: int | None = None) -> bytes:
    """The plans of a month as a workbook — one store's, or every store the user sees (HQ's
    company-wide download): a sheet of every store's status and figures, a sheet of the items."""
    from io import BytesIO

    from openpyxl import Workbook

    from ..i18n_labels import say
    from ..workflows.engine import state_label
    from ..spreadsheet import append, print_setup

    stores = [r for r in consolidation(user=user, month=month) if store_id in (None, r.store_id)]
    ids = [r.store_id for r in stores]
    book = Workbook()
    sheet = book.active
    sheet.title = say(N_("汇总"))
    append(sheet, [say(N_("客户回访计划")) + f" {month.key}"])
    append(sheet, [say(h) for h in (N_("门店编码"), N_("门店"), N_("状态"), N_("回访项"),
                                    N_("上月计划回访"), N_("上月已回访"), N_("店长说明"))])
    for r in stores:
        summary = month_summary(store_id=r.store_id, month=month.plus(-1))
        case = db.session.get(Case, r.case_id) if r.case_id else None
        append(sheet, [r.code, r.name, say(state_label(r.state, "visit_plan")) if r.state else say(N_("未开启")),
                       r.items, summary.planned, summary.done, (case.data.get("remarks", "") if case else "")])
    print_setup(sheet, header_row=2, last_column="G", last_row=2 + len(stores))
    items = book.create_sheet(say(N_("回访项")))
    append(items, [say(h) for h in (N_("门店编码"), N_("日期"), N_("会员卡号"), N_("会员"), N_("级别"),
                                    N_("事由"), N_("方式"), N_("执行人"), N_("状态"), N_("建议季度回访"))])
    rows = db.session.execute(
        select(Store.code, PlanItem.planned_on, Member.card_no, Member.name, Member.tier,
               PlanItem.occasion, PlanItem.method, User.display_name, PlanItem.status,
               PlanItem.frequency_flag)
        .join(Store, Store.id == PlanItem.store_id).join(Member, Member.id == PlanItem.member_id)
        .join(User, User.id == PlanItem.associate_id)
        .where(PlanItem.ym == month.ym, PlanItem.store_id.in_(ids))
        .order_by(Store.code, PlanItem.planned_on, PlanItem.id)).all()
    for code, day, card, name, tier, occasion, method, who, status, flag in rows:
        append(items, [code, day.isoformat(), card, name, tier, occasion, say(METHODS[method]), who,
                       say(N_("已制订")) if status == "set" else say(N_("建议")), say(N_("是")) if flag else ""])
    print_setup(items, header_row=1, last_column="J", last_row=1 + len(rows), landscape=True)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
