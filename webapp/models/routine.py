"""The weekly routine's Friday memorisation check (SPEC §3.8; seed 000 §5): one question per
row, about one member of the week's profiles, put to one associate."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from .base import TZDateTime


class RoutineQuestion(db.Model):
    """"王喆的尺码？": `kind` says what is asked (tier, size, birthday, last_purchase,
    preference). The expected answer is not stored: it is read from the member's data when
    the associate answers, so the check scores against the record as it is. `correct` is None
    until scored; a preference (free text) is judged by the store manager."""

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(db.ForeignKey("case.id"), index=True)
    associate_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"), index=True)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"))
    kind: Mapped[str] = mapped_column(db.String(16))
    position: Mapped[int] = mapped_column(default=0)
    answer: Mapped[str | None] = mapped_column(db.String(200))
    correct: Mapped[bool | None] = mapped_column()
    answered_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    judged_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    member = relationship("Member")
    associate = relationship("User", foreign_keys=[associate_id])
    __table_args__ = (UniqueConstraint("case_id", "associate_id", "member_id", "kind",
                                       name="uq_routine_question"),)
