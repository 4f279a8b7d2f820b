"""The monthly visit plan and report of a store (SPEC §3.5; seed 000 §3, 004 §6.3).

One case per store per month, opened by the system on the 1st so associates can propose items
all month ("店员建议、店长制订,店员方可执行"):
- drafting: associates propose items for next month (member, occasion, method, who, when);
  the store manager sets the plan — "每月28日列出下月详细回访计划" (setting visit_plan_due).
  Only then do the items count: each becomes the associate's task on its date (visit_item).
- reporting: the manager writes 《XX专卖店客户回访情况月报表》 (this month's figures from the
  visit records, their remarks, next month's plan) and submits it by the month's last day.
- review: the area supervisor reviews it (审核，给予指导性意见): approve, or send back with comments.
- approved: HQ customer service consolidates and archives every store's plan "每月30日".
Each task reminds its holder beforehand and escalates one level up after its deadline.
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .engine import Process, Recurring, TaskSpec, Transition, register
from .visit_plan_steps import (has_items, has_record, has_remarks, has_summary_text, keep_report,
                               keep_summary, plan_title, sample_checked, set_items, spot_check_title,
                               summary_title)

STORE = frozenset({Role.ASSOCIATE, Role.STORE_MANAGER})
MANAGER = frozenset({Role.STORE_MANAGER})
SUPERVISOR = frozenset({Role.AREA_SUPERVISOR})
HQ = frozenset({Role.HQ_SPECIALIST, Role.HQ_MANAGER})
# "Dates that fall on a holiday follow the calendar setting": the dated deadlines (the 28th, the
# last day, the 30th, before the 1st) move to the previous working day when it is on.
HOLIDAY = "visit_due_before_holiday"

visit_plan = register(Process(
    name="visit_plan",
    label=N_("月度客户回访计划与月报"),
    states={"drafting": N_("店员建议，待店长制订下月计划"), "reporting": N_("计划已制订，待提交月报"),
            "review": N_("待督导审核月报"), "approved": N_("督导已通过，待总部归档"),
            "archived": N_("总部已归档")},
    initial="drafting",
    start_roles=frozenset(),  # opened by the system, one per store per month
    transitions=(
        Transition("set_plan", N_("制订下月回访计划"), ("drafting",), "reporting", MANAGER,
                   guard=has_items, effect=set_items),
        Transition("submit", N_("提交回访月报"), ("reporting",), "review", MANAGER, asks=True,
                   guard=has_remarks, effect=keep_report),
        Transition("send_back", N_("退回修改"), ("review",), "reporting", SUPERVISOR,
                   comment_required=True, style="danger"),
        Transition("approve", N_("审核通过"), ("review",), "approved", SUPERVISOR),
        Transition("archive", N_("汇总归档"), ("approved",), "archived", HQ),
    ),
    tasks={
        "drafting": TaskSpec("set_plan", N_("制订下月客户回访计划"), Role.STORE_MANAGER,
                             due_setting="visit_plan_due", remind_setting="visit_plan_remind_hours",
                             escalate_to=Role.AREA_SUPERVISOR, holiday_setting=HOLIDAY),
        "reporting": TaskSpec("submit_report", N_("提交客户回访情况月报表"), Role.STORE_MANAGER,
                              due_setting="visit_report_due",
                              remind_setting="visit_plan_remind_hours",
                              escalate_to=Role.AREA_SUPERVISOR, holiday_setting=HOLIDAY),
        "review": TaskSpec("review_report", N_("审核门店回访月报"), Role.AREA_SUPERVISOR,
                           due_setting="visit_review_due", escalate_to=Role.AREA_MANAGER),
        "approved": TaskSpec("archive_plan", N_("汇总归档门店回访计划"), Role.HQ_SPECIALIST,
                             due_setting="visit_archive_due", escalate_to=Role.HQ_MANAGER,
                             holiday_setting=HOLIDAY),
    },
    final=frozenset({"archived"}),
    recurring=Recurring("monthly", per="store", day=1, title=plan_title),
))

# One planned visit, in the associate's inbox from its date until the visit is recorded.
visit_item = register(Process(
    name="visit_item",
    label=N_("执行回访计划"),
    states={"due": N_("待回访"), "done": N_("已回访")},
    initial="due",
    start_roles=frozenset(),  # opened on the item's date (services/visit_plan.open_item_tasks)
    transitions=(
        Transition("record", N_("登记回访"), ("due",), "done", STORE, asks=True, guard=has_record),
    ),
    tasks={"due": TaskSpec("visit", N_("按计划回访会员"), Role.ASSOCIATE,
                           due_setting="visit_item_due", escalate_to=Role.STORE_MANAGER)},
    final=frozenset({"done"}),
))

# 《分管终端月度客户回访情况总结报告》: the area supervisor's summary of the month for the area
# manager, pre-filled with each store's figures, "before the 1st" (SPEC §3.5 step 7).
visit_area_summary = register(Process(
    name="visit_area_summary",
    label=N_("分管终端月度客户回访情况总结报告"),
    states={"writing": N_("待督导撰写总结报告"), "submitted": N_("已提交区域经理")},
    initial="writing",
    start_roles=frozenset(),  # opened by the system, one per area per month
    transitions=(
        Transition("submit_summary", N_("提交总结报告"), ("writing",), "submitted", SUPERVISOR,
                   asks=True, guard=has_summary_text, effect=keep_summary),
    ),
    tasks={"writing": TaskSpec("write_summary", N_("撰写分管终端月度客户回访情况总结报告"),
                               Role.AREA_SUPERVISOR, due_setting="visit_area_summary_due",
                               remind_setting="visit_plan_remind_hours", escalate_to=Role.AREA_MANAGER,
                               holiday_setting=HOLIDAY)},
    final=frozenset({"submitted"}),
    recurring=Recurring("monthly", per="area", day=25, title=summary_title),
))

# "总部客服中心每月30号前对会员进行抽查": HQ's spot-check of the month's visits, every store
# sampled and every sampled member called back before the 30th (the sample: services/visit_plan).
visit_spot_check = register(Process(
    name="visit_spot_check",
    label=N_("总部月度回访抽查"),
    states={"checking": N_("待总部抽查"), "checked": N_("已完成抽查")},
    initial="checking",
    start_roles=frozenset(),  # opened by the system, one for the company per month
    transitions=(
        Transition("finish_check", N_("本月抽查已完成"), ("checking",), "checked", HQ,
                   guard=sample_checked),
    ),
    tasks={"checking": TaskSpec("spot_check", N_("抽查各门店本月回访"), Role.HQ_SPECIALIST,
                                due_setting="visit_spot_check_due",
                                remind_setting="visit_plan_remind_hours", escalate_to=Role.HQ_MANAGER,
                                holiday_setting=HOLIDAY)},
    final=frozenset({"checked"}),
    recurring=Recurring("monthly", per="company", day=20, title=spot_check_title),
))
