"""Message templates as the administrator edits them: every save is a new version, the newest wins."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from .base import TZDateTime


class MessageTemplateVersion(db.Model):
    """One saved text of a template (SMS or call script); none saved = the seed's default."""

    __table_args__ = (db.UniqueConstraint("key", "version", name="uq_message_template_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(db.String(40), index=True)
    version: Mapped[int] = mapped_column()
    body: Mapped[str] = mapped_column(db.Text)
    author_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    author = relationship("User")
