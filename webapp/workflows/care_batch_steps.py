"""The care batch's rules and effects (workflows/care_batch.py declares where they apply).

A batch is a case per store and occasion; its lines (CareLine) are written set-based with
INSERT … SELECT from the member table, the method chosen by the member's tier.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (Integer, String, and_, exists, false, func, insert, literal, select, text,
                        update)
from sqlalchemy import case as sql_case

from .. import clock, settings
from ..calendar import local_date, local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_
from ..models import (Case, CareLine, Member, MemberAnniversary, OutboxMessage, Store, Task,
                      TZDateTime, VisitRecord)
from ..occasions import (ANNIVERSARY, BIRTHDAY, COMPANY, FESTIVAL, GROUP, SEASON, STORE, VALENTINE,
                         Occasion)
from ..outbox import MARKETING, queue_email, queue_sms_many
from ..periods import day_window
from .engine import ids_in, start_many


@dataclass(frozen=True)
class Method:
    label: str
    sms: bool  # a greeting SMS on the day
    on_day: str | None  # "call" or "visit": a task for the associate on the day
    prep: str | None  # a task due before the occasion: gift, card or cake to prepare/send


METHODS: dict[str, Method] = {
    "phone_gift_home": Method(N_("电话祝福，上门赠送礼品"), False, "call", "gift_home"),
    "sms_gift_store": Method(N_("短信祝福，邀请到店领取礼品"), True, None, None),
    "sms_card_mail": Method(N_("短信祝福，寄送贺卡"), True, None, "card_mail"),
    "sms_gift_mail": Method(N_("短信祝福，寄送礼品"), True, None, "gift_mail"),
    "sms": Method(N_("短信祝福"), True, None, None),
    "contact_sms": Method(N_("非会员祝福短信"), True, None, None),
    "phone": Method(N_("电话回访"), False, "call", None),
    "visit_cake_flowers": Method(N_("蛋糕＋鲜花＋导购登门＋祝福短信"), True, "visit", "cake_flowers"),
    "visit_cake": Method(N_("蛋糕＋导购登门＋祝福短信"), True, "visit", "cake"),
    "card_call": Method(N_("贺卡寄送＋电话＋祝福短信"), True, "call", "card_mail"),
    "phone_sms": Method(N_("电话邀请＋短信邀请"), True, "call", None),
}

ACTION_LABELS = {"call": N_("电话"), "visit": N_("登门拜访"), "gift_home": N_("准备礼品（上门赠送）"),
                 "card_mail": N_("寄送贺卡"), "gift_mail": N_("寄送礼品"),
                 "cake_flowers": N_("准备蛋糕和鲜花"), "cake": N_("准备蛋糕")}

# Seed 000 §(二)2: the method of each tier, per kind of occasion (the SPEC §3.4 table).
TIER_METHODS: dict[str, dict[str, str]] = {
    FESTIVAL: {"A": "phone_gift_home", "B": "sms_gift_store", "C": "sms_card_mail"},
    VALENTINE: {"A": "sms_gift_mail", "B": "sms_gift_store", "C": "sms"},
    GROUP: {"A": "sms_gift_mail", "B": "sms_gift_mail", "C": "sms_gift_mail"},
    COMPANY: {"A": "sms", "B": "sms", "C": "sms"},
    SEASON: {"A": "phone", "B": "phone", "C": "sms"},
    BIRTHDAY: {"A": "visit_cake_flowers", "B": "visit_cake", "C": "card_call"},
    # "生日、纪念日回访": the birthday's methods (SPEC §3.4 puts them in one row)
    ANNIVERSARY: {"A": "visit_cake_flowers", "B": "visit_cake", "C": "card_call"},
    # 特殊活动拜访 (开业、周年庆典), "回访对象：所有会员客户": a call and an SMS inviting to the day
    STORE: {"A": "phone_sms", "B": "phone_sms", "C": "phone_sms"},
}
# Seed 000 §(二)2 "E-mail积分信息告知": the tiers that also get an e-mail with their points on
# the day, where they left an address (the seed names it for these occasions only: the Spring
# Festival's C, the Dragon Boat's, Mid-Autumn's and Valentine's A, B and C). Contacts (no
# points) never: it is a member's points message.
EMAIL_POINTS: dict[str, str] = {"spring_festival": "C", "dragon_boat": "ABC", "mid_autumn": "ABC",
                                "valentine": "ABC"}

# Contacts who never bought (no points yet) get the non-member text on these occasions only.
CONTACT_KINDS = (FESTIVAL, COMPANY)
# Occasions for every member (a line per member of every store).
COMPANY_WIDE = (FESTIVAL, VALENTINE, COMPANY, SEASON)

SMS_TEMPLATES = {"spring_festival": "care_spring_festival", "dragon_boat": "care_dragon_boat",
                 "mid_autumn": "care_mid_autumn", "birthday": "care_birthday",
                 "anniversary": "care_anniversary", "store_anniversary": "care_store_anniversary"}


def sms_template(occasion_key: str, kind: str, *, contact: bool) -> str:
    """The outbox template of an occasion's greeting (the seed's text where it has one)."""
    if contact and occasion_key == "spring_festival":
        return "care_spring_festival_contact"
    if kind == SEASON:
        return "care_season"
    return SMS_TEMPLATES.get(occasion_key, "care_holiday")


def frequency_limited(now: datetime, among=None):
    """SPEC §3.4 frequency control: a member visited at least
    care_frequency_visits times (《客户回访情况登记表》, VisitRecord) in the last
    care_frequency_days, and the points have not grown since the first of those visits
    (points_at_visit) — such a member falls back to the quarterly cadence (season launches).
    Returns the grouped subquery of the window's often-visited members (member_id, p0: the
    points at the first visit) and the condition on it, for one outer join: set-based.
    `among`, a select of member ids, limits the visits read to those members' (a day's
    birthdays: a few thousand members' visits, not the window's every visit)."""
    since = now - timedelta(days=settings.get_int("care_frequency_days"))
    visits = select(VisitRecord.member_id, func.min(VisitRecord.points_at_visit).label("p0")).where(
        VisitRecord.visited_at >= since)
    if among is not None:
        visits = visits.where(VisitRecord.member_id.in_(among))
    visits = (visits.group_by(VisitRecord.member_id)
              .having(func.count() >= settings.get_int("care_frequency_visits")).subquery())
    return visits, and_(visits.c.member_id == Member.id, Member.points <= visits.c.p0)


def _eligible(occasion: Occasion, month_days: tuple[int, ...] = ()):
    """The SQL condition on Member for being in this occasion's batch (dead numbers included:
    they become excluded lines, so the manager sees why)."""
    condition = Member.status == "active"
    if occasion.kind == BIRTHDAY:
        condition = and_(condition, Member.birth_month_day.in_(month_days))
    elif occasion.kind == ANNIVERSARY:
        condition = and_(condition, Member.id.in_(  # the day's few rows by their index first
            select(MemberAnniversary.member_id).where(MemberAnniversary.month_day.in_(month_days))))
    elif occasion.kind == STORE:
        condition = and_(condition, Member.store_id == occasion.store_id)
    elif occasion.kind == GROUP:
        condition = and_(condition, Member.occupation == occasion.occupation)
    if occasion.kind not in CONTACT_KINDS:
        condition = and_(condition, Member.points > 0)
    return condition


def _method_sql(kind: str):
    methods = TIER_METHODS[kind]
    by_tier = sql_case((Member.tier == "A", methods["A"]), (Member.tier == "B", methods["B"]),
                   else_=methods["C"])
    if kind in CONTACT_KINDS:
        return sql_case((Member.points <= 0, "contact_sms"), else_=by_tier)
    return by_tier


def batch_sources(occasion: Occasion, month_days: tuple[int, ...] = ()):
    """One row per store with somebody to greet: the start_many source of the batch cases;
    timer_at: the end of the day it acts on (the occasion's, or a store anniversary's
    invitations'), when a batch still under review lapses (after_the_day, in SQL)."""
    key = f"care:{occasion.key}:{occasion.day.isoformat()}:"
    title = f"{occasion.day.isoformat()} "
    eligible = _eligible(occasion, month_days)
    return (select((literal(title) + Store.name + literal(" 关怀名单")).label("title"),
                   Store.id.label("store_id"), Store.area_id.label("area_id"),
                   literal(None, Integer).label("member_id"),
                   (literal(key) + Store.id.cast(String)).label("dedupe_key"),
                   literal(local_midnight_utc((occasion.act_on or occasion.day) + timedelta(days=1)),
                           TZDateTime).label("timer_at"))
            .where(exists().where(Member.store_id == Store.id, eligible)))


def _note(occasion: Occasion, month_days: tuple[int, ...]):
    """A line's note: the names of the member's anniversaries on the day ("结婚纪念日"), or
    the store anniversary's day."""
    if occasion.kind == STORE:  # the SMS says which day: "12月8日开业周年庆"
        return literal(f"{occasion.day.month}月{occasion.day.day}日{occasion.label}")
    if occasion.kind != ANNIVERSARY:
        return literal("")
    return (select(func.aggregate_strings(MemberAnniversary.name, "、"))
            .where(MemberAnniversary.member_id == Member.id,
                   MemberAnniversary.month_day.in_(month_days)).scalar_subquery())


def insert_lines(case_ids: list[int], occasion: Occasion, month_days: tuple[int, ...] = (),
                 *, now: datetime) -> None:
    """The batch lines of the new cases, one INSERT … SELECT: the tier's method; dead numbers
    and frequency-limited members (on any occasion but the quarterly season launch) as
    excluded lines with the reason."""
    rows = (select(Case.id, Member.id, Member.store_id, Member.tier, _method_sql(occasion.kind))
            .join(Member, Member.store_id == Case.store_id))
    limited = false()
    if occasion.kind != SEASON:
        # a company-wide occasion reads the window's visits once (a hash join); a day's
        # birthdays or one store's members only their own members' visits
        among = (None if occasion.kind in COMPANY_WIDE else
                 select(Member.id).where(_eligible(occasion, month_days)))
        visits, joined = frequency_limited(now, among)
        rows = rows.outerjoin(visits, joined)
        limited = visits.c.member_id.is_not(None)
    status = sql_case((Member.mobile_dead_at.is_not(None), "excluded"), (limited, "excluded"),
                  else_="planned")
    reason = sql_case((Member.mobile_dead_at.is_not(None), "dead_number"), (limited, "frequency"),
                  else_="")
    # In the order of the (case_id, member_id) key: its index grows at the end of each case's
    # range rather than at 200 places at once (a third faster at 1 M lines, the sort included).
    rows = (rows.add_columns(status, reason, _note(occasion, month_days))
            .where(ids_in(Case.id, case_ids), _eligible(occasion, month_days))
            .order_by(Case.id, Member.id))
    with _sort_memory(occasion.kind in COMPANY_WIDE):
        db.session.execute(insert(CareLine.__table__).from_select(
            ["case_id", "member_id", "store_id", "tier", "method", "status", "reason", "note"], rows))


@contextmanager
def _sort_memory(needed: bool):
    """A company-wide batch sorts a line per member (about 100 MB at 1 M members): PostgreSQL
    sorts it in memory for this statement rather than on disk (the default work_mem is 4 MB);
    the transaction's setting is restored after."""
    if not needed or db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    before = db.session.scalar(text("SELECT current_setting('work_mem')"))
    db.session.execute(text("SELECT set_config('work_mem', '256MB', true)"))
    try:
        yield
    finally:
        db.session.execute(text("SELECT set_config('work_mem', :mem, true)"), {"mem": before})


def occasion_day(case: Case) -> date:
    """The day the batch acts on: the occasion's, or its invitations' (a store anniversary)."""
    return date.fromisoformat(case.data.get("act_on") or case.data["day"])


def on_the_day(case: Case, now: datetime) -> datetime:
    """The morning of the occasion (setting care_day_hour, local time); now if already past."""
    at = local_midnight_utc(occasion_day(case)) + timedelta(hours=settings.get_int("care_day_hour"))
    return max(at, now)


def after_the_day(case: Case, now: datetime) -> datetime:
    """The end of the occasion's local day: a batch still under review then lapses."""
    return local_midnight_utc(occasion_day(case) + timedelta(days=1))


def approvable(case: Case, data: dict, now: datetime | None = None):
    """Approval is refused once the occasion's day is over (the greetings would go out late)
    and when no member is left to greet."""
    if local_date(now or clock.now()) > occasion_day(case):
        return N_("关怀日已过，名单不能再审核")
    return has_planned_lines(case, data)


def has_planned_lines(case: Case, data: dict):
    planned = db.session.scalar(select(func.count()).select_from(CareLine).where(
        CareLine.case_id == case.id, CareLine.status == "planned"))
    return None if planned else N_("名单中没有待关怀的会员")


def _start_actions(case: Case, kind_column, dedupe_suffix: str, now: datetime) -> list[int]:
    """A care_action case per planned line whose method has an action of this kind."""
    from .engine import get_process

    codes = {code: getattr(m, kind_column) for code, m in METHODS.items() if getattr(m, kind_column)}
    if not codes:
        return []
    action = sql_case(*[(CareLine.method == code, literal(ACTION_LABELS[a]))
                                for code, a in codes.items()])
    label = case.data.get("label", "")
    source = (select((literal(f"{label}：") + action + literal(" ") + Member.name).label("title"),
                     CareLine.store_id.label("store_id"), Store.area_id.label("area_id"),
                     CareLine.member_id.label("member_id"),
                     (literal("care_action:") + CareLine.id.cast(String)
                      + literal(dedupe_suffix)).label("dedupe_key"),
                     Member.associate_id.label("assignee_id"))
              .join(Member, Member.id == CareLine.member_id)
              .join(Store, Store.id == CareLine.store_id)
              .where(CareLine.case_id == case.id, CareLine.status == "planned",
                     CareLine.method.in_(list(codes))))
    return start_many(get_process("care_action"), source, now=now,
                      data={"batch": case.id, "kind": dedupe_suffix.strip(":")})


def prepare_gifts(case: Case, actor, data: dict, now: datetime) -> None:
    """Approved: gifts, cards and cakes become tasks for the member's associate, due by the
    end of the day before the occasion ("节日当天或者前一天")."""
    ids = _start_actions(case, "prep", ":prep", now)
    if ids:
        eve_end = local_midnight_utc(occasion_day(case))
        db.session.execute(update(Task).where(ids_in(Task.case_id, ids), Task.status == "open")
                           .values(due_at=max(eve_end, now), remind_at=None)
                           .execution_options(synchronize_session=False))


def carry_out(case: Case, actor, data: dict, now: datetime) -> None:
    """The day: calls and visits become tasks for the associates, greetings go to the outbox
    (at most one SMS per member per day, whatever the occasions)."""
    _start_actions(case, "on_day", ":day", now)
    sms_codes = [code for code, m in METHODS.items() if m.sms]
    start, end = day_window(local_date(now))
    # "one SMS a day" counts greetings and other marketing texts; a points or card notice
    # (a service message) does not take the day's greeting away
    already = select(OutboxMessage.member_id).where(
        OutboxMessage.channel == "sms", OutboxMessage.member_id == Member.id,
        OutboxMessage.template.in_(sorted(MARKETING)),
        OutboxMessage.created_at >= start, OutboxMessage.created_at < end)
    line = select(CareLine.id).where(
        CareLine.case_id == case.id, CareLine.member_id == Member.id, CareLine.status == "planned",
        CareLine.method.in_(sms_codes))
    note = (select(CareLine.note).where(CareLine.case_id == case.id, CareLine.member_id == Member.id)
            .scalar_subquery())
    key, kind, label = case.data["occasion"], case.data["kind"], case.data.get("label", "")
    # set-based (a Spring Festival day is a greeting per member: ~1 M at 1 M members): one
    # INSERT … SELECT per template, the text filled by the database (outbox.queue_sms_many)
    for contact in (False, True):
        buyers = Member.points <= 0 if contact else Member.points > 0
        queue_sms_many(sms_template(key, kind, contact=contact), and_(
            exists(line), buyers, ~exists(already)),
            columns={"occasion": func.coalesce(func.nullif(note, ""), label)})
    _queue_points_emails(case, key, label, start, end)
    db.session.flush()


def _queue_points_emails(case: Case, key: str, label: str, start: datetime, end: datetime) -> None:
    """The day's e-mail with the points (EMAIL_POINTS) to the batch's planned members of those
    tiers who left an address; at most one such e-mail per member per day."""
    tiers = EMAIL_POINTS.get(key)
    if not tiers:
        return
    already = select(OutboxMessage.member_id).where(
        OutboxMessage.channel == "email", OutboxMessage.member_id == CareLine.member_id,
        OutboxMessage.template == "care_points_email",
        OutboxMessage.created_at >= start, OutboxMessage.created_at < end)
    members = db.session.scalars(
        select(Member).join(CareLine, CareLine.member_id == Member.id)
        .where(CareLine.case_id == case.id, CareLine.status == "planned",
               CareLine.tier.in_(list(tiers)), Member.points > 0, Member.email.is_not(None),
               Member.email != "", ~exists(already))).all()
    subject = f"{settings.get('brand_name')}祝您{label}快乐"
    for member in members:
        queue_email(member, "care_points_email", subject=subject, extra={"occasion": label})


def lines_summary(case_ids: list[int]) -> dict[int, int]:
    """Planned lines per batch (the case list shows the count)."""
    rows = db.session.execute(select(CareLine.case_id, func.count()).where(
        ids_in(CareLine.case_id, case_ids), CareLine.status == "planned")
        .group_by(CareLine.case_id)).all()
    return dict(rows)

