"""Database models: organisation, users, settings, members, workflow cases, tasks, audit, outbox."""
from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from . import clock
from .crypto import Encrypted, mask_mobile
from .extensions import db
from .i18n_labels import N_


class Role(str, enum.Enum):
    ASSOCIATE = "associate"
    STORE_MANAGER = "store_manager"
    AREA_SUPERVISOR = "area_supervisor"
    AREA_MANAGER = "area_manager"
    HQ_SPECIALIST = "hq_specialist"
    HQ_MANAGER = "hq_manager"
    ADMIN = "admin"


ROLE_LABELS = {Role.ASSOCIATE: N_("导购"), Role.STORE_MANAGER: N_("店长"),
               Role.AREA_SUPERVISOR: N_("片区主管"), Role.AREA_MANAGER: N_("区域经理"),
               Role.HQ_SPECIALIST: N_("总部客服专员"), Role.HQ_MANAGER: N_("客服经理"),
               Role.ADMIN: N_("管理员")}
STORE_ROLES = {Role.ASSOCIATE, Role.STORE_MANAGER}
AREA_ROLES = {Role.AREA_SUPERVISOR, Role.AREA_MANAGER}
COMPANY_ROLES = {Role.HQ_SPECIALIST, Role.HQ_MANAGER, Role.ADMIN}
# Ids are integer columns (PostgreSQL's 4 bytes). A number beyond that names no row, but asking
# the database for it raises (SQLite: above 64 bits) instead of finding nothing.
MAX_ID = 2**31 - 1


def parse_id(raw) -> int | None:
    """An id from a form or a query string; None unless it could name a row."""
    text_value = str(raw if raw is not None else "").strip()
    if not text_value.isdecimal() or len(text_value) > 10:  # isdecimal: what int() can read
        return None
    value = int(text_value)
    return value if 0 < value <= MAX_ID else None


class TZDateTime(db.TypeDecorator):
    """DateTime stored as UTC and always read back timezone-aware (SQLite drops tzinfo)."""

    impl = db.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return clock.as_utc(value)

    def process_result_value(self, value, dialect):
        return clock.as_utc(value)


class Area(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(80), unique=True)
    stores = relationship("Store", back_populates="area", order_by="Store.code")


class Store(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(db.String(20), unique=True)
    name: Mapped[str] = mapped_column(db.String(80))
    area_id: Mapped[int] = mapped_column(db.ForeignKey("area.id"), index=True)
    area = relationship("Area", back_populates="stores")


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(db.String(60), unique=True)
    display_name: Mapped[str] = mapped_column(db.String(60))
    password_hash: Mapped[str] = mapped_column(db.String(256), default="")
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=20))
    store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(db.ForeignKey("area.id"), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    must_change_password: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(TZDateTime)
    locale: Mapped[str | None] = mapped_column(db.String(10))
    store = relationship("Store")
    area = relationship("Area")

    @property
    def is_active(self) -> bool:  # Flask-Login refuses sessions of deactivated users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def scope_area_id(self) -> int | None:
        """The area a store-level user belongs to, through their store."""
        return self.area_id or (self.store.area_id if self.store else None)


class Setting(db.Model):
    key: Mapped[str] = mapped_column(db.String(60), primary_key=True)
    value: Mapped[str] = mapped_column(db.Text)


class Member(db.Model):
    """A (temporary or formal) member; personal data columns are encrypted at rest."""

    id: Mapped[int] = mapped_column(primary_key=True)
    card_no: Mapped[str] = mapped_column(db.String(20), unique=True)
    card_type: Mapped[str] = mapped_column(db.String(12), default="temporary")
    status: Mapped[str] = mapped_column(db.String(12), default="pending", index=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"), index=True)
    associate_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(60))
    gender: Mapped[str] = mapped_column(db.String(1))
    # Birth year stays clear for age-band analyses; the full date is personal data.
    birth_year: Mapped[int | None] = mapped_column()
    birth_date = mapped_column(Encrypted)
    mobile = mapped_column(Encrypted)
    mobile_hash: Mapped[str] = mapped_column(db.String(64), unique=True)
    address = mapped_column(Encrypted)
    work_address = mapped_column(Encrypted)
    email = mapped_column(Encrypted)
    occupation: Mapped[str] = mapped_column(db.String(20), default="")
    anniversary = mapped_column(Encrypted)
    preferences: Mapped[str] = mapped_column(db.Text, default="")
    heard_from: Mapped[str] = mapped_column(db.String(60), default="")
    applied_on: Mapped[date] = mapped_column(db.Date)
    points: Mapped[int] = mapped_column(default=0)  # accumulated (tiers, formal threshold)
    points_balance: Mapped[int] = mapped_column(default=0)  # not yet turned into cash back or gifts
    tier: Mapped[str] = mapped_column(db.String(1), default="C")
    card_expires_on: Mapped[date | None] = mapped_column(db.Date)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    store = relationship("Store")
    associate = relationship("User")

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


class Case(db.Model):
    """One running instance of a declared workflow; `version` guards concurrent transitions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    process: Mapped[str] = mapped_column(db.String(40))
    state: Mapped[str] = mapped_column(db.String(40))
    version: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(db.String(200))
    store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(db.ForeignKey("area.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(db.ForeignKey("member.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    # Set for cases the system opens on a schedule ("mailbox_check:2026-11-23"): one per key.
    dedupe_key: Mapped[str | None] = mapped_column(db.String(80), unique=True)
    member = relationship("Member")
    store = relationship("Store")
    created_by = relationship("User")
    __table_args__ = (Index("ix_case_process_state", "process", "state"),)


class Task(db.Model):
    """Work waiting for a person or a role in a scope; its deadline lives here, not in Redis."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(db.ForeignKey("case.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(40))
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=20))
    store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"))
    area_id: Mapped[int | None] = mapped_column(db.ForeignKey("area.id"))
    assignee_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"), index=True)
    status: Mapped[str] = mapped_column(db.String(10), default="open")
    due_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    remind_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    escalate_to: Mapped[Role | None] = mapped_column(db.Enum(Role, native_enum=False, length=20))
    # A second role told of a breach (store complaints: the area supervisor and HQ).
    escalate_also: Mapped[Role | None] = mapped_column(db.Enum(Role, native_enum=False, length=20))
    escalated_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # A role handling the task with `role` from the start, in its scope (store complaints: the
    # area supervisor beside the store).
    co_role: Mapped[Role | None] = mapped_column(db.Enum(Role, native_enum=False, length=20))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    closed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    # Years the deadline counted working days in without knowing their holidays ("2027"):
    # shown as a warning beside the deadline (calendar.uncovered_years).
    calendar_gap: Mapped[str | None] = mapped_column(db.String(20))
    case = relationship("Case")
    assignee = relationship("User", foreign_keys=[assignee_id])
    __table_args__ = (
        Index("ix_task_inbox", "status", "role", "due_at"),
        Index("ix_task_escalated_inbox", "status", "escalate_to", "escalated_at"),
        Index("ix_task_remind", "status", "remind_at"),
        Index("ix_task_due", "status", "due_at"),
        # "assigned to me" part of the inbox, in deadline order (services/inbox.py)
        Index("ix_task_assignee_inbox", "status", "assignee_id", "due_at"),
        # "escalated to me as the second role" part of the inbox (escalate_also)
        Index("ix_task_escalated_also_inbox", "status", "escalate_also", "escalated_at"),
        # "handled with my role" part of the inbox (co_role)
        Index("ix_task_co_role_inbox", "status", "co_role", "due_at"),
    )

    @property
    def overdue(self) -> bool:
        return self.status == "open" and self.due_at is not None and self.due_at <= clock.now()


class CaseTimer(db.Model):
    """A declared timer of a case's state: at `due_at` the system fires `transition`, once,
    and only if the case is still in `state` at `case_version` (it has not moved since)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(db.ForeignKey("case.id"), index=True)
    state: Mapped[str] = mapped_column(db.String(40))
    transition: Mapped[str] = mapped_column(db.String(40))
    case_version: Mapped[int] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(TZDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    outcome: Mapped[str | None] = mapped_column(db.String(20))  # fired | stale | refused
    __table_args__ = (Index("ix_case_timer_pending", "fired_at", "due_at"),)


class StandIn(db.Model):
    """While `user` is away (starts_at <= now < ends_at), `stand_in` sees and does their tasks."""

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"), index=True)
    stand_in_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(TZDateTime)
    ends_at: Mapped[datetime] = mapped_column(TZDateTime)
    created_by_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    cancelled_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    user = relationship("User", foreign_keys=[user_id])
    stand_in = relationship("User", foreign_keys=[stand_in_id])


class Notification(db.Model):
    """A reminder or escalation message; unique per (task, kind) so a deadline fires once."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(db.ForeignKey("task.id"))
    kind: Mapped[str] = mapped_column(db.String(20))  # remind | escalate | escalate_also
    role: Mapped[Role] = mapped_column(db.Enum(Role, native_enum=False, length=20))
    user_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"), index=True)
    store_id: Mapped[int | None] = mapped_column()
    area_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    task = relationship("Task")
    __table_args__ = (UniqueConstraint("task_id", "kind", name="uq_notification_task_kind"),
                      Index("ix_notification_role", "role", "read_at"),
                      # my unread notifications (nav badge) without reading the read ones
                      Index("ix_notification_user_unread", "user_id", "read_at"))


class AuditEvent(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(db.ForeignKey("case.id"), index=True)
    object_type: Mapped[str] = mapped_column(db.String(30))
    object_id: Mapped[int | None] = mapped_column()
    actor_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))  # None: the system
    # A stand-in acting for an away colleague: the audit reads "B for A".
    on_behalf_of_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    action: Mapped[str] = mapped_column(db.String(40))
    from_state: Mapped[str | None] = mapped_column(db.String(40))
    to_state: Mapped[str | None] = mapped_column(db.String(40))
    comment: Mapped[str] = mapped_column(db.Text, default="")
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    actor = relationship("User", foreign_keys=[actor_id])
    on_behalf_of = relationship("User", foreign_keys=[on_behalf_of_id])
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id"),)


class OutboxMessage(db.Model):
    """SMS/e-mail waiting for (or recorded instead of) a gateway."""

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(db.String(10), default="sms")
    member_id: Mapped[int | None] = mapped_column(db.ForeignKey("member.id"), index=True)
    store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"), index=True)
    recipient = mapped_column(Encrypted)
    # Who it is for, as the outbox lists it: the member, or a complaint's customer.
    recipient_name: Mapped[str | None] = mapped_column(db.String(60))
    template: Mapped[str] = mapped_column(db.String(40))
    body: Mapped[str] = mapped_column(db.Text)
    status: Mapped[str] = mapped_column(db.String(10), default="queued")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now, index=True)
    member = relationship("Member")


class PointsEntry(db.Model):
    """One line of a member's points ledger: a sale, a return, cash back used, a gift exchange
    or a manual correction. `points` moves the accumulated points (tiers, formal threshold);
    `balance_points` moves what can still be turned into cash back or gifts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(12))  # sale | return | cashback | exchange | correction
    points: Mapped[int] = mapped_column(default=0)
    balance_points: Mapped[int] = mapped_column(default=0)
    sale_id: Mapped[int | None] = mapped_column(db.ForeignKey("sale.id"), unique=True)
    note: Mapped[str] = mapped_column(db.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    # The points SMS of the day this entry belongs to (one per member per day of sales).
    notified_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    member = relationship("Member")
    __table_args__ = (Index("ix_points_entry_unnotified", "notified_at", "kind"),)


class LoginAttempt(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(db.String(60), index=True)
    ip: Mapped[str] = mapped_column(db.String(45))
    ok: Mapped[bool] = mapped_column()
    at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)


class BatchJob(db.Model):
    """Progress of a long PDF batch rendered by a worker."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(db.String(30))
    requested_by_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(db.String(10), default="queued")
    file_path: Mapped[str | None] = mapped_column(db.String(300))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)


from .complaint_models import Complaint  # noqa: E402,F401  (kept in its own module)
from .sales_models import *  # noqa: E402,F401,F403  (sales data, in its own module)
from .calendar_models import CalendarDay  # noqa: E402,F401  (entered holiday years)
