"""Which key the member data is encrypted with (its fingerprint, never the key)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..extensions import db
from .base import TZDateTime

__all__ = ["MemberKey"]


class MemberKey(db.Model):
    """One row: the fingerprint of MEMBER_DATA_KEY the data is under, and while a rotation runs,
    the fingerprint of the key it moves to (the app refuses to start until the rotation ends)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    fingerprint: Mapped[str] = mapped_column(db.String(64))
    rotating_to: Mapped[str | None] = mapped_column(db.String(64))
    changed_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
