"""The formal-card process's rules and effects (workflows/formal_card.py declares where they apply)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, literal, select

from .. import settings
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import N_
from ..models import Case, Member, Store
from ..outbox import queue_sms_many
from .engine import ids_in


def qualifying_members(member_ids: list[int]):
    """Temporary, active members among `member_ids` whose accumulated points reached the
    threshold: one case each, ever (dedupe key formal_card:<member>)."""
    return (select((literal("正式会员卡 ") + Member.card_no).label("title"),
                   Member.store_id.label("store_id"), Store.area_id.label("area_id"),
                   Member.id.label("member_id"),
                   (literal("formal_card:") + Member.id.cast(String)).label("dedupe_key"))
            .join(Store, Store.id == Member.store_id)
            .where(ids_in(Member.id, member_ids), Member.status == "active",
                   Member.card_type == "temporary",
                   Member.points >= settings.get_int("formal_points_threshold")))


def welcome_formal(case_ids: list[int], now: datetime) -> None:
    """"1天内短信通知入会": the formal-member SMS for each member whose case just started."""
    # Set-based: an import can take tens of thousands of members over the threshold at once.
    queue_sms_many("welcome_formal", Member.id.in_(
        select(Case.member_id).where(ids_in(Case.id, case_ids))))  # skips numbers flagged dead


def may_call_again(case, data):
    attempts = int(case.data.get("call_attempts", 0)) + 1
    if attempts >= settings.get_int("formal_pickup_call_attempts"):
        return N_("已达最多拨打次数，请选择其他结果（如邮寄或日后补发）")
    return None


def count_attempt(case, actor, data, now):
    case.data = {**case.data, "call_attempts": int(case.data.get("call_attempts", 0)) + 1}


def issue_card(case, actor, data, now):
    """The card is formal: number from the temporary series (T…) to the formal one (F…, same
    digits); the old number is kept so that it still finds the member."""
    member = case.member
    if member.card_type == "formal":
        return
    member.previous_card_no = member.card_no
    member.card_no = "F" + member.card_no[1:] if member.card_no.startswith("T") else "F" + member.card_no
    member.card_type = "formal"
    member.card_issued_on = local_date(now)
