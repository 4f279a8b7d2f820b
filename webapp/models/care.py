"""Care batches (SPEC §3.4): the lines of a store's batch for one occasion."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TZDateTime


class CareLine(db.Model):
    """One member in a store's care batch (a Case of process care_batch): the method the tier
    gives them (workflows/care_batch_steps.METHODS), or why they are left out.

    status: planned | removed (by the manager) | excluded (by the system: dead number,
    frequency limit; the reason says which)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(db.ForeignKey("case.id"))  # led by uq_care_line_case_member
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), index=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"))
    tier: Mapped[str] = mapped_column(db.String(1))
    method: Mapped[str] = mapped_column(db.String(30))
    status: Mapped[str] = mapped_column(db.String(10), default="planned")
    reason: Mapped[str] = mapped_column(db.String(30), default="")
    # What the line is for beyond the occasion: the anniversaries' names ("结婚纪念日"), shown in
    # the batch and put in the greeting.
    note: Mapped[str] = mapped_column(db.String(80), default="", server_default="")
    added_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    changed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    member = relationship("Member")
    __table_args__ = (UniqueConstraint("case_id", "member_id", name="uq_care_line_case_member"),)
