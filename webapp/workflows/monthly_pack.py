"""The monthly analysis pack's review (seed 004 §2–§5: 数据导出 → 填表 → 计算 → 数据审核 → 绘制图表
→ 整理格式、存档备查).

- "每月第一个工作日": the system opens one company case on the 1st of each month (a monthly
  `Recurring`, which counts calendar days). The deadline is a working-day rule (setting
  monthly_pack_due, default "eod:1" = the end of the next working day after the 1st): when the
  1st is a holiday or a weekend (1 October, 1 January…) that is the month's first working day;
  when the 1st is a working day HQ has one working day more, the time the late till imports of
  the month's last day need. (A per-case due callable would be exact, but cases opened in bulk
  take their due rules from settings.)
- HQ customer service reviews last month's figures (the page shows each figure with its inputs,
  formula and flags) and marks the month reviewed with a comment; the review freezes the figures
  (services/monthly_pack: a worker files them and ticks the task off as the reviewer). Left
  undone, the task reminds, then escalates to the HQ manager.
"""
from __future__ import annotations

from ..i18n_labels import N_
from ..models import Role
from .engine import Process, Recurring, TaskSpec, Transition, register


def reviewed_month(key: str) -> str:
    """The month a pack opened in `key` ("2026-11") reviews: the month before ("2026-10")."""
    year, month = map(int, key.split("-"))
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def check_reviewed(case, data):
    """The month is marked reviewed only once its figures are frozen (a snapshot exists)."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import AnalysisSnapshot

    period = reviewed_month(case.data["period"])
    found = db.session.scalar(select(AnalysisSnapshot.id).where(AnalysisSnapshot.period == period).limit(1))
    return None if found else N_("请先在月度分析审核页面审核并存档")


HQ = frozenset({Role.HQ_SPECIALIST, Role.HQ_MANAGER})

monthly_pack = register(Process(
    name="monthly_pack",
    label=N_("月度会员分析审核"),
    states={"due": N_("待审核"), "reviewed": N_("已审核存档")},
    initial="due",
    start_roles=frozenset(),  # opened by the system only
    transitions=(
        Transition("reviewed", N_("已审核存档"), ("due",), "reviewed", HQ, guard=check_reviewed),
    ),
    tasks={"due": TaskSpec("review_pack", N_("审核上月会员分析并存档"), Role.HQ_SPECIALIST,
                           due_setting="monthly_pack_due", remind_setting="monthly_pack_remind_hours",
                           escalate_to=Role.HQ_MANAGER)},
    final=frozenset({"reviewed"}),
    recurring=Recurring("monthly", per="company", day=1,
                        title=lambda key: f"审核{reviewed_month(key)}会员分析"),
))
