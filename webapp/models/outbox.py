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
    # queued → sending (claimed by one worker) → sent (provider_message_id) → delivered / failed;
    # a temporary failure goes back to queued with next_attempt_at; "unknown" = the worker died
    # between the provider's answer and the commit: never sent again (no double send).
    status: Mapped[str] = mapped_column(db.String(10), default="queued")
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now, index=True)
    # The placeholders' values, for providers whose templates take variables (not the text).
    params: Mapped[dict | None] = mapped_column(db.JSON)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZDateTime, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    provider: Mapped[str | None] = mapped_column(db.String(20))
    provider_message_id: Mapped[str | None] = mapped_column(db.String(80), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    error: Mapped[str | None] = mapped_column(db.String(200))
    segments: Mapped[int] = mapped_column(default=1, server_default="1")
    member = relationship("Member")
