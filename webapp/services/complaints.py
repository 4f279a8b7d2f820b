"""Complaint service: recording, the guards and effects of each declared step, statistics.

The workflow declaration (workflows/complaints.py) names the steps; `check_<step>` returns a
refusal message (or None) and `on_<step>` writes the step's facts on the complaint, both inside
the engine's transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import clock, permissions, settings
from ..extensions import db
from ..models import AuditEvent, Case, Complaint, Member, Notification, Store, Task, User
from ..workflows import engine
from ..workflows.complaints import direct, store as store_process
from .messages import render
from .registration import InvalidMobile, find_by_mobile, normalise_mobile
from ..i18n_labels import N_, Refusal

CHANNELS = {"phone": N_("电话"), "email": N_("电子邮件"), "im": N_("即时通讯"), "in_store": N_("门店现场"),
            "other": N_("其他")}
CONSENT_HOW = {"phone": N_("电话"), "in_person": N_("当面"), "message": N_("短信/消息")}
SURVEY_SCORES = {5: N_("非常满意"), 4: N_("满意"), 3: N_("一般"), 2: N_("不满意"), 1: N_("非常不满意")}


class Invalid(ValueError):
    """Bad input: field name → Chinese message; nothing was written."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass
class NewComplaint:
    kind: str
    channel: str
    store_id: int | None
    customer_name: str
    contact: str
    product: str
    description: str
    customer_wants: str
    received_at: datetime | None = None


def record(*, actor: User, new: NewComplaint, now: datetime | None = None) -> Case:
    """Record a complaint and start its process; the three clocks run from receipt."""
    now = now or clock.now()
    store, member, errors = _validate(actor, new, now)
    if errors:
        raise Invalid(errors)
    received = new.received_at or now
    complaint = Complaint(
        kind=new.kind, channel=new.channel, member_id=member.id if member else None,
        customer_name=new.customer_name.strip() or (member.name if member else ""),
        contact=new.contact.strip(), store_id=store.id, product=new.product.strip(),
        description=new.description.strip(), customer_wants=new.customer_wants.strip(),
        received_at=received, recorded_by_id=actor.id,
        reply_due_at=received + timedelta(hours=settings.get_int("complaint_reply_hours")),
        solution_due_at=received + timedelta(hours=settings.get_int("complaint_solution_hours")))

    def attach(case: Case) -> None:
        complaint.case_id = case.id
        db.session.add(complaint)
        case.complaint = complaint

    process = direct if new.kind == "direct" else store_process
    try:
        case = engine.start(process, actor, title=f"投诉 {complaint.customer_name}",
                            store_id=store.id, area_id=store.area_id, member_id=complaint.member_id,
                            now=now, attach=attach)
    except engine.NotAllowed as exc:
        db.session.rollback()
        raise Invalid({"store_id": str(exc)}) from exc
    db.session.commit()
    return case


def _validate(actor: User, new: NewComplaint, now: datetime):
    errors: dict[str, str] = {}
    if new.kind not in ("direct", "store"):
        errors["kind"] = N_("投诉类型无效")
    if new.channel not in CHANNELS:
        errors["channel"] = N_("请选择投诉渠道")
    store = db.session.get(Store, new.store_id) if new.store_id else None
    if store is None:
        errors["store_id"] = N_("请选择被投诉的门店（门店不存在）")
    elif not permissions.in_scope(actor, store.id, store.area_id):
        errors["store_id"] = N_("该门店不在您的权限范围内")
    if not new.description.strip():
        errors["description"] = N_("请填写投诉内容")
    member = _member_for(new.contact)
    if not new.contact.strip():
        errors["contact"] = N_("请填写顾客联系方式（手机或邮箱）")
    elif member is None and not new.customer_name.strip():
        errors["customer_name"] = N_("非会员顾客请填写姓名")
    elif (member is not None and not new.customer_name.strip()
          and not permissions.can(actor, "member.view", member)):
        # another store's member: say that much, never their name or card
        errors["customer_name"] = N_("该号码已是其他门店的会员，会员资料请联系总部客服；请填写顾客姓名")
    if new.received_at and new.received_at > now + timedelta(minutes=5):
        errors["received_at"] = N_("受理时间不能晚于现在")
    return store, member, errors


def _member_for(contact: str) -> Member | None:
    """A member found by the keyed hash of the mobile given as contact, if it is one."""
    try:
        normalise_mobile(contact)
    except InvalidMobile:
        return None
    return find_by_mobile(contact)


def act(*, actor: User, case: Case, step: str, version: int, data: dict | None = None,
        comment: str = "", now: datetime | None = None) -> Case:
    """Fire one complaint step with its form data, and commit (`now`: the demo replays history)."""
    try:
        engine.fire(case, step, actor, version=version, data=_clean(data or {}), comment=comment,
                    now=now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return case


def _clean(data: dict) -> dict:
    """Audit-friendly values: text stripped, datetimes as ISO strings."""
    out = {}
    for key, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        elif isinstance(value, datetime):
            value = value.isoformat()
        out[key] = value
    return out


def _when(value) -> datetime | None:
    if not value:
        return None
    return clock.as_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


# --- guards: a message refuses the step ---------------------------------------------------------
def check_reply(case, data):
    return None if data.get("reply_text") else N_("请填写回复顾客的内容")


def check_escalate(case, data):
    if case.complaint.replied_at is not None:  # answered already: no reply time to agree
        return None
    agreed = _when(data.get("agreed_reply_at"))
    if agreed is None:
        return N_("请填写与顾客约定的回复时间")
    if agreed <= clock.now():
        return N_("约定回复时间应晚于现在")
    return None


def check_propose(case, data):
    return None if data.get("solution_text") else N_("请填写解决方案")


def check_consent(case, data):
    if not data.get("consent_by"):
        return N_("请填写同意方案的顾客姓名")
    if data.get("consent_how") not in CONSENT_HOW:
        return N_("请选择顾客同意的方式")
    at = _when(data.get("consent_at"))
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
        c.agreed_reply_at = _when(data.get("agreed_reply_at"))


def on_propose(case, actor, data, now):
    c = case.complaint
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
    c.consent_at = _when(data.get("consent_at")) or now
    c.carry_out_due_at = c.consent_at + timedelta(hours=settings.get_int("complaint_carry_out_hours"))


def on_reject(case, actor, data, now):
    c = case.complaint
    c.consent_at, c.consent_by, c.consent_how, c.carry_out_due_at = None, "", "", None


def on_carry_out(case, actor, data, now):
    c = case.complaint
    c.solved_at = now
    c.revisit_due_at = now + timedelta(days=settings.get_int("complaint_revisit_days"))
    _message(c, "complaint_solution", now)


def on_submit(case, actor, data, now):
    case.complaint.submitted_at = now


def on_revisit(case, actor, data, now):
    c = case.complaint
    c.revisited_at, c.revisit_note = now, data["revisit_note"]
    c.revisit_late = c.revisit_late or now > c.revisit_due_at


def on_survey(case, actor, data, now):
    c = case.complaint
    c.survey_score, c.survey_comment = data["survey_score"], data.get("survey_comment", "")
    c.filed_at = now


def on_take_over(case, actor, data, now):
    """HQ handles the store complaint from here, as a direct complaint in the same state."""
    case.process = direct.name


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
    from ..models import OutboxMessage
    from .messages import salutation

    contact = complaint.contact or ""
    channel = "email" if "@" in contact else "sms"
    reply = _GREETING.sub("", complaint.reply_text)
    if reply and reply[-1] not in "。！？!?.":
        reply += "。"
    context = {"salutation": salutation(complaint.member) if complaint.member else complaint.customer_name,
               "brand": settings.get("brand_name"), "hotline": settings.get("hotline"), "reply": reply}
    db.session.add(OutboxMessage(channel=channel, member_id=complaint.member_id,
                                 store_id=complaint.store_id, recipient=contact,
                                 recipient_name=complaint.customer_name, template=template,
                                 body=render(template, context), created_at=now))


class Refused(Refusal):
    """A watcher's action was refused; str() is the message in the user's language."""


def _watched_task(user: User, case: Case) -> Task:
    task = db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).first()
    if task is None or not permissions.can_watch(user, task):
        raise Refused(N_("只有收到超时通知的角色可以备注或催办"))
    return task


def comment(*, actor: User, case: Case, text: str, now: datetime | None = None) -> None:
    """A watcher's note on the overdue task, in the complaint's timeline."""
    task = _watched_task(actor, case)
    if not text.strip():
        raise Refused(N_("请填写备注内容"))
    db.session.add(AuditEvent(case_id=case.id, object_type="task", object_id=task.id, actor_id=actor.id,
                              at=now or clock.now(), action="comment", comment=text.strip()))
    db.session.commit()


def nudge(*, actor: User, case: Case, now: datetime | None = None) -> None:
    """Remind the holder of the overdue task (once per task): a notification to them and their role."""
    task = _watched_task(actor, case)
    now = now or clock.now()
    exists = db.session.scalar(select(Notification.id).where(Notification.task_id == task.id,
                                                             Notification.kind == "nudge"))
    if exists:
        raise Refused(N_("已催办过，请等待处理人跟进"))
    db.session.add(Notification(task_id=task.id, kind="nudge", role=task.role, user_id=task.assignee_id,
                                store_id=task.store_id, area_id=task.area_id, created_at=now))
    db.session.add(AuditEvent(case_id=case.id, object_type="task", object_id=task.id, actor_id=actor.id,
                              at=now, action="nudge"))
    db.session.commit()


def reveal_contact(*, user: User, case: Case, now: datetime | None = None) -> str:
    """The complaint's contact in full, for calling the customer back; every reveal is audited."""
    if not permissions.can(user, "complaint.reveal", case):
        raise PermissionError("您没有权限查看完整信息")
    db.session.add(AuditEvent(object_type="complaint", object_id=case.complaint.id, actor_id=user.id,
                              at=now or clock.now(), action="reveal", data={"field": "contact"}))
    db.session.commit()
    return case.complaint.contact or ""


def visible_complaints(user: User, *, state: str = "", kind: str = "", limit: int = 100):
    """Complaints in the user's scope, newest first."""
    query = (select(Complaint).join(Case, Case.id == Complaint.case_id)
             .where(permissions.case_filter(user)).order_by(Complaint.received_at.desc()).limit(limit))
    if state:
        query = query.where(Case.state == state)
    if kind:
        query = query.where(Complaint.kind == kind)
    return db.session.scalars(query).all()
