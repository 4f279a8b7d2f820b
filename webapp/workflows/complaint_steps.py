"""What each complaint step checks (guards: a message refuses it) and records (effects: the
step's facts on the complaint, the customer's SMS). Passed by reference to the declarations in
workflows/complaints.py, so a reader finds each step's rule here and its place in the process there.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

from .. import clock, settings, sms
from ..extensions import db
from ..i18n_labels import N_
from ..models import Complaint, OutboxMessage
from ..outbox import render, salutation, sms_segments

CONSENT_HOW = {"phone": N_("电话"), "in_person": N_("当面"), "message": N_("短信/消息")}
SURVEY_SCORES = {5: N_("非常满意"), 4: N_("满意"), 3: N_("一般"), 2: N_("不满意"), 1: N_("非常不满意")}


def when(value) -> datetime | None:
    if not value:
        return None
    return clock.as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


# --- guards: a message refuses the step ---------------------------------------------------------
def check_reply(case, data):
    return None if data.get("reply_text") else N_("请填写回复顾客的内容")


def check_escalate(case, data):
    if case.complaint.replied_at is not None:  # answered already: no reply time to agree
        return None
    agreed = when(data.get("agreed_reply_at"))
    if agreed is None:
        return N_("请填写与顾客约定的回复时间")
    if agreed <= clock.now():
        return N_("约定回复时间应晚于现在")
    return None


def check_propose(case, data):
    return None if data.get("solution_text") else N_("请填写解决方案")


def check_hand_back(case, data):
    return None if data.get("manager_decision") else N_("请填写客服经理的决定")


def check_submit(case, data):
    return None if data.get("store_handling") else N_("请填写门店处理情况")


def check_consent(case, data):
    if not data.get("consent_by"):
        return N_("请填写同意方案的顾客姓名")
    if data.get("consent_how") not in CONSENT_HOW:
        return N_("请选择顾客同意的方式")
    at = when(data.get("consent_at"))
    if at and at > clock.now() + timedelta(minutes=5):
        return N_("同意时间不能晚于现在")
    if at and at < case.complaint.proposed_at:
        return N_("同意时间不能早于提出方案的时间")
    return None


def check_carry_out(case, data):
    complaint = case.complaint
    if not complaint.consent_at:
        return N_("顾客尚未同意解决方案，不能执行")
    return None


def check_revisit(case, data):
    return None if data.get("revisit_note") else N_("请填写回访记录")


def check_survey(case, data):
    score = data.get("survey_score")
    if not isinstance(score, int) or not 1 <= score <= 5:
        return N_("请选择满意度（非常满意至非常不满意）")
    return None


# --- effects: the step's facts on the record ----------------------------------------------------
def _first_contact(c: Complaint, now: datetime) -> None:
    """The 24 h limit is met by the first contact with the customer, whatever it is."""
    if c.contacted_at is None:
        c.contacted_at = now
        c.reply_late = c.reply_late or now > c.reply_due_at


def on_reply(case, actor, data, now):
    c = case.complaint
    _first_contact(c, now)
    c.replied_at, c.reply_text = now, data["reply_text"]
    _message(c, "complaint_reply", now)


def on_escalate(case, actor, data, now):
    c = case.complaint
    c.escalated_at = now
    if c.replied_at is None:  # "与顾客协商回复时间": a contact; the agreed time is the promised answer's deadline
        _first_contact(c, now)
        c.agreed_reply_at = when(data.get("agreed_reply_at"))


def on_propose(case, actor, data, now):
    """The solution with what principle 5 asks to explain to the customer (steps, time, effect),
    and the cause of the dissatisfaction found by listening (principles 2 and 4)."""
    c = case.complaint
    for key in ("cause", "solution_steps", "solution_time", "solution_effect"):
        if data.get(key) or key != "cause":  # a later proposal keeps the cause found earlier
            setattr(c, key, data.get(key) or "")
    if c.proposed_at is None:  # "48小时内给出解决方案": met when the first solution is put to the customer
        c.solution_late = c.solution_late or now > c.solution_due_at
    c.solution_text, c.proposed_at, c.solution_by_id = data["solution_text"], now, actor.id
    c.consent_at, c.consent_by, c.consent_how, c.carry_out_due_at = None, "", "", None
    if c.replied_at is None:  # the proposal answers the customer
        _first_contact(c, now)
        c.replied_at, c.reply_text = now, data["solution_text"]


def on_consent(case, actor, data, now):
    c = case.complaint
    c.consent_by, c.consent_how = data["consent_by"], data["consent_how"]
    c.consent_at = when(data.get("consent_at")) or now
    c.carry_out_due_at = c.consent_at + timedelta(hours=settings.get_int("complaint_carry_out_hours"))


def on_reject(case, actor, data, now):
    c = case.complaint
    c.consent_at, c.consent_by, c.consent_how, c.carry_out_due_at = None, "", "", None


def on_hand_back(case, actor, data, now):
    case.complaint.manager_decision = data["manager_decision"]


def on_carry_out(case, actor, data, now):
    c = case.complaint
    c.solved_at, c.carry_out_note = now, data.get("carry_out_note") or ""
    c.revisit_due_at = now + timedelta(days=settings.get_int("complaint_revisit_days"))
    _message(c, "complaint_solution", now)


def on_submit(case, actor, data, now):
    """The store's handling and the area supervisor's opinion go to HQ with the form."""
    c = case.complaint
    c.submitted_at, c.store_handling = now, data["store_handling"]
    c.area_opinion = data.get("area_opinion") or ""


def on_revisit(case, actor, data, now):
    c = case.complaint
    c.revisited_at, c.revisit_note, c.revisited_by_id = now, data["revisit_note"], actor.id
    c.revisit_late = c.revisit_late or now > c.revisit_due_at


def on_survey(case, actor, data, now):
    c = case.complaint
    c.survey_score, c.survey_comment = data["survey_score"], data.get("survey_comment", "")
    c.filed_at = now


def on_take_over(case, actor, data, now):
    """HQ handles the store complaint from here, as a direct complaint in the same state."""
    case.process = "complaint_direct"


def on_reopen(case, actor, data, now):
    """A reopened complaint needs a new solution within the solution limit from now;
    earlier lateness stays on the record."""
    c = case.complaint
    c.consent_at, c.consent_by, c.consent_how, c.carry_out_due_at = None, "", "", None
    c.proposed_at = c.solved_at = c.revisit_due_at = c.revisited_at = c.filed_at = None
    c.survey_score = None
    c.solution_due_at = now + timedelta(hours=settings.get_int("complaint_solution_hours"))


# "王先生您好，" at the start of what staff wrote: the template greets already.
_GREETING = re.compile(r"^\s*[^\s，,。！!：:]{1,10}(您好|你好)[，,！!：:。\s]*")


def _message(complaint: Complaint, template: str, now: datetime) -> None:
    """Tell the customer by SMS when the contact is a mobile (e-mail goes through the outbox too)."""
    contact = complaint.contact or ""
    channel = "email" if "@" in contact else "sms"
    reply = _GREETING.sub("", complaint.reply_text)
    if reply and reply[-1] not in "。！？!?.":
        reply += "。"
    context = {"salutation": salutation(complaint.member) if complaint.member else complaint.customer_name,
               "brand": settings.get("brand_name"), "hotline": settings.get("hotline"), "reply": reply,
               "name": complaint.customer_name}
    db.session.add(OutboxMessage(channel=channel, member_id=complaint.member_id,
                                 store_id=complaint.store_id, recipient=contact,
                                 recipient_name=complaint.customer_name, template=template,
                                 body=(body := render(template, context)), created_at=now,
                                 params={k: str(v) for k, v in context.items()},
                                 segments=sms_segments(body)))
    if channel == "sms":
        sms.send_after_commit()


GUARDS = {"reply": check_reply, "escalate": check_escalate, "propose": check_propose,
          "consent": check_consent, "carry_out": check_carry_out, "revisit": check_revisit,
          "survey": check_survey, "hand_back": check_hand_back, "submit": check_submit}
EFFECTS = {"reply": on_reply, "escalate": on_escalate, "propose": on_propose,
           "consent": on_consent, "reject": on_reject, "carry_out": on_carry_out,
           "submit": on_submit, "revisit": on_revisit, "survey": on_survey,
           "take_over": on_take_over, "reopen": on_reopen, "hand_back": on_hand_back}
