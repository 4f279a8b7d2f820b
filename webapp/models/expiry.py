"""Card renewals (SPEC §2 card validity, §3.6): each extension of a member's card, by the
waiver or by the fee paid, with the dates it moved between."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from .base import TZDateTime
from .members import Member


class CardRenewal(db.Model):
    """One renewal: `kind` waiver (the system, the member met the waiver in the card year) or
    payment (the fee paid at a store); the card runs from `old_expires_on` to `new_expires_on`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(10))  # waiver | payment
    old_expires_on: Mapped[date] = mapped_column(db.Date)
    new_expires_on: Mapped[date] = mapped_column(db.Date)
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"))
    case_id: Mapped[int | None] = mapped_column(db.ForeignKey("case.id"))
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))  # None: the system
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    member = relationship("Member")
    paid_store = relationship("Store")
    # one renewal per member and card year: the waiver run twice renews once
    __table_args__ = (Index("uq_card_renewal_member_old", "member_id", "old_expires_on",
                            unique=True),)


# The monthly list finds next month's expiring cards by date (declared here, beside its reader).
Index("ix_member_card_expires_on", Member.card_expires_on)
