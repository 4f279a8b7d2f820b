"""Records kept for filing (存档备查): the reviewed monthly analysis pack, one version per review."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import TZDateTime


class AnalysisSnapshot(db.Model):
    """The four analyses of one month at one scope as HQ reviewed them (数据审核): frozen JSON of
    the computed reports, signed (who, when, comment). A later review adds a version; none is
    ever changed, so late data shows as a difference against the archived figures."""

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(db.String(7), index=True)  # "2026-10"
    scope: Mapped[str] = mapped_column(db.String(20))  # "company" | "area:1" | "store:3"
    version: Mapped[int] = mapped_column()
    reports: Mapped[dict] = mapped_column(db.JSON)  # analysis kind → Report.as_json()
    flags: Mapped[list] = mapped_column(db.JSON, default=list)
    reviewed_by_id: Mapped[int] = mapped_column(db.ForeignKey("user.id"))
    reviewed_at: Mapped[datetime] = mapped_column(TZDateTime)
    comment: Mapped[str] = mapped_column(db.Text, default="")
    reviewed_by = relationship("User")
    __table_args__ = (UniqueConstraint("period", "scope", "version"),)
