"""The visit plan's rules and effects (workflows/visit_plan.py declares where they apply)."""
from __future__ import annotations

from sqlalchemy import select, update

from ..extensions import db
from ..i18n_labels import N_
from ..models import PlanItem
from ..periods import Month


def plan_title(key: str) -> str:
    """The case of month `key` plans the next month: "2026-12 客户回访计划"."""
    return f"{Month.parse(key).next().key} 客户回访计划"


def plan_month(case) -> Month:
    """The month a plan case plans (the month after the one it was opened in)."""
    return Month.parse(case.data["period"]).next()


def has_items(case, data):
    if db.session.scalar(select(PlanItem.id).where(PlanItem.plan_case_id == case.id).limit(1)) is None:
        return N_("计划中还没有回访项，请先添加")
    return None


def set_items(case, actor, data, now):
    """The manager sets the plan: every proposed item becomes part of it (associates may act)."""
    db.session.execute(update(PlanItem).where(PlanItem.plan_case_id == case.id,
                                              PlanItem.status == "proposed")
                       .values(status="set").execution_options(synchronize_session=False))


def keep_report(case, actor, data, now):
    """The manager's remarks (and the figures they saw) stay on the case as submitted."""
    case.data = {**case.data, "remarks": data.get("remarks", ""), "summary": data.get("summary", {})}


def has_remarks(case, data):
    """The report is submitted from its form (services/visit_plan.submit_report), with remarks."""
    if not (data.get("remarks") or "").strip():
        return N_("请在回访计划页填写月报说明后提交")
    return None


def has_record(case, data):
    """A planned visit is done by recording it (《客户回访情况登记表》), not by a bare click."""
    if not data.get("visit_record"):
        return N_("请先登记回访情况")
    return None


def summary_title(key: str) -> str:
    return f"{key} 分管终端客户回访总结报告"


def has_summary_text(case, data):
    if not (data.get("text") or "").strip():
        return N_("请在总结报告页填写总结后提交")
    return None


def keep_summary(case, actor, data, now):
    """The supervisor's text and the figures it was written beside stay on the case."""
    case.data = {**case.data, "text": data.get("text", ""), "figures": data.get("figures", [])}


def spot_check_title(key: str) -> str:
    return f"{key} 回访抽查"


def sample_checked(case, data):
    """Every store with visits this month has its sample drawn and every sampled visit checked."""
    from sqlalchemy import func

    from ..models import VisitRecord

    ym = Month.parse(case.data["period"]).ym
    stores, sampled, unchecked = db.session.execute(
        select(func.count(func.distinct(VisitRecord.store_id)),
               func.count(func.distinct(VisitRecord.store_id)).filter(VisitRecord.sampled_at.is_not(None)),
               func.count(VisitRecord.id).filter(VisitRecord.sampled_at.is_not(None),
                                                 VisitRecord.checked_at.is_(None)))
        .where(VisitRecord.ym == ym)).one()
    if sampled < stores or unchecked:
        return N_("还有门店未抽取样本或样本未回访确认")
    return None
