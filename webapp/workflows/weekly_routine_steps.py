"""The weekly routine's moments, rules and effects (workflows/weekly_routine.py declares where
they apply)."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from ..calendar import local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_
from ..models import RoutineQuestion

METHODS = {"call": N_("电话"), "sms": N_("短信"), "visit": N_("上门拜访"), "invite": N_("邀请到店")}


def week_monday(key: str) -> date:
    """The Monday of ISO week "2026-W48"."""
    year, week = key.split("-W")
    return date.fromisocalendar(int(year), int(week), 1)


def week_title(key: str) -> str:
    monday = week_monday(key)
    return f"{key} 客户关系管理周例行（{monday:%m-%d}—{monday + timedelta(days=6):%m-%d}）"


def _day(weekday: int):
    """The moment local day `weekday` (1 = Monday) of the case's week starts."""
    def at(case, now: datetime) -> datetime:
        return local_midnight_utc(week_monday(case.data["period"]) + timedelta(days=weekday - 1))
    return at


friday, saturday, sunday = _day(5), _day(6), _day(7)


def has_plan(case, data):
    """The plan is set from its form (services/routine.set_plan), not by a bare click."""
    if not isinstance(data.get("plan"), dict):
        return N_("请在本周计划页填写计划后提交")
    return None


def keep_plan(case, actor, data, now):
    case.data = {**case.data, "plan": data["plan"]}


def check_run(case, data):
    """The check is finished once its questions were put (services/routine.start_check)."""
    if db.session.scalar(select(RoutineQuestion.id).where(RoutineQuestion.case_id == case.id)
                         .limit(1)) is None:
        return N_("请先出题检查导购的记忆情况")
    return None


def has_report(case, data):
    if not (data.get("text") or "").strip() or not data.get("best_advisor_id"):
        return N_("请在周报页填写总结并评选本周优秀着装顾问后提交")
    return None


def keep_report(case, actor, data, now):
    case.data = {**case.data, "report": {"text": data["text"],
                                         "best_advisor_id": data["best_advisor_id"],
                                         "figures": data.get("figures", {})}}
