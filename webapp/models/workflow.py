"""Workflow state: cases, tasks with their deadlines, timers, stand-ins, notifications, the audit trail, batch jobs."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from .base import Role, TZDateTime


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
    # The case's store and area, copied for the inbox's scope filter. No foreign key of their
    # own: the case's keys already hold them (their two checks per task row were ~13 % of start_many).
    store_id: Mapped[int | None] = mapped_column()
    area_id: Mapped[int | None] = mapped_column()
    # no index of its own: every query by assignee asks for open tasks (ix_task_assignee_inbox)
    assignee_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
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
    # Indexes on columns a task is created without (escalated_at, co_role) are partial: a new
    # task is not written to them, only an escalated or co-handled one (start_many writes
    # 100,000 tasks at once); the inbox's parts name the same condition, so they still use them.
    __table_args__ = (
        Index("ix_task_inbox", "status", "role", "due_at"),
        Index("ix_task_escalated_inbox", "status", "escalate_to", "escalated_at",
              postgresql_where=text("escalated_at IS NOT NULL"),
              sqlite_where=text("escalated_at IS NOT NULL")),
        Index("ix_task_remind", "status", "remind_at"),
        Index("ix_task_due", "status", "due_at"),
        # "assigned to me" part of the inbox, in deadline order (services/inbox.py)
        Index("ix_task_assignee_inbox", "status", "assignee_id", "due_at"),
        # "escalated to me as the second role" part of the inbox (escalate_also)
        Index("ix_task_escalated_also_inbox", "status", "escalate_also", "escalated_at",
              postgresql_where=text("escalated_at IS NOT NULL"),
              sqlite_where=text("escalated_at IS NOT NULL")),
        # "handled with my role" part of the inbox (co_role)
        Index("ix_task_co_role_inbox", "status", "co_role", "due_at",
              postgresql_where=text("co_role IS NOT NULL"), sqlite_where=text("co_role IS NOT NULL")),
    )

    @property
    def overdue(self) -> bool:
        return self.status == "open" and self.due_at is not None and self.due_at <= clock.now()


class CaseTimer(db.Model):
    """A declared timer of a case's state: at `due_at` the system fires `transition`, once,
    and only if the case is still in `state` at `case_version` (it has not moved since)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed although timers are read by due time: deleting a case checks its timers by case_id
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
    # Looked up by object for members, users, stores… (tiers.history); a case's own events are
    # read by case_id, so on PostgreSQL they stay out of this index (start_many writes 100,000).
    __table_args__ = (Index("ix_audit_object", "object_type", "object_id",
                            postgresql_where=text("object_type <> 'case'")),)


class BatchJob(db.Model):
    """Progress of a long job run by a worker: a PDF batch, or the month's pack review
    (kind "pack_review", services/monthly_pack.request_review): who asked, with what, its state
    (queued, running, done, failed) and, when it failed, why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(db.String(30))
    requested_by_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(default=0)
    done: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(db.String(10), default="queued")
    file_path: Mapped[str | None] = mapped_column(db.String(300))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    error: Mapped[str | None] = mapped_column(db.String(500))  # a failed job's reason
    # Held while the job is queued or running, cleared when it ends: one at a time per key
    # ("pack_review:2026-10": one review of a month at once, whoever clicks).
    active_key: Mapped[str | None] = mapped_column(db.String(60), unique=True)
    requested_by = relationship("User")
