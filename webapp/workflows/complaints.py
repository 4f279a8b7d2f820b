"""Complaint handling (SPEC §3.7; seed 004 §6.2): two declared processes sharing their steps.

Every complaint (004 §6.2.1(4)): "24小时内予以回复，在48小时内给出解决方案，并在1周内进行回访".
- 24 h from receipt: met by the first contact with the customer — a reply, or agreeing a reply
  time with them (escalating). Agreeing a time after 24 h leaves the breach standing; the agreed
  time becomes the deadline of the promised answer, with its own reminder and breach.
- 48 h from receipt: met when a solution is put to the customer (`propose`); the customer's time
  to agree is theirs, so waiting for consent only has a follow-up reminder, never a breach.
- A solution is carried out only after the customer agreed to it ("必须征求顾客的同意，才可以
  实行"): `carry_out` leaves only from `agreed`, which only `consent` reaches; "得到顾客同意后便
  马上行动" gives carrying out its own limit from the consent (setting complaint_carry_out_hours).
- Revisit within one week of carrying out.

- Direct complaints (phone, e-mail, IM to HQ): the HQ specialist handles them; beyond their
  authority they agree a reply time with the customer and escalate at once to the CS manager,
  who proposes the solution or hands it back with a decision. A breach escalates to the CS manager.
- Store complaints: the store and its area supervisor handle them and submit the handling form to
  HQ, which makes the final revisit and satisfaction survey. The task is the recording associate's
  (the store manager watches it) and the area supervisor's from the start. A breach goes to the
  area supervisor and to HQ, which may comment, remind the handler (services: comment, nudge) or
  take the complaint over with a reason.
"""
from __future__ import annotations

from datetime import timedelta

from ..i18n_labels import N_
from ..models import Role
from .complaint_steps import EFFECTS, GUARDS
from .engine import Process, TaskSpec, Transition, register

S, M = Role.HQ_SPECIALIST, Role.HQ_MANAGER
HQ = frozenset({S, M})
STORE_SIDE = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER, Role.AREA_SUPERVISOR})


def reply_due(case, now):
    return case.complaint.reply_due_at


def answer_due(case, now):
    """The answer promised for the agreed reply time, else the solution limit."""
    c = case.complaint
    if c.replied_at is None and c.agreed_reply_at is not None:
        return min(c.agreed_reply_at, c.solution_due_at)
    return c.solution_due_at


def consent_follow_up(case, now):
    """When to chase the customer's answer to the proposal (not a limit on staff)."""
    from .. import settings

    return now + timedelta(hours=settings.get_int("complaint_consent_follow_up_hours"))


def carry_out_due(case, now):
    return case.complaint.carry_out_due_at


def revisit_due(case, now):
    return case.complaint.revisit_due_at


# Steps whose form asks for something (the reply, the solution, who agreed…).
ASKING = {"reply", "escalate", "propose", "consent", "revisit", "survey", "hand_back", "carry_out",
          "submit"}


def step(name, label, source, target, roles, **kw):
    """A transition with the guard and effect of that step, where it has them
    (workflows/complaint_steps.py)."""
    return Transition(name, label, source, target, roles, guard=GUARDS.get(name),
                      effect=EFFECTS.get(name), asks=name in ASKING, **kw)


def recorder(case):
    """A store complaint belongs to the associate who recorded it (the manager watches it)."""
    from ..extensions import db
    from ..models import User

    user = db.session.get(User, case.created_by_id) if case.created_by_id else None
    return user.id if user is not None and user.role == Role.ASSOCIATE else None


def _handling(roles, *, escalate_to, escalate_also=None, handler=S, co_role=None, assignee=None):
    """The shared reply → proposal → consent → carried-out steps and their tasks."""
    transitions = (
        step("reply", N_("回复顾客"), ("open",), "replied", roles),
        step("propose", N_("提出解决方案"), ("replied",), "proposed", roles),
        step("consent", N_("记录顾客同意"), ("proposed",), "agreed", roles),
        step("reject", N_("顾客不同意，重新提方案"), ("proposed",), "replied", roles, style="danger"),
        step("carry_out", N_("执行解决方案"), ("agreed",), "solved", roles),
    )
    # who holds each task, and who hears of a breach
    who = dict(remind_setting="complaint_remind_hours", co_role=co_role, assignee=assignee)
    breach = dict(escalate_to=escalate_to, escalate_also=escalate_also)
    tasks = {
        "open": TaskSpec("reply", N_("24小时内回复顾客"), handler, due=reply_due, **who, **breach),
        "replied": TaskSpec("propose", N_("48小时内给出解决方案"), handler, due=answer_due,
                            **who, **breach),
        # the customer's time: a follow-up date, no breach
        "proposed": TaskSpec("consent", N_("征得顾客同意"), handler, due=consent_follow_up, **who),
        "agreed": TaskSpec("carry_out", N_("执行解决方案"), handler, due=carry_out_due, **who, **breach),
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


HANDLING = ("open", "replied", "proposed", "agreed")


def _take_over(roles):
    """HQ takes an overdue store complaint over, with a reason; it goes on as a direct complaint
    in the same state (on_take_over moves the case to that process)."""
    return tuple(step("take_over", N_("总部接手处理"), (state,), state, roles, comment_required=True,
                      style="danger") for state in HANDLING)


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
        # "超出自身职权范围…与顾客协商回复时间，并立即将投诉事件上报客服经理"
        step("escalate", N_("上报客服经理"), ("open", "replied"), "escalated", frozenset({S})),
        step("hand_back", N_("给出决定并交回专员"), ("escalated",), "replied", frozenset({M})),
        step("propose", N_("提出解决方案"), ("escalated",), "proposed", frozenset({M})),
    ) + _direct_closing,
    tasks={**_direct_tasks, **_direct_closing_tasks,
           "escalated": TaskSpec("decide", N_("处理上报的投诉"), M, due=answer_due,
                                 remind_setting="complaint_remind_hours")},
    final=frozenset({"filed"}),
))

# "由门店和区域处理" (004 §6.2.2): the store's task (the associate who recorded it, watched by
# the store manager) is the area supervisor's too from the start; a breach also tells HQ.
_store_handling, _store_tasks = _handling(STORE_SIDE, escalate_to=Role.AREA_SUPERVISOR,
                                          escalate_also=S, handler=Role.STORE_MANAGER,
                                          co_role=Role.AREA_SUPERVISOR, assignee=recorder)
_store_closing, _store_closing_tasks = _closing("hq_revisit")
store = register(Process(
    name="complaint_store",
    label=N_("门店投诉处理"),
    states={**STATES, "solved": N_("待提交总部"), "hq_revisit": N_("总部待回访")},
    initial="open",
    start_roles=frozenset({Role.ASSOCIATE, Role.STORE_MANAGER, Role.AREA_SUPERVISOR}),
    transitions=_store_handling + (
        step("submit", N_("提交处理表至总部"), ("solved",), "hq_revisit", STORE_SIDE),
    ) + _store_closing + _take_over(HQ),
    tasks={**_store_tasks, **_store_closing_tasks,
           "solved": TaskSpec("submit", N_("填写处理表并提交总部"), Role.STORE_MANAGER,
                              due_setting="complaint_submit_due", escalate_to=Role.AREA_SUPERVISOR,
                              co_role=Role.AREA_SUPERVISOR, assignee=recorder)},
    final=frozenset({"filed"}),
))
