"""Complaint handling (SPEC §3.7; seed 004 §6.2): two declared processes sharing their steps.

Every complaint: reply within 24 h, solution within 48 h (both from receipt), revisit within one
week of the solution. A solution is carried out only after the customer agreed to it: `carry_out`
leaves only from `agreed`, which only `consent` reaches.

- Direct complaints (phone, e-mail, IM to HQ): the HQ specialist handles them; beyond their
  authority they agree a reply time with the customer and escalate at once to the CS manager,
  who proposes the solution or hands it back with a decision. A breach escalates to the CS manager.
- Store complaints: the store and its area supervisor handle them and submit the handling form to
  HQ, which makes the final revisit and satisfaction survey. A breach goes to the area supervisor
  and to HQ.
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .engine import Process, TaskSpec, Transition, register

S, M = Role.HQ_SPECIALIST, Role.HQ_MANAGER
HQ = frozenset({S, M})
STORE_SIDE = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER, Role.AREA_SUPERVISOR})


def _effect(name):
    def run(case, actor, data, now):
        from ..services import complaints

        effect = getattr(complaints, f"on_{name}", None)
        if effect:
            effect(case, actor, data, now)
    return run


def _guard(name):
    def check(case, data):
        from ..services import complaints

        guard = getattr(complaints, f"check_{name}", None)
        return guard(case, data) if guard else None
    return check


def reply_due(case, now):
    return case.complaint.reply_due_at


def solution_due(case, now):
    return case.complaint.solution_due_at


def decision_due(case, now):
    """The manager decides by the agreed reply time, or by the solution limit once replied."""
    c = case.complaint
    return c.reply_due_at if c.replied_at is None else c.solution_due_at


def revisit_due(case, now):
    return case.complaint.revisit_due_at


# Steps whose form asks for something (the reply, the solution, who agreed…).
ASKING = {"reply", "escalate", "propose", "consent", "revisit", "survey"}


def step(name, label, source, target, roles, **kw):
    """A transition whose guard and effect, where it has them, live in services/complaints.py
    as check_<name> / on_<name>."""
    return Transition(name, label, source, target, roles, guard=_guard(name), effect=_effect(name),
                      asks=name in ASKING, **kw)


def _handling(roles, *, escalate_to, escalate_also=None, handler=S):
    """The shared reply → proposal → consent → carried-out steps and their tasks."""
    transitions = (
        step("reply", N_("回复顾客"), ("open",), "replied", roles),
        step("propose", N_("提出解决方案"), ("replied",), "proposed", roles),
        step("consent", N_("记录顾客同意"), ("proposed",), "agreed", roles),
        step("reject", N_("顾客不同意,重新提方案"), ("proposed",), "replied", roles, style="danger"),
        step("carry_out", N_("执行解决方案"), ("agreed",), "solved", roles),
    )
    remind = "complaint_remind_hours"
    tasks = {
        "open": TaskSpec("reply", N_("24小时内回复顾客"), handler, due=reply_due,
                         remind_setting=remind, escalate_to=escalate_to, escalate_also=escalate_also),
        "replied": TaskSpec("propose", N_("48小时内给出解决方案"), handler, due=solution_due,
                            remind_setting=remind, escalate_to=escalate_to, escalate_also=escalate_also),
        "proposed": TaskSpec("consent", N_("征得顾客同意"), handler, due=solution_due,
                             remind_setting=remind, escalate_to=escalate_to, escalate_also=escalate_also),
        "agreed": TaskSpec("carry_out", N_("执行解决方案"), handler, due=solution_due,
                           remind_setting=remind, escalate_to=escalate_to, escalate_also=escalate_also),
    }
    return transitions, tasks


def _closing(start_state):
    """HQ's revisit within a week, the satisfaction survey, filing and reopening."""
    transitions = (
        step("revisit", N_("完成回访"), (start_state,), "revisited", HQ),
        step("survey", N_("记录满意度并归档"), ("revisited",), "filed", HQ),
        step("reopen", N_("重新打开"), ("filed",), "replied", HQ, comment_required=True, style="danger"),
    )
    tasks = {
        start_state: TaskSpec("revisit", N_("1周内回访顾客"), S, due=revisit_due,
                              remind_setting="complaint_revisit_remind_hours", escalate_to=M),
        "revisited": TaskSpec("survey", N_("满意度调查"), S, due_setting="complaint_survey_due"),
    }
    return transitions, tasks


STATES = {"open": N_("待回复"), "replied": N_("待出方案"), "proposed": N_("待顾客同意"),
          "agreed": N_("待执行"), "solved": N_("待回访"), "revisited": N_("待满意度调查"),
          "filed": N_("已归档")}

_direct_handling, _direct_tasks = _handling(HQ, escalate_to=M)
_direct_closing, _direct_closing_tasks = _closing("solved")
direct = register(Process(
    name="complaint_direct",
    label=N_("直接投诉处理"),
    states={**STATES, "escalated": N_("已上报客服经理")},
    initial="open",
    start_roles=HQ,
    transitions=_direct_handling + (
        # "超出自身职权范围…与顾客协商回复时间,并立即将投诉事件上报客服经理"
        step("escalate", N_("上报客服经理"), ("open", "replied"), "escalated", frozenset({S})),
        step("hand_back", N_("给出决定并交回专员"), ("escalated",), "replied", frozenset({M}),
             comment_required=True),
        step("propose", N_("提出解决方案"), ("escalated",), "proposed", frozenset({M})),
    ) + _direct_closing,
    tasks={**_direct_tasks, **_direct_closing_tasks,
           "escalated": TaskSpec("decide", N_("处理上报的投诉"), M, due=decision_due,
                                 remind_setting="complaint_remind_hours")},
    final=frozenset({"filed"}),
))

_store_handling, _store_tasks = _handling(STORE_SIDE, escalate_to=Role.AREA_SUPERVISOR,
                                          escalate_also=S, handler=Role.STORE_MANAGER)
_store_closing, _store_closing_tasks = _closing("hq_revisit")
store = register(Process(
    name="complaint_store",
    label=N_("门店投诉处理"),
    states={**STATES, "solved": N_("待提交总部"), "hq_revisit": N_("总部待回访")},
    initial="open",
    start_roles=frozenset({Role.ASSOCIATE, Role.STORE_MANAGER, Role.AREA_SUPERVISOR}),
    transitions=_store_handling + (
        step("submit", N_("提交处理表至总部"), ("solved",), "hq_revisit", STORE_SIDE),
    ) + _store_closing,
    tasks={**_store_tasks, **_store_closing_tasks,
           "solved": TaskSpec("submit", N_("填写处理表并提交总部"), Role.STORE_MANAGER,
                              due_setting="complaint_submit_due", escalate_to=Role.AREA_SUPERVISOR)},
    final=frozenset({"filed"}),
))
