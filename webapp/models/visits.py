"""The monthly visit plan (SPEC §3.5): plan items associates propose and the manager sets,
visit records (《客户回访情况登记表》) with HQ's spot-check, and HQ's remarks per store and month."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from .base import TZDateTime


class PlanItem(db.Model):
    """One line of a store's plan for a month: whom to visit, why, how, by whom, when.

    `status` is "proposed" until the manager sets the plan ("set"); only set items become the
    associate's task on their date (`task_case_id`)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_case_id: Mapped[int] = mapped_column(db.ForeignKey("case.id"), index=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"))
    ym: Mapped[int] = mapped_column()  # the month the visit is for (YYYYMM)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), index=True)
    occasion: Mapped[str] = mapped_column(db.String(60))
    method: Mapped[str] = mapped_column(db.String(10))  # call | sms | visit | mail
    associate_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    planned_on: Mapped[date] = mapped_column(db.Date)
    status: Mapped[str] = mapped_column(db.String(10), default="proposed")
    # Frequency control (SPEC §3.4): visited several times without points growth.
    frequency_flag: Mapped[bool] = mapped_column(default=False)
    proposed_by_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    task_case_id: Mapped[int | None] = mapped_column(db.ForeignKey("case.id"))
    member = relationship("Member")
    associate = relationship("User", foreign_keys=[associate_id])
    __table_args__ = (Index("ix_plan_item_store_month", "store_id", "ym"),
                      Index("ix_plan_item_due", "status", "planned_on"))


class VisitRecord(db.Model):
    """One visit as 《客户回访情况登记表》 records it, planned or not, and HQ's check of it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"))
    ym: Mapped[int] = mapped_column()  # the local month of visited_at
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), index=True)
    associate_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    plan_item_id: Mapped[int | None] = mapped_column(db.ForeignKey("plan_item.id"), unique=True)
    method: Mapped[str] = mapped_column(db.String(10))
    visited_at: Mapped[datetime] = mapped_column(TZDateTime)
    result: Mapped[str] = mapped_column(db.String(200))
    feedback: Mapped[str] = mapped_column(db.Text, default="")
    follow_up: Mapped[bool] = mapped_column(default=False)
    # the member's accumulated points when visited (growth is measured from here)
    points_at_visit: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    # HQ spot-check: drawn into the month's sample, then HQ's call and its outcome
    sampled_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    checked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    check_confirmed: Mapped[bool | None] = mapped_column()
    check_note: Mapped[str] = mapped_column(db.String(300), default="")
    checked_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    member = relationship("Member")
    associate = relationship("User", foreign_keys=[associate_id])
    plan_item = relationship("PlanItem")
    # (store_id, visited_at): a store's visits between two moments — an associate's week
    # (routine.week_visits) read only that week's rows, not the store's whole history
    __table_args__ = (Index("ix_visit_record_store_month", "store_id", "ym"),
                      Index("ix_visit_record_store_visited", "store_id", "visited_at"))


class StoreVisitScore(db.Model):
    """HQ's assessment remarks (考核) on one store's visit work in one month."""

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"))
    ym: Mapped[int] = mapped_column()
    remarks: Mapped[str] = mapped_column(db.Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    __table_args__ = (UniqueConstraint("store_id", "ym", name="uq_store_visit_score"),)
