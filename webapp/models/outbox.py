"""Messages written for members and customers (SMS, e-mail), recorded or sent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..crypto import Encrypted
from ..extensions import db
from .base import TZDateTime


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
