"""Care batches by tier (SPEC §3.4; seed 000 §(二)2 终端客户回访计划).

"针对不同客户级别，实施不同拜访计划" — for each occasion (occasions.py), `care_lead_days` ahead
(birthdays `care_birthday_lead_days`), the system opens one batch per store, its lines written
set-based with the method of each member's tier (care_batch_steps.TIER_METHODS):
- 待店长审核: the store manager reviews the list (removes a line, changes a method, adds a
  member — services/care.py) and approves it with one click. Numbers marked dead are already
  excluded, with the reason. A batch not approved by the end of the occasion's day lapses
  (过期未审核): greetings are not sent late, and approving after the day is refused.
- 已审核: gifts, cards and cakes become tasks for the member's associate due by the eve of the
  occasion ("回访时间：节日当天或者前一天"); on the morning of the day (setting care_day_hour) the
  system sends the greetings to the outbox (at most one SMS per member per day) and gives the
  calls and visits to the associates as tasks of the day (process care_action).
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .care_batch_steps import after_the_day, approvable, carry_out, on_the_day, prepare_gifts
from .engine import Process, TaskSpec, Timer, Transition, register

STORE = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER})

care_batch = register(Process(
    name="care_batch",
    label=N_("会员关怀名单"),
    states={"review": N_("待店长审核"), "approved": N_("已审核，待关怀日"), "done": N_("已执行"),
            "expired": N_("关怀日已过，未审核")},
    initial="review",
    start_roles=frozenset(),  # opened by the daily job, per store and occasion
    transitions=(
        Transition("approve", N_("审核通过"), ("review",), "approved",
                   frozenset({Role.STORE_MANAGER}), guard=approvable, effect=prepare_gifts),
        Transition("carry_out", N_("关怀日：发送短信、派发任务"), ("approved",), "done", frozenset(),
                   system=True, effect=carry_out),
        Transition("expire", N_("关怀日已过，名单作废"), ("review",), "expired", frozenset(),
                   system=True),
    ),
    tasks={"review": TaskSpec("review_care", N_("审核会员关怀名单"), Role.STORE_MANAGER,
                              due_setting="care_review_due", escalate_to=Role.AREA_SUPERVISOR)},
    timers={"review": (Timer("expire", at=after_the_day),),
            "approved": (Timer("carry_out", at=on_the_day),)},
    final=frozenset({"done", "expired"}),
))

care_action = register(Process(
    name="care_action",
    label=N_("会员关怀任务"),
    states={"todo": N_("待执行"), "done": N_("已完成"), "unreachable": N_("未能联系")},
    initial="todo",
    start_roles=frozenset(),  # opened from an approved batch
    transitions=(
        Transition("done", N_("已完成"), ("todo",), "done", STORE),
        Transition("unreachable", N_("未能联系"), ("todo",), "unreachable", STORE, style="plain"),
    ),
    tasks={"todo": TaskSpec("care_action", N_("会员关怀：电话、拜访或礼品"), Role.ASSOCIATE,
                            due_setting="care_action_due", escalate_to=Role.STORE_MANAGER,
                            script="care_call")},
    final=frozenset({"done", "unreachable"}),
))
