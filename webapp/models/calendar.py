"""Holiday years the administrator entered: the working-day calendar consults them first."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from .base import TZDateTime


class CalendarDay(db.Model):
    """One day of an entered year: a day off (holiday) or a make-up workday (workday).

    `year` is the year whose notice names the day: the 2027 notice may take 2026-12-31 off,
    and that row belongs to 2027. A year is entered when it has rows; saving replaces them."""

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    day: Mapped[date] = mapped_column(db.Date)
    kind: Mapped[str] = mapped_column(db.String(10))  # holiday | workday
    source: Mapped[str] = mapped_column(db.String(10))  # manual | notice
    entered_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    entered_by = relationship("User")
    __table_args__ = (UniqueConstraint("year", "day", name="uq_calendar_day_year_day"),)
