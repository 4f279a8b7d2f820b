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
    # No foreign keys on this table: a festival writes a line per member (1 M rows), and
    # PostgreSQL checks each foreign key row by row (a lookup and a lock of the referenced row
    # per line and key), which cost more than writing the lines (README, "Care batches").
    # Lines are only written from existing rows (care_batch_steps.insert_lines joins the new
    # cases with the members; services/care.add_member from a loaded member), and cases,
    # members, stores and users are never deleted.
    case_id: Mapped[int] = mapped_column()  # led by uq_care_line_case_member
    member_id: Mapped[int] = mapped_column()
    store_id: Mapped[int] = mapped_column()
    tier: Mapped[str] = mapped_column(db.String(1))
    method: Mapped[str] = mapped_column(db.String(30))
    status: Mapped[str] = mapped_column(db.String(10), default="planned")
    reason: Mapped[str] = mapped_column(db.String(30), default="")
    # What the line is for beyond the occasion: the anniversaries' names ("结婚纪念日"), shown in
    # the batch and put in the greeting.
    note: Mapped[str] = mapped_column(db.String(80), default="", server_default="")
    added_by_id: Mapped[int | None] = mapped_column()
    changed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    member = relationship("Member", primaryjoin="foreign(CareLine.member_id) == Member.id",
                          viewonly=True)
    __table_args__ = (UniqueConstraint("case_id", "member_id", name="uq_care_line_case_member"),)
