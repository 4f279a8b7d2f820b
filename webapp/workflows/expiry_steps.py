"""The card-expiry process's rules and effects (workflows/expiry.py declares where they apply).

"This year" of the waiver is the card year ending at expiry: sales whose local date lies after
the same day `card_validity_months` earlier and on or before the expiry date (SPEC §3.9 "the
waiver counts the 12 months before expiry"). Purchases are net tickets (a full return takes one
back), the amount is net spend (returns deducted). Dates differ per member, so the windows are
a CASE over the month's (at most 31) expiry dates: one statement for any number of members.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Integer, String, case, func, insert, literal, or_, select, update

from .. import settings, staff_alerts
from ..calendar import add_months, local_date, local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_
from ..models import (Case, CardRenewal, Member, Notification, Role, Sale, Store,
                      Task, TZDateTime)
from ..outbox import queue_sms_many
from ..periods import Month
from .engine import fire, get_process, ids_in, start_many

OPEN_CALL_STATES = ("call", "declined", "unreachable", "dead_number")


def _by_expiry(values: dict[date, object], type_=TZDateTime):
    """SQL: the value for the member's expiry date (one of the month's days)."""
    return case({d: literal(v, type_) for d, v in values.items()}, value=Member.card_expires_on)


def expiry_moment(d: date) -> datetime:
    """A card is valid through its expiry date: it lapses at the next local midnight."""
    return local_midnight_utc(d + timedelta(days=1))


def waiver_met(days: list[date]):
    """SQL condition on Member: the waiver met in the card year ending at the member's expiry
    (the member's expiry date among `days`). Per member one range read of the sale index
    (member_id, sold_at), which also carries the summed columns: the database reads the index
    alone, as a hand-written LATERAL query would."""
    months = settings.get_int("card_validity_months")
    starts = _by_expiry({d: expiry_moment(add_months(d, -months)) for d in days})
    ends = _by_expiry({d: expiry_moment(d) for d in days})
    met = (select(case((or_(
        func.sum(Sale.ticket_delta) >= settings.get_int("expiry_waiver_purchases"),
        func.sum(Sale.amount_fen) >= settings.get_int("expiry_waiver_yuan") * 100), 1), else_=0))
        .where(Sale.member_id == Member.id, Sale.sold_at >= starts, Sale.sold_at < ends)
        .correlate(Member).scalar_subquery())
    return met == 1


def renew_by_waiver(condition, days: list[date], *, now: datetime, case_id=None) -> list[int]:
    """Renew, set-based, the active members matching `condition` whose card expires on one of
    `days` and who met the waiver; record each renewal, tell each member by SMS; their ids."""
    months = settings.get_int("card_validity_months")
    ids = db.session.scalars(select(Member.id).where(
        condition, Member.status == "active", Member.card_expires_on.in_(days),
        waiver_met(days))).all()
    if not ids:
        return []
    chosen = ids_in(Member.id, ids)
    new_date = _by_expiry({d: add_months(d, months) for d in days}, db.Date)
    db.session.execute(insert(CardRenewal).from_select(
        ["member_id", "kind", "old_expires_on", "new_expires_on", "fee_fen", "case_id", "created_at"],
        select(Member.id, literal("waiver"), Member.card_expires_on, new_date, literal(0),
               literal(case_id, Integer), literal(now, TZDateTime)).where(chosen)))
    db.session.execute(update(Member).where(chosen).values(card_expires_on=new_date)
                       .execution_options(synchronize_session=False))
    db.session.expire_all()
    queue_sms_many("card_renewed", chosen, columns={"expires_on": Member.card_expires_on})
    if staff_alerts.subscribed("card.renewed"):  # other systems: one event per renewed member
        staff_alerts.emit_many("card.renewed", [
            (m.id, {"member_id": m.id, "card_no": m.card_no, "store_id": m.store_id,
                    "kind": "waiver", "card_expires_on": m.card_expires_on, "fee_yuan": "0.00"})
            for m in db.session.scalars(select(Member).where(chosen))], now=now)
    return ids


def target_month(period: str) -> Month:
    """The list made in month `period` ("2026-11") is of the cards expiring the month after."""
    return Month.parse(period).next()


def month_days(month: Month) -> list[date]:
    first, last = month.first_day, month.last_day
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def build_list(case_ids: list[int], now: datetime) -> None:
    """The month's list (Recurring.then): renew the members who met the waiver, open one call
    case per other member whose card expires next month, notify the stores concerned."""
    list_case = db.session.get(Case, case_ids[0])
    month = target_month(list_case.data["period"])
    days = month_days(month)
    renew_by_waiver(Member.id.is_not(None), days, now=now)
    key = f":{month.key}"
    source = (select((literal("到期致电 ") + Member.card_no).label("title"),
                     Member.store_id.label("store_id"), Store.area_id.label("area_id"),
                     Member.id.label("member_id"),
                     (literal("expiry:") + Member.id.cast(String) + literal(key)).label("dedupe_key"),
                     _by_expiry({d: expiry_moment(d) for d in days}).label("timer_at"))
              .join(Store, Store.id == Member.store_id)
              .where(Member.status == "active", Member.card_expires_on.in_(days)))
    ids = start_many(get_process("expiry_call"), source, now=now, data={"month": month.key})
    list_case.data = {**list_case.data, "month": month.key, "listed": len(ids)}
    task_id = db.session.scalar(select(Task.id).where(Task.case_id == list_case.id))
    if task_id is None:
        return
    # "将到期会员通知相应门店": one notice per store concerned, to its manager's inbox
    stores = (select(Case.store_id).where(Case.process == "expiry_call",
                                          Case.dedupe_key.like(f"expiry:%{key}"))
              .distinct().subquery())
    db.session.execute(insert(Notification).from_select(
        ["task_id", "kind", "role", "store_id", "area_id", "created_at"],
        select(literal(task_id), (literal("list:") + stores.c.store_id.cast(String)),
               literal(Role.STORE_MANAGER.name), stores.c.store_id, Store.area_id,
               literal(now, TZDateTime)).join(Store, Store.id == stores.c.store_id)))


def on_sales(*, now: datetime, member_ids: list[int] = (), **_) -> None:
    """"名单中的会员在到期前达到条件": renewed at once, their call closes itself (reason audited)."""
    if not member_ids:
        return
    chosen = ids_in(Member.id, list(member_ids))
    open_cases = db.session.scalars(select(Case).join(Member, Member.id == Case.member_id).where(
        chosen, Case.process == "expiry_call", Case.state.in_(OPEN_CALL_STATES),
        Member.card_expires_on >= local_date(now))).all()
    by_member = {c.member_id: c for c in open_cases}
    if not by_member:
        return
    days = sorted({c.member.card_expires_on for c in open_cases})
    renewed = renew_by_waiver(ids_in(Member.id, list(by_member)), days, now=now)
    for member_id in renewed:
        case_ = by_member[member_id]
        fire(case_, "waived", None, version=case_.version, now=now,
             comment="到期前达到免年费条件，已自动续卡")


def lapse_timer(case, now):
    return expiry_moment(case.member.card_expires_on)


def may_call_again(case, data):
    if int(case.data.get("call_attempts", 0)) + 1 >= settings.get_int("expiry_call_attempts"):
        return N_("已达最多拨打次数，请选择“多次未接通”")
    return None


def last_attempt(case, data):
    if int(case.data.get("call_attempts", 0)) + 1 < settings.get_int("expiry_call_attempts"):
        return N_("尚未达到最多拨打次数，请选择“无人接听：下一工作日再拨”")
    return None


def count_attempt(case, actor, data, now):
    case.data = {**case.data, "call_attempts": int(case.data.get("call_attempts", 0)) + 1}


def record_outcome(outcome):
    def effect(case, actor, data, now):
        case.data = {**case.data, "outcome": outcome}
    effect.__name__ = f"record_{outcome}"
    return effect


def flag_dead_number(case, actor, data, now):
    case.data = {**case.data, "outcome": "dead_number"}
    case.member.mobile_dead_at = now


def lapse(case, actor, data, now):
    """The card was not renewed: the member stays a contact (record kept, status lapsed)."""
    case.member.status = "lapsed"


def valid_payment(case, data):
    fee, store_id = data.get("fee_fen"), data.get("store_id")
    if not isinstance(fee, int) or fee < 0:
        return N_("请填写实收年费")
    if not store_id or db.session.get(Store, store_id) is None:
        return N_("请选择缴费门店")
    return None


def renew_by_payment(case, actor, data, now):
    """Renewal with the fee paid: the new year runs from the old expiry date, not from today."""
    member = case.member
    old = member.card_expires_on
    new = add_months(old, settings.get_int("card_validity_months"))
    db.session.add(CardRenewal(member_id=member.id, kind="payment", old_expires_on=old,
                               new_expires_on=new, fee_fen=data["fee_fen"],
                               paid_store_id=data["store_id"], case_id=case.id,
                               created_by_id=actor.id if actor else None, created_at=now))
    member.card_expires_on = new
    member.status = "active"
    staff_alerts.emit("card.renewed", {
        "member_id": member.id, "card_no": member.card_no, "store_id": member.store_id,
        "kind": "payment", "card_expires_on": new, "old_expires_on": old,
        "fee_yuan": str((Decimal(data["fee_fen"]) / 100).quantize(Decimal("0.01")))},
        object_id=member.id, now=now)
    case.data = {**case.data, "outcome": "paid"}
