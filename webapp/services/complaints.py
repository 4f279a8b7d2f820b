"""Complaint service: recording, the guards and effects of each declared step, statistics.

The workflow declaration (workflows/complaints.py) names the steps; `check_<step>` returns a
refusal message (or None) and `on_<step>` writes the step's facts on the complaint, both inside
the engine's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import clock, permissions, settings
from ..extensions import db
from ..models import Case, Complaint, Member, Store, User
from ..workflows import engine
from ..workflows.complaints import direct, store as store_process
from .messages import render
from .registration import InvalidMobile, find_by_mobile, normalise_mobile
from ..i18n_labels import N_

CHANNELS = {"phone": N_("电话"), "email": N_("电子邮件"), "im": N_("即时通讯"), "in_store": N_("门店现场"),
            "other": N_("其他")}
CONSENT_HOW = {"phone": N_("电话"), "in_person": N_("当面"), "message": N_("短信/消息")}


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
        errors["store_id"] = N_("请选择被投诉的门店(门店不存在)")
    elif not permissions.in_scope(actor, store.id, store.area_id):
        errors["store_id"] = N_("该门店不在您的权限范围内")
    if not new.description.strip():
        errors["description"] = N_("请填写投诉内容")
    member = _member_for(new.contact)
    if not new.contact.strip():
        errors["contact"] = N_("请填写顾客联系方式(手机或邮箱)")
    elif member is None and not new.customer_name.strip():
        errors["customer_name"] = N_("非会员顾客请填写姓名")
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
    agreed = _when(data.get("agreed_reply_at"))
    if case.complaint.replied_at is None and agreed is None:
        return N_("请填写与顾客约定的回复时间")
    if agreed and agreed <= clock.now():
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
    return None


def check_carry_out(case, data):
    complaint = case.complaint
    if not complaint.consent_at:
        return N_("顾客尚未同意解决方案,不能执行")
    return None


def check_revisit(case, data):
    return None if data.get("revisit_note") else N_("请填写回访记录")


def check_survey(case, data):
    score = data.get("survey_score")
    if not isinstance(score, int) or not 1 <= score <= 5:
        return N_("请选择1-5分的满意度")
    return None


# --- effects: the step's facts on the record ----------------------------------------------------
def on_reply(case, actor, data, now):
    c = case.complaint
    c.replied_at, c.reply_text = now, data["reply_text"]
    c.reply_late = c.reply_late or now > c.reply_due_at
    _message(c, "complaint_reply", now)


def on_escalate(case, actor, data, now):
    c = case.complaint
    c.escalated_at = now
    agreed = _when(data.get("agreed_reply_at"))
    if agreed:
        c.agreed_reply_at = agreed
        if c.replied_at is None:  # "与顾客协商回复时间": the agreed time is the reply deadline
            c.reply_due_at = agreed


def on_propose(case, actor, data, now):
    c = case.complaint
    c.solution_text, c.proposed_at, c.solution_by_id = data["solution_text"], now, actor.id
    c.consent_at, c.consent_by, c.consent_how = None, "", ""
    if c.replied_at is None:  # the proposal answers the customer
        c.replied_at, c.reply_text = now, data["solution_text"]
        c.reply_late = c.reply_late or now > c.reply_due_at


def on_consent(case, actor, data, now):
    c = case.complaint
    c.consent_by, c.consent_how = data["consent_by"], data["consent_how"]
    c.consent_at = _when(data.get("consent_at")) or now


def on_reject(case, actor, data, now):
    c = case.complaint
    c.consent_at, c.consent_by, c.consent_how = None, "", ""


def on_carry_out(case, actor, data, now):
    c = case.complaint
    c.solved_at = now
    c.solution_late = c.solution_late or now > c.solution_due_at
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


def on_reopen(case, actor, data, now):
    """A reopened complaint needs a new solution within the solution limit from now;
    earlier lateness stays on the record."""
    c = case.complaint
    c.consent_at, c.consent_by, c.consent_how = None, "", ""
    c.solved_at = c.revisit_due_at = c.revisited_at = c.filed_at = c.survey_score = None
    c.solution_due_at = now + timedelta(hours=settings.get_int("complaint_solution_hours"))


def _message(complaint: Complaint, template: str, now: datetime) -> None:
    """Tell the customer by SMS when the contact is a mobile (e-mail goes through the outbox too)."""
    from ..models import OutboxMessage

    contact = complaint.contact or ""
    channel = "email" if "@" in contact else "sms"
    context = {"salutation": complaint.customer_name, "brand": settings.get("brand_name"),
               "hotline": settings.get("hotline"), "reply": complaint.reply_text,
               "solution": complaint.solution_text}
    db.session.add(OutboxMessage(channel=channel, member_id=complaint.member_id,
                                 store_id=complaint.store_id, recipient=contact,
                                 recipient_name=complaint.customer_name, template=template,
                                 body=render(template, context), created_at=now))


def visible_complaints(user: User, *, state: str = "", kind: str = "", limit: int = 100):
    """Complaints in the user's scope, newest first."""
    query = (select(Complaint).join(Case, Case.id == Complaint.case_id)
             .where(permissions.case_filter(user)).order_by(Complaint.received_at.desc()).limit(limit))
    if state:
        query = query.where(Case.state == state)
    if kind:
        query = query.where(Complaint.kind == kind)
    return db.session.scalars(query).all()
