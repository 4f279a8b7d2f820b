"""Complaint service: recording, acting on a step, watchers' comments and reminders, reveal.

The process is declared in workflows/complaints.py, each step's guard and effect in
workflows/complaint_steps.py; this module validates input, calls the engine and commits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import clock, permissions, settings, staff_alerts
from ..extensions import db
from ..models import AuditEvent, Case, Complaint, Member, Notification, Store, Task, User
from ..workflows import engine
from ..workflows.complaint_steps import CONSENT_HOW, SURVEY_SCORES, when as _when  # noqa: F401
from ..workflows.complaints import direct, store as store_process
from . import tiers
from .registration import InvalidMobile, find_by_mobile, normalise_mobile
from ..i18n_labels import N_, Refusal

CHANNELS = {"phone": N_("电话"), "email": N_("电子邮件"), "im": N_("即时通讯"), "in_store": N_("门店现场"),
            "fax": N_("传真"),
            "other": N_("其他")}


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
    staff_alerts.emit("complaint.filed", {  # other systems subscribed (no contact, no text)
        "complaint_id": complaint.id, "case_id": case.id, "kind": complaint.kind,
        "channel": complaint.channel, "store_id": store.id, "store_code": store.code,
        "member_id": complaint.member_id, "received_at": complaint.received_at,
        "reply_due_at": complaint.reply_due_at}, object_id=complaint.id, now=now)
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


def visible_complaints(user: User, *, state: str = "", kind: str = "", tier: str = "",
                       limit: int = 100):
    """Complaints in the user's scope, newest first (with `tier`: those that concern a member of
    that tier whom the user may see — another store's member's tier is not theirs to learn)."""
    query = (select(Complaint).join(Case, Case.id == Complaint.case_id)
             .where(permissions.case_filter(user)).order_by(Complaint.received_at.desc()).limit(limit))
    query = tiers.only_tier(query, Complaint.member_id, tier, permissions.member_filter(user))
    if state:
        query = query.where(Case.state == state)
    if kind:
        query = query.where(Complaint.kind == kind)
    return db.session.scalars(query).all()
