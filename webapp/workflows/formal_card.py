"""Formal membership and card pickup (SPEC §3.2; seed 000 §二 steps 5–8, §(二)1 "5").

"累计积分满XX分时，会员卡须在售后第5天发放":
- The sale that takes a temporary member's accumulated points to the threshold (setting
  formal_points_threshold) starts this case, in the sale's own transaction, whichever way the sale
  came (DataRule on "sales_recorded"); the welcome SMS ("恭喜您成为…正式会员…请您在5天来店领取")
  goes into the outbox at once ("一天内短信告知").
- "资料传送至总部制卡": HQ customer service makes the card and sends it to the store.
- "售后第5天电话通知": on day 5 after the qualifying sale (setting formal_pickup_call_day, "day:5")
  the member's assigned associate gets the call task with the seed's script, and its answer drives
  the case: coming today → hand over at the store; coming later → the store holds the card
  (setting formal_card_hold_due) with a follow-up on that day; cannot come → HQ mails it to the
  confirmed address; away for a long time → issued later from the purchase record; no answer →
  call again the next working day (at most formal_pickup_call_attempts calls).
- Handing over (or mailing) makes the card formal: its number moves from the temporary series
  (T…) to the formal one (F…, same digits); the old number still finds the member.
"""
from __future__ import annotations

from .. import settings
from ..calendar import parse_rule
from ..i18n_labels import N_
from ..models import Role
from .engine import DataRule, Process, TaskSpec, Timer, Transition, register
from .formal_card_steps import (count_attempt, issue_card, may_call_again, qualifying_members,
                                welcome_formal)

HQ = frozenset({Role.HQ_SPECIALIST, Role.HQ_MANAGER})
STORE = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER})


def day_five(case, now):
    """The morning of day 5 counted from the qualifying sale (the case opened with it)."""
    rule = parse_rule(settings.get("formal_pickup_call_day"))
    return rule.due(case.created_at, settings.calendar_policy())


def member_associate(case):
    return case.member.associate_id if case.member else None


formal_card = register(Process(
    name="formal_card",
    label=N_("正式会员卡发放"),
    states={"card_requested": N_("待总部制卡"), "card_sent": N_("卡已送至门店，待第5天致电"),
            "call": N_("待致电邀请领卡"), "at_store": N_("顾客今日来店领卡"),
            "held": N_("门店留卡，待顾客来店"), "mailing": N_("待总部邮寄"),
            "deferred": N_("顾客长期外出，日后凭购物记录补发"), "issued": N_("已发卡")},
    initial="card_requested",
    start_roles=frozenset(),  # started by the qualifying sale
    transitions=(
        Transition("card_sent", N_("已制卡并送至门店"), ("card_requested",), "card_sent", HQ),
        Transition("start_call", N_("第5天：致电邀请领卡"), ("card_sent",), "call", frozenset(),
                   system=True),
        Transition("coming_today", N_("顾客今天来店"), ("call",), "at_store", STORE),
        Transition("coming_later", N_("顾客稍后来店（门店留卡）"), ("call",), "held", STORE),
        # "mail it" and "I am leaving soon" come up already at the qualifying sale (000 L93–96)
        Transition("mail_it", N_("顾客不能来店：邮寄（已确认地址）"),
                   ("card_requested", "card_sent", "call"), "mailing", STORE),
        Transition("away_long", N_("顾客长期外出：日后凭购物记录补发"),
                   ("card_requested", "card_sent", "call"), "deferred", STORE, style="plain"),
        Transition("no_answer", N_("无人接听：下一工作日再拨"), ("call",), "call", STORE,
                   style="plain", guard=may_call_again, effect=count_attempt),
        Transition("call_again", N_("顾客未按约来店：再次致电"), ("held",), "call", STORE,
                   style="plain"),
        Transition("handed_over", N_("已当面交付会员卡"), ("at_store", "held"), "issued", STORE,
                   effect=issue_card),
        Transition("mailed", N_("已邮寄会员卡"), ("mailing",), "issued", HQ, effect=issue_card),
        Transition("reissue", N_("顾客回来：凭购物记录补发"), ("deferred",), "at_store", STORE),
    ),
    tasks={
        "card_requested": TaskSpec("make_card", N_("制作正式会员卡并送至门店"), Role.HQ_SPECIALIST,
                                   due_setting="formal_card_make_due", escalate_to=Role.HQ_MANAGER,
                                   script="tell_formal"),
        "call": TaskSpec("pickup_call", N_("第5天致电邀请领取正式会员卡"), Role.ASSOCIATE,
                         due_setting="formal_pickup_call_due", escalate_to=Role.STORE_MANAGER,
                         assignee=member_associate, script="pickup_call"),
        "at_store": TaskSpec("hand_over", N_("交付正式会员卡"), Role.ASSOCIATE,
                             due_setting="formal_pickup_call_due", assignee=member_associate,
                             script="hand_over"),
        "held": TaskSpec("follow_up", N_("留卡跟进：顾客约定来店"), Role.ASSOCIATE,
                         due_setting="formal_card_hold_due", escalate_to=Role.STORE_MANAGER,
                         assignee=member_associate),
        "mailing": TaskSpec("mail_card", N_("邮寄正式会员卡"), Role.HQ_SPECIALIST,
                            due_setting="formal_card_make_due", escalate_to=Role.HQ_MANAGER),
    },
    timers={"card_sent": (Timer("start_call", at=day_five),)},
    final=frozenset({"issued"}),
    started_by=DataRule("sales_recorded", qualifying_members, then=welcome_formal),
))
