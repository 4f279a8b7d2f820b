"""Company settings: every "XX" of the seeds is a value an administrator can change.

Each setting has a default, a type and a Chinese label; the settings page is generated from this table.
"""
from dataclasses import dataclass

from sqlalchemy import select

from .extensions import db
from .i18n_labels import N_
from .models import Setting


@dataclass(frozen=True)
class Spec:
    default: str
    kind: str  # "int", "str", "bool", "rule", "dates"
    label: str
    help: str = ""


SPECS: dict[str, Spec] = {
    "brand_name": Spec("XX男装", "str", N_("品牌名称")),
    "company_name": Spec("XX服饰有限公司", "str", N_("公司名称")),
    "hotline": Spec("400-000-0000", "str", N_("客服热线")),
    "formal_points_threshold": Spec("1000", "int", N_("成为正式会员所需积分")),
    "points_per_yuan": Spec("1", "int", N_("每消费1元积分")),
    "cashback_points": Spec("500", "int", N_("积分返现:每满多少分")),
    "cashback_yuan": Spec("10", "int", N_("积分返现:返多少元")),
    "renewal_fee_yuan": Spec("0", "int", N_("续卡年费(元)")),
    "card_validity_months": Spec("12", "int", N_("会员卡有效期(月)")),
    "working_days": Spec("1", "bool", N_("期限按工作日计算(法定节假日与调休)")),
    "extra_holidays": Spec("", "dates", N_("额外节假日(日历库未覆盖的年份)"), N_("每行一个日期,如 2031-01-01")),
    "extra_workdays": Spec("", "dates", N_("额外调休工作日"), N_("每行一个日期")),
    "formal_card_make_due": Spec("eod:2", "rule", N_("总部制作并寄送正式会员卡期限")),
    "formal_pickup_call_day": Spec("day:5", "rule", N_("致电邀请领取正式会员卡的日子"), N_("day:5 = 售后第5天（含消费当天）")),
    "formal_pickup_call_due": Spec("eod:0", "rule", N_("领卡致电及交付期限")),
    "formal_card_hold_due": Spec("eod:7", "rule", N_("顾客稍后来店：门店留卡天数"), N_("eod:7 = 7个工作日后跟进")),
    "formal_pickup_call_attempts": Spec("3", "int", N_("领卡致电最多拨打次数")),
    "registration_review_due": Spec("eod:1", "rule", N_("新会员资料审核期限"), N_("eod:1 = 次个工作日结束前")),
    "registration_review_remind_hours": Spec("2", "int", N_("审核期限前几小时提醒")),
    "registration_completion_due": Spec("eod:2", "rule", N_("门店补全资料期限")),
    "registration_completion_remind_hours": Spec("4", "int", N_("补全期限前几小时提醒")),
    "complaint_reply_hours": Spec("24", "int", N_("投诉回复时限（小时，自受理起，首次联系顾客即满足）")),
    "complaint_solution_hours": Spec("48", "int", N_("投诉解决方案时限（小时，自受理起，向顾客提出方案即满足）")),
    # "得到顾客同意后便马上行动" (004 §6.2.1): carrying out gets its own limit from the consent.
    "complaint_carry_out_hours": Spec("24", "int", N_("顾客同意后执行方案时限（小时）")),
    # The customer's time to answer a proposal is not staff's limit: only a follow-up reminder.
    "complaint_consent_follow_up_hours": Spec("24", "int", N_("提出方案后跟进顾客答复（小时，不计超时）")),
    "complaint_revisit_days": Spec("7", "int", N_("投诉回访时限（天，自方案执行起）")),
    "complaint_remind_hours": Spec("4", "int", N_("投诉回复/方案期限前几小时提醒")),
    "complaint_revisit_remind_hours": Spec("24", "int", N_("投诉回访期限前几小时提醒")),
    "complaint_survey_due": Spec("eod:1", "rule", N_("回访后满意度调查期限")),
    "complaint_submit_due": Spec("eod:1", "rule", N_("门店提交投诉处理表期限")),
    "mailbox_check_due": Spec("eod:0", "rule", N_("每日查看投诉邮箱期限"), N_("eod:0 = 当天结束前")),
    "mailbox_check_remind_hours": Spec("3", "int", N_("查看投诉邮箱期限前几小时提醒")),
    "holiday_year_due": Spec("dom:15+1", "rule", N_("录入下一年节假日安排期限"),
                             N_("11月1日起产生待办；dom:15+1 = 次月15日结束前")),
    "holiday_year_remind_hours": Spec("72", "int", N_("录入节假日期限前几小时提醒")),
    "analysis_spend_band_1": Spec("100", "int", N_("消费水平分段1(元)"), N_("分段含下限:100 元计入 100—300 元段")),
    "analysis_spend_band_2": Spec("300", "int", N_("消费水平分段2(元)")),
    "analysis_spend_band_3": Spec("500", "int", N_("消费水平分段3(元)")),
    "analysis_spend_band_4": Spec("1000", "int", N_("消费水平分段4(元)")),
    "analysis_age_band_1": Spec("20", "int", N_("年龄分段1(岁)"), N_("分段含下限:20 岁计入 20—30 岁段")),
    "analysis_age_band_2": Spec("30", "int", N_("年龄分段2(岁)")),
    "analysis_age_band_3": Spec("40", "int", N_("年龄分段3(岁)")),
    "analysis_lapse_months": Spec("3", "int", N_("流失判定:连续几个月未消费")),
    # card expiry (issue #12, SPEC §3.6)
    "expiry_waiver_purchases": Spec("3", "int", N_("免次年年费：卡年度内消费次数（次）")),
    "expiry_waiver_yuan": Spec("1000", "int", N_("免次年年费：卡年度内累计消费（元）")),
    "expiry_list_due": Spec("before_dom:5", "rule", N_("到期名单核对期限"), N_("before_dom:5 = 每月5日之前")),
    "expiry_list_remind_hours": Spec("24", "int", N_("到期名单期限前几小时提醒")),
    "expiry_call_due": Spec("eod:1", "rule", N_("到期会员致电期限"), N_("无人接听时下一工作日再拨")),
    "expiry_call_attempts": Spec("3", "int", N_("到期会员致电最多拨打次数")),
    # Member care batches (SPEC §3.4; seed 000 §(二)2)
    "care_lead_days": Spec("7", "int", N_("节日关怀名单提前几天生成")),
    "care_birthday_lead_days": Spec("2", "int", N_("生日关怀名单提前几天生成")),
    "care_season_launches": Spec("0301,0601,0901,1201", "str", N_("新品上市日（月日，逗号分隔）"),
                                 N_("如 0301,0901 = 3月1日、9月1日")),
    "care_review_due": Spec("eod:1", "rule", N_("店长审核关怀名单期限")),
    "care_action_due": Spec("eod:0", "rule", N_("关怀当天电话/拜访期限")),
    "care_day_hour": Spec("9", "int", N_("关怀当天几点发送短信、派发任务")),
    "care_profiles_per_day": Spec("2", "int", N_("导购每天记忆的会员档案数")),
    # The weekly routine (SPEC §3.8): each step's task opens at the start of its day
    "routine_plan_due": Spec("eod:0", "rule", N_("周一店长制订本周计划期限")),
    "routine_check_due": Spec("eod:0", "rule", N_("周五店长检查记忆情况期限")),
    "routine_review_due": Spec("eod:0", "rule", N_("周六店长检查拜访计划执行期限")),
    "routine_report_due": Spec("eod:0", "rule", N_("周日店长提交周报期限")),
    "routine_remind_hours": Spec("4", "int", N_("每周例行工作期限前几小时提醒")),
    "routine_check_questions": Spec("4", "int", N_("周五记忆检查每位导购的题数")),
    # Seed 000 §(二)2 (4) 特殊活动拜访 "回访时间：特殊活动前一周（开业、周年庆典）"
    "care_store_anniversary_lead_days": Spec("7", "int", N_("店庆关怀名单提前几天生成")),
    "care_store_invite_days": Spec("3", "int", N_("店庆前几天电话、短信邀请")),
    # Frequency control (SPEC §3.4): visited this often in the window without points growing →
    # the quarterly cadence only (season launches), flagged in the other batches.
    "care_frequency_visits": Spec("3", "int", N_("频次控制：拜访次数达到")),
    "care_frequency_days": Spec("180", "int", N_("频次控制：统计最近几天的拜访")),
    # The monthly pack's review (数据审核): a figure moving more than this against the same
    # month last year is flagged for HQ to look at before filing.
    "pack_jump_percent": Spec("50", "int", N_("月度分析审核：同比变动超过此百分比即提示")),
    "monthly_pack_due": Spec("eod:1", "rule", N_("月度分析审核期限（每月1日起算）"),
                             N_("eod:1 = 1日之后的第一个工作日结束前")),
    "monthly_pack_remind_hours": Spec("3", "int", N_("月度分析审核期限前几小时提醒")),
    # Monthly visit plan and report (SPEC §3.5; "on the 28th / 30th" = by the end of that day)
    "visit_plan_due": Spec("dom:28", "rule", N_("店长制订下月回访计划期限"), N_("dom:28 = 每月28日当天结束前")),
    "visit_plan_remind_hours": Spec("48", "int", N_("回访计划及月报期限前几小时提醒")),
    "visit_report_due": Spec("dom:31", "rule", N_("店长提交回访月报期限"), N_("dom:31 = 每月最后一天结束前")),
    "visit_review_due": Spec("eod:1", "rule", N_("督导审核回访月报期限")),
    "visit_archive_due": Spec("dom:30", "rule", N_("总部汇总归档回访计划期限"), N_("dom:30 = 每月30日（二月为最后一天）结束前")),
    "visit_item_due": Spec("eod:0", "rule", N_("回访计划项执行期限（自计划日期起）"), N_("eod:0 = 计划日期当天结束前")),
    "visit_area_summary_due": Spec("before_dom:1", "rule", N_("督导提交分管终端月度回访总结报告期限"),
                                   N_("before_dom:1 = 次月1日之前；每月25日起产生待办")),
    "visit_spot_check_due": Spec("before_dom:30", "rule", N_("总部完成月度回访抽查期限"),
                                 N_("before_dom:30 = 每月30日之前；每月20日起产生待办")),
    "visit_due_before_holiday": Spec("0", "bool", N_("回访计划、月报、归档、抽查、总结报告的期限日逢节假日提前至前一个工作日"),
                                     N_("不勾选 = 照原日期；节假日与调休以节假日日历为准")),
    "visit_spot_check_size": Spec("5", "int", N_("总部每店每月抽查回访记录数")),
    "visit_frequency_visits": Spec("3", "int", N_("频率控制：回访几次积分未增长即改为季度回访")),
    "visit_frequency_months": Spec("6", "int", N_("频率控制：统计最近几个月的回访")),
    # Member lifecycle (issue 11): the day-3 after-sale call (seed 000 §(二)1 (2)) and tiers (SPEC §2, §3.9).
    "aftersale_call_due": Spec("eod:0", "rule", N_("售后第3天回访致电期限"), N_("eod:0 = 当天结束前")),
    "aftersale_retry_due": Spec("eod:1", "rule", N_("回访无人接听：再次致电期限"), N_("eod:1 = 下一工作日结束前")),
    "aftersale_call_attempts": Spec("3", "int", N_("售后回访最多拨打次数")),
    "aftersale_problem_due": Spec("eod:3", "rule", N_("回访中顾客反映的问题处理并答复期限"), N_("eod:3 = 三个工作日内")),
    "tier_rule": Spec("points", "str", N_("客户分级规则"), N_("points = 按积分；ratio = 按比例（各门店内排名）")),
    "tier_a_points": Spec("5000", "int", N_("A类客户所需积分")),
    "tier_b_points": Spec("2000", "int", N_("B类客户所需积分")),
    "tier_a_percent": Spec("20", "int", N_("按比例分级：A类占门店会员的百分比")),
    "tier_b_percent": Spec("30", "int", N_("按比例分级：B类占门店会员的百分比（A类之后）")),
    "tier_downgrade_idle_months": Spec("12", "int", N_("降级建议：连续几个月未消费")),
    "tier_downgrade_ratio_percent": Spec("50", "int", N_("降级建议：近12个月消费次数低于前12个月的百分比")),
    "tier_review_hour": Spec("2", "int", N_("每晚重新计算客户等级的时刻（时，北京时间）")),
    "tier_proposal_due": Spec("eod:5", "rule", N_("店长处理等级调整建议期限")),
    # Staff alerts in WeCom / DingTalk groups (issue 15).
    "staff_alert_urgent_hours": Spec("24", "int", N_("新待办在几小时内到期即为紧急，推送到工作群")),
    "staff_digest_hour": Spec("9", "int", N_("每日待办汇总推送时刻（时，北京时间）")),
}


_CACHE = "settings"  # db.session.info key: the stored settings, read once per transaction
_ENTERED = "calendar_entered"  # db.session.info key: the entered holiday years, likewise


def install_session_hooks() -> None:
    """Forget the cached settings when a transaction ends, so a change is seen by the next one."""
    from sqlalchemy import event

    if getattr(install_session_hooks, "done", False):
        return
    for name in ("after_commit", "after_rollback"):
        event.listen(db.session, name, _forget)
    install_session_hooks.done = True


def _forget(session) -> None:
    session.info.pop(_CACHE, None)
    session.info.pop(_ENTERED, None)
    session.info.pop("message_templates", None)  # outbox.TEMPLATES_CACHE


def forget_entered_years() -> None:
    """Drop the cached entered years (after saving one, within the same transaction)."""
    db.session.info.pop(_ENTERED, None)


def _stored() -> dict[str, str]:
    """Every stored setting in one query (most are never set: one query each would find nothing)."""
    cached = db.session.info.get(_CACHE)
    if cached is None:
        cached = dict(db.session.execute(select(Setting.key, Setting.value)).all())
        db.session.info[_CACHE] = cached
    return cached


def get(key: str) -> str:
    """Current value of a setting as text (the default when never set)."""
    return _stored().get(key, SPECS[key].default)


def get_int(key: str) -> int:
    return int(get(key))


def get_bool(key: str) -> bool:
    return get(key) in ("1", "true", "True", "on")


def put(key: str, value: str) -> None:
    """Store a setting (caller commits)."""
    if key not in SPECS:
        raise KeyError(key)
    row = db.session.get(Setting, key) or Setting(key=key)
    row.value = value
    db.session.add(row)
    db.session.info.pop(_CACHE, None)


def entered_years() -> dict:
    """The holiday years the administrator entered, as calendar.EnteredYear by year."""
    from .calendar import EnteredYear
    from .models import CalendarDay

    cached = db.session.info.get(_ENTERED)
    if cached is None:
        days: dict[int, dict] = {}
        for year, day, kind, source in db.session.execute(
                select(CalendarDay.year, CalendarDay.day, CalendarDay.kind, CalendarDay.source)):
            entry = days.setdefault(year, {"holiday": set(), "workday": set(), "source": source})
            entry[kind].add(day)
        cached = {year: EnteredYear(year, e["holiday"], e["workday"], e["source"])
                  for year, e in days.items()}
        db.session.info[_ENTERED] = cached
    return cached


def calendar_policy():
    """The calendar the due rules use, built from the settings and the entered years."""
    from datetime import date

    from .calendar import CalendarPolicy

    def dates(key):
        return frozenset(date.fromisoformat(x.strip()) for x in get(key).split() if x.strip())

    return CalendarPolicy(working_days=get_bool("working_days"),
                          extra_holidays=dates("extra_holidays"), extra_workdays=dates("extra_workdays"),
                          entered=entered_years())
