"""The complaint record behind a complaint case (SPEC §3.7, seed 004 §6.2)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import clock
from .crypto import Encrypted, mask_mobile
from .extensions import db
from .models import TZDateTime


class Complaint(db.Model):
    """What the customer said, what was done, and when — each stage's time is kept for filing.

    Lateness is kept as flags set when a stage is done (or found overdue), so a breach stays
    visible after the stage is finally done; open breaches are derived from the due times.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(db.ForeignKey("case.id"), unique=True)
    kind: Mapped[str] = mapped_column(db.String(10))  # direct | store
    channel: Mapped[str] = mapped_column(db.String(12))
    member_id: Mapped[int | None] = mapped_column(db.ForeignKey("member.id"), index=True)
    customer_name: Mapped[str] = mapped_column(db.String(60))
    contact = mapped_column(Encrypted)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"), index=True)
    product: Mapped[str] = mapped_column(db.String(120), default="")
    description: Mapped[str] = mapped_column(db.Text)
    customer_wants: Mapped[str] = mapped_column(db.Text, default="")
    received_at: Mapped[datetime] = mapped_column(TZDateTime, index=True)
    recorded_by_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    reply_due_at: Mapped[datetime] = mapped_column(TZDateTime)
    agreed_reply_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    solution_due_at: Mapped[datetime] = mapped_column(TZDateTime)
    revisit_due_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    reply_text: Mapped[str] = mapped_column(db.Text, default="")
    escalated_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    solution_text: Mapped[str] = mapped_column(db.Text, default="")
    solution_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    proposed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    consent_by: Mapped[str] = mapped_column(db.String(60), default="")
    consent_how: Mapped[str] = mapped_column(db.String(12), default="")
    consent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revisited_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revisit_note: Mapped[str] = mapped_column(db.Text, default="")
    survey_score: Mapped[int | None] = mapped_column()
    survey_comment: Mapped[str] = mapped_column(db.Text, default="")
    filed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    reply_late: Mapped[bool] = mapped_column(default=False)
    solution_late: Mapped[bool] = mapped_column(default=False)
    revisit_late: Mapped[bool] = mapped_column(default=False)
    case = relationship("Case", backref=db.backref("complaint", uselist=False))
    store = relationship("Store")
    member = relationship("Member")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    solution_by = relationship("User", foreign_keys=[solution_by_id])

    @property
    def masked_contact(self) -> str:
        value = self.contact or ""
        return mask_mobile(value) if value.isdigit() else (value[:2] + "***" if value else "")

    def open_breaches(self, now: datetime | None = None) -> list[str]:
        """Limits passed and not met yet (the ones met late are in the *_late flags)."""
        now = now or clock.now()
        out = []
        if self.replied_at is None and now > self.reply_due_at:
            out.append("reply")
        if self.solved_at is None and now > self.solution_due_at:
            out.append("solution")
        if self.revisit_due_at and self.revisited_at is None and now > self.revisit_due_at:
            out.append("revisit")
        return out

    def breaches(self, now: datetime | None = None) -> list[str]:
        """Every limit this complaint broke, whether it was later met or not."""
        late = [name for name, flag in (("reply", self.reply_late), ("solution", self.solution_late),
                                        ("revisit", self.revisit_late)) if flag]
        return sorted(set(late) | set(self.open_breaches(now)), key=["reply", "solution", "revisit"].index)
