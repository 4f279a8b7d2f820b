"""Card expiry and renewal (SPEC §2 card validity, §3.6; seed 004 §1.2 到期会员资料管理).

"每月5日之前整理出会员卡次月即将到期的会员名单，完成《xx月到期会员名单》":
- On the 1st of each month the system opens the month's list case (one for the company) and
  builds the list set-based (workflows/expiry_steps.build_list): members whose card expires next
  month and who met the waiver in their card year ("当年消费满3次或累计满1000元，可免次年年费",
  settings expiry_waiver_purchases / expiry_waiver_yuan) are renewed by the system with an SMS;
  every other one gets a call case. HQ customer service checks the list by the end of the 4th
  (setting expiry_list_due), reminded, then escalated to the CS manager.
- "将到期会员通知相应门店": each store with members on the list gets a notice in its inbox.
- "对名单中的会员作电话回访…否则要再次缴纳会费": the call task carries the filled script; HQ
  records the outcome: renews and pays (fee and store) / declines / no answer (again the next
  working day, at most expiry_call_attempts calls, then "unreachable" stands) / number dead.
- A listed member who meets the waiver before expiry (a sale by any path) is renewed then and the
  call closes itself ("waived"). At the expiry moment a card not renewed lapses (system): the
  member stays a contact (status lapsed) and can renew later by paying, from the old expiry date.
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .engine import Process, Recurring, TaskSpec, Timer, Transition, register
from .expiry_steps import (OPEN_CALL_STATES, build_list, count_attempt, flag_dead_number, lapse,
                           lapse_timer, last_attempt, may_call_again, on_sales, record_outcome,
                           renew_by_payment, valid_payment)

HQ = frozenset({Role.HQ_SPECIALIST, Role.HQ_MANAGER})
SYSTEM = frozenset()

expiry_list = register(Process(
    name="expiry_list",
    label=N_("到期会员名单"),
    states={"check": N_("待核对名单并安排回访"), "done": N_("已核对")},
    initial="check",
    start_roles=frozenset(),  # opened by the system on the 1st of each month
    transitions=(
        Transition("checked", N_("名单已核对，开始回访"), ("check",), "done", HQ),
    ),
    tasks={"check": TaskSpec("check_expiry_list", N_("核对次月到期会员名单并安排电话回访"),
                             Role.HQ_SPECIALIST, due_setting="expiry_list_due",
                             remind_setting="expiry_list_remind_hours",
                             escalate_to=Role.HQ_MANAGER)},
    final=frozenset({"done"}),
    recurring=Recurring("monthly", per="company", day=1,
                        title=lambda key: f"{key} 次月到期会员名单", then=build_list),
))

LAPSE = (Timer("lapse", at=lapse_timer),)

expiry_call = register(Process(
    name="expiry_call",
    label=N_("会员卡到期回访"),
    states={"call": N_("待致电告知到期"), "declined": N_("会员不续卡，到期失效"),
            "unreachable": N_("多次未接通"), "dead_number": N_("空号/停机"),
            "renewed": N_("已缴费续卡"), "waived": N_("已达免年费条件，自动续卡"),
            "lapsed": N_("会员卡已过期")},
    initial="call",
    start_roles=frozenset(),  # opened by the month's list
    transitions=(
        Transition("renew_paid", N_("续卡并已缴费"), OPEN_CALL_STATES + ("lapsed",), "renewed", HQ,
                   guard=valid_payment, effect=renew_by_payment, asks=True),
        Transition("decline", N_("会员不续卡"), ("call",), "declined", HQ, style="danger",
                   effect=record_outcome("declined")),
        Transition("no_answer", N_("无人接听：下一工作日再拨"), ("call",), "call", HQ,
                   style="plain", guard=may_call_again, effect=count_attempt),
        Transition("unreachable", N_("多次未接通"), ("call",), "unreachable", HQ, style="plain",
                   guard=last_attempt, effect=record_outcome("unreachable")),
        Transition("dead_number", N_("空号/停机"), ("call",), "dead_number", HQ, style="plain",
                   effect=flag_dead_number),
        Transition("waived", N_("到期前达到免年费条件"), OPEN_CALL_STATES, "waived", SYSTEM,
                   system=True),
        Transition("lapse", N_("到期未续卡，会员卡失效"), OPEN_CALL_STATES, "lapsed", SYSTEM,
                   system=True, effect=lapse),
    ),
    tasks={"call": TaskSpec("expiry_call", N_("致电告知会员卡到期"), Role.HQ_SPECIALIST,
                            due_setting="expiry_call_due", escalate_to=Role.HQ_MANAGER,
                            script="expiry_call")},
    timers={state: LAPSE for state in OPEN_CALL_STATES},
    final=frozenset({"renewed", "waived"}),
    on_event=(("sales_recorded", on_sales),),
))
