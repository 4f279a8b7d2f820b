"""The complaint record behind a complaint case (SPEC §3.7, seed 004 §6.2)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..crypto import Encrypted, mask_mobile
from ..extensions import db
from .base import TZDateTime


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
    # The first contact with the customer (a reply, or agreeing a reply time): it meets the 24 h.
    contacted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # The reply time agreed with the customer: the deadline of the promised answer.
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
    carry_out_due_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    solved_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revisited_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revisit_note: Mapped[str] = mapped_column(db.Text, default="")
    survey_score: Mapped[int | None] = mapped_column()
    survey_comment: Mapped[str] = mapped_column(db.Text, default="")
    filed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # The handling form's remaining parts (seed 004 §6.2.1 principles 2, 4, 5; §6.2.2): the cause
    # of the dissatisfaction, the solution as explained to the customer (steps, time, effect), the
    # CS manager's decision on an escalation, the carry-out note, the store's handling and the
    # area supervisor's opinion, and who at HQ made the revisit.
    cause: Mapped[str] = mapped_column(db.Text, default="", server_default="")
    solution_steps: Mapped[str] = mapped_column(db.Text, default="", server_default="")
    solution_time: Mapped[str] = mapped_column(db.String(120), default="", server_default="")
    solution_effect: Mapped[str] = mapped_column(db.Text, default="", server_default="")
    manager_decision: Mapped[str] = mapped_column(db.Text, default="", server_default="")
    carry_out_note: Mapped[str] = mapped_column(db.Text, default="", server_default="")
    store_handling: Mapped[str] = mapped_column(db.Text, default="", server_default="")
    area_opinion: Mapped[str] = mapped_column(db.Text, default="", server_default="")
    revisited_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    reply_late: Mapped[bool] = mapped_column(default=False)
    solution_late: Mapped[bool] = mapped_column(default=False)
    revisit_late: Mapped[bool] = mapped_column(default=False)
    case = relationship("Case", backref=db.backref("complaint", uselist=False))
    store = relationship("Store")
    member = relationship("Member")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    solution_by = relationship("User", foreign_keys=[solution_by_id])
    revisited_by = relationship("User", foreign_keys=[revisited_by_id])

    @property
    def masked_contact(self) -> str:
        value = self.contact or ""
        return mask_mobile(value) if value.isdigit() else (value[:2] + "***" if value else "")

    def open_breaches(self, now: datetime | None = None) -> list[str]:
        """Limits passed and not met yet (the ones met late are in `breaches`).

        reply: no contact within 24 h; promise: the answer promised for the agreed reply time;
        solution: no solution put to the customer within 48 h; carry_out: not carried out in
        time after the customer agreed; revisit: no revisit within a week of carrying out."""
        now = now or clock.now()
        pending = (("reply", self.contacted_at, self.reply_due_at),
                   ("promise", self.replied_at, self.agreed_reply_at),
                   ("solution", self.proposed_at, self.solution_due_at),
                   ("carry_out", self.solved_at, self.carry_out_due_at),
                   ("revisit", self.revisited_at, self.revisit_due_at))
        return [name for name, done, due in pending if done is None and due and now > due]

    def late_flags(self) -> list[str]:
        """Limits met, but late."""
        derived = (("promise", self.replied_at, self.agreed_reply_at),
                   ("carry_out", self.solved_at, self.carry_out_due_at))
        return ([name for name, flag in (("reply", self.reply_late), ("solution", self.solution_late),
                                         ("revisit", self.revisit_late)) if flag]
                + [name for name, done, due in derived if done and due and done > due])

    def breaches(self, now: datetime | None = None) -> list[str]:
        """Every limit this complaint broke, whether it was later met or not."""
        return sorted(set(self.late_flags()) | set(self.open_breaches(now)), key=LIMITS.index)


LIMITS = ["reply", "promise", "solution", "carry_out", "revisit"]
