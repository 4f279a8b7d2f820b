"""The after-sale call's rules and effects (workflows/aftersale_call.py declares where they apply)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import String, exists, literal, select

from .. import settings
from ..calendar import local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_
from ..models import AuditEvent, Member, Sale, Store


def may_call_again(case, data):
    attempts = int(case.data.get("call_attempts", 0)) + 1
    if attempts >= settings.get_int("aftersale_call_attempts"):
        return N_("已达最多拨打次数，请选择“多次未接通：结束回访”")
    return None


def count_attempt(case, actor, data, now):
    case.data = {**case.data, "call_attempts": int(case.data.get("call_attempts", 0)) + 1}


def flag_number_dead(case, actor, data, now):
    """空号/停机: the member's number is flagged; no call case or SMS is planned to it until staff
    correct it (outbox.queue_sms skips it, the call source leaves it out)."""
    member = case.member
    if member is not None and member.mobile_dead_at is None:
        member.mobile_dead_at = now
        db.session.add(AuditEvent(object_type="member", object_id=member.id,
                                  actor_id=actor.id if actor else None, at=now,
                                  action="mobile_dead", data={"case": case.id}))


def members_who_bought_on(day: date):
    """One source row per active member with a sale (not a return) on local `day` whose number is
    not flagged dead: the day-3 call, assigned to the member's associate. Rows already started
    are skipped by the dedupe key (start_many's ON CONFLICT; no NOT EXISTS needed here)."""
    start, end = local_midnight_utc(day), local_midnight_utc(date.fromordinal(day.toordinal() + 1))
    key = literal(f"aftersale_call:{day:%Y%m%d}:") + Member.id.cast(String)
    bought = exists().where(Sale.member_id == Member.id, Sale.return_of_id.is_(None),
                            Sale.sold_at >= start, Sale.sold_at < end)
    # the tier in the title: inboxes and the call task show it without another join
    return (select((literal("售后回访 ") + Member.card_no + literal(" ") + Member.tier
                    + literal("级")).label("title"),
                   Member.store_id.label("store_id"), Store.area_id.label("area_id"),
                   Member.id.label("member_id"), key.label("dedupe_key"),
                   Member.associate_id.label("assignee_id"))
            .join(Store, Store.id == Member.store_id)
            .where(Member.status == "active", Member.mobile_dead_at.is_(None), bought))

