"""The day-3 after-sale call of the 1-3-5 plan (SPEC §3.3; seed 000 §(二)1 "3", (2) 售后3天电话回访).

"回访时间 顾客购买后第3天；回访对象 任何在3天前发生购买行为的新/老顾客":
- Day 3 counts the sale day as day 1 (as the day-5 card call does): a sale on local day D-2 is
  called on day D. The daily job starts the cases set-based (services/aftersale.start_due_calls →
  engine.start_many), one per member and sale day (dedupe key aftersale_call:<yyyymmdd>:<member>),
  for active members whose number is not flagged dead, assigned to the member's associate.
- "call": the associate calls with the seed's script (satisfaction with the item, washing and
  care advice, the offer to wash it in the store, optionally news and points) and records the
  outcome: reached → done; no answer → call again the next working day (at most
  aftersale_call_attempts calls, then "not reached" closes it); number dead → the member's number
  is flagged (Member.mobile_dead_at): no further call case and no SMS is planned to it.
- "对顾客提出意见和问题须在三天内进行处理并回复": a problem raised on the call opens the follow-up
  task, due in three working days (aftersale_problem_due), escalated to the store manager when late;
  answering it (with what was done) closes the case.
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .aftersale_call_steps import count_attempt, flag_number_dead, may_call_again
from .engine import Process, TaskSpec, Transition, register

STORE = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER})


def member_associate(case):
    return case.member.associate_id if case.member else None


aftersale_call = register(Process(
    name="aftersale_call",
    label=N_("售后第3天电话回访"),
    states={"call": N_("待售后第3天回访致电"), "retry": N_("无人接听，下一工作日再拨"),
            "problem": N_("顾客反映问题，待三天内处理答复"), "done": N_("已回访"),
            "not_reached": N_("多次未接通"), "number_dead": N_("号码无效（空号/停机）")},
    initial="call",
    start_roles=frozenset(),  # started by the daily job from the sales of day D-2
    transitions=(
        Transition("reached", N_("已接通：顾客满意"), ("call", "retry"), "done", STORE),
        Transition("problem", N_("已接通：顾客反映问题"), ("call", "retry"), "problem", STORE,
                   comment_required=True, style="danger"),
        Transition("no_answer", N_("无人接听：下一工作日再拨"), ("call", "retry"), "retry", STORE,
                   style="plain", guard=may_call_again, effect=count_attempt),
        Transition("give_up", N_("多次未接通：结束回访"), ("retry",), "not_reached", STORE,
                   style="plain"),
        Transition("number_dead", N_("空号/停机：标记号码无效"), ("call", "retry"), "number_dead",
                   STORE, style="danger", effect=flag_number_dead),
        Transition("answered", N_("问题已处理并答复顾客"), ("problem",), "done", STORE,
                   comment_required=True),
    ),
    tasks={
        "call": TaskSpec("aftersale_call", N_("售后第3天电话回访"), Role.ASSOCIATE,
                         due_setting="aftersale_call_due", escalate_to=Role.STORE_MANAGER,
                         assignee=member_associate, script="aftersale_call"),
        "retry": TaskSpec("aftersale_retry", N_("售后回访：再次致电"), Role.ASSOCIATE,
                          due_setting="aftersale_retry_due", escalate_to=Role.STORE_MANAGER,
                          assignee=member_associate, script="aftersale_call"),
        "problem": TaskSpec("aftersale_problem", N_("处理并答复回访中顾客反映的问题"), Role.ASSOCIATE,
                            due_setting="aftersale_problem_due", escalate_to=Role.STORE_MANAGER,
                            assignee=member_associate),
    },
    final=frozenset({"done", "not_reached", "number_dead"}),
))
