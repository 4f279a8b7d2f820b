"""The store's weekly customer-relationship routine (SPEC §3.8; seed 000 §5 (1)「店铺客户关系管理
周工作时间表」 and (2)「导购须熟记的项目」).

One case per store per ISO week, opened by the system on Monday:
- planning — 周一「制订本周各类客户拜访方式及计划」「制订本周各导购段记忆客户资料的数量」
  (责任人:店长): the week's methods per tier, each associate's profiles a day (default
  care_profiles_per_day = 2) and visits this week.
- memorising — 「每位导购每天须记忆2位所分管的客户资料」「每天复习前一天记忆的客户资料」:
  each associate's inbox links today's profiles and yesterday's to review (no task).
- checking — 周五「检查本周各导购记忆客户资料情况」/「店长每周五检查记忆情况」: the manager
  puts questions drawn from the week's profiles; associates answer on the shop floor; data
  answers are scored automatically.
- reviewing — 周六「检查本周拜访计划实施情况」: the week's visits against the plan.
- reporting — 周日「周会总结本周客户关系管理工作亮点与不足,形成报告」「表扬本周优秀“着装顾问”」:
  the weekly report, pre-filled, naming the week's best advisor.
Each step's task opens at the start of its day (timers), is due by the end of it, reminds the
manager beforehand and escalates to the area supervisor after. A step left undone does not hold
the week back: the next day's timer moves the case on (the late task has escalated by then).
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .engine import Process, Recurring, TaskSpec, Timer, Transition, register
from .weekly_routine_steps import (check_run, friday, has_plan, has_report, keep_plan, keep_report,
                                   saturday, sunday, week_title)

MANAGER = frozenset({Role.STORE_MANAGER})
NOBODY = frozenset()


def _task(name: str, label: str, due: str) -> TaskSpec:
    return TaskSpec(name, label, Role.STORE_MANAGER, due_setting=due,
                    remind_setting="routine_remind_hours", escalate_to=Role.AREA_SUPERVISOR)


weekly_routine = register(Process(
    name="weekly_routine",
    label=N_("客户关系管理周例行工作"),
    states={"planning": N_("周一：待店长制订本周计划"), "memorising": N_("本周记忆客户资料中"),
            "checking": N_("周五：待店长检查记忆情况"), "checked": N_("记忆检查已完成"),
            "reviewing": N_("周六：待店长检查拜访计划执行"), "reviewed": N_("拜访计划执行已检查"),
            "reporting": N_("周日：待店长提交周报"), "done": N_("周报已提交")},
    initial="planning",
    start_roles=NOBODY,  # opened by the system, one per store per week
    transitions=(
        Transition("set_plan", N_("制订本周计划"), ("planning",), "memorising", MANAGER, asks=True,
                   guard=has_plan, effect=keep_plan),
        Transition("to_check", N_("进入周五记忆检查"), ("planning", "memorising"), "checking",
                   NOBODY, system=True),
        Transition("finish_check", N_("记忆检查完成"), ("checking",), "checked", MANAGER,
                   guard=check_run),
        Transition("to_review", N_("进入周六拜访计划检查"), ("checking", "checked"), "reviewing",
                   NOBODY, system=True),
        Transition("finish_review", N_("拜访计划执行已检查"), ("reviewing",), "reviewed", MANAGER),
        Transition("to_report", N_("进入周日周报"), ("reviewing", "reviewed"), "reporting",
                   NOBODY, system=True),
        Transition("submit_report", N_("提交周报"), ("reporting",), "done", MANAGER, asks=True,
                   guard=has_report, effect=keep_report),
    ),
    tasks={
        "planning": _task("week_plan", N_("制订本周客户拜访方式、计划及记忆数量"), "routine_plan_due"),
        "checking": _task("memory_check", N_("检查本周各导购记忆客户资料情况"), "routine_check_due"),
        "reviewing": _task("plan_review", N_("检查本周拜访计划实施情况"), "routine_review_due"),
        "reporting": _task("week_report", N_("周报：总结本周并表扬优秀着装顾问"), "routine_report_due"),
    },
    timers={"planning": (Timer("to_check", at=friday),), "memorising": (Timer("to_check", at=friday),),
            "checking": (Timer("to_review", at=saturday),), "checked": (Timer("to_review", at=saturday),),
            "reviewing": (Timer("to_report", at=sunday),), "reviewed": (Timer("to_report", at=sunday),)},
    final=frozenset({"done"}),
    recurring=Recurring("weekly", per="store", day=1, title=week_title),
))
