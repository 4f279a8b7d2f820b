"""Periods the company counts in: a local day, a month, a year — one place for their arithmetic.

Conventions (as in calendar.py): days are company-local (Asia/Shanghai); a period's `window()` is
the half-open UTC interval [start, end) from local midnight to local midnight, ready for
`column >= start AND column < end`; "the 30th" of a month without one is its last day; a month
is also written as the integer YYYYMM (`ym`) where the sales roll-ups key by month.

Pure module: no Flask, no database.
"""
from __future__ import annotations

import calendar as _stdlib_calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .calendar import YEARS, local_date, local_midnight_utc

Window = tuple[datetime, datetime]


def day_window(day: date) -> Window:
    """The UTC interval of one local day."""
    return local_midnight_utc(day), local_midnight_utc(day + timedelta(days=1))


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    def __post_init__(self) -> None:
        if self.year not in YEARS or not 1 <= self.month <= 12:
            raise ValueError(f"no such month: {self.year}-{self.month}")

    @classmethod
    def of(cls, day: date) -> "Month":
        """The month a local day (or an aware datetime, taken in local time) falls in."""
        if isinstance(day, datetime):
            day = local_date(day)
        return cls(day.year, day.month)

    @classmethod
    def from_ym(cls, ym: int) -> "Month":
        return cls(*divmod(ym, 100))

    @classmethod
    def parse(cls, text: str) -> "Month":
        """'2026-11' → Month(2026, 11); ValueError for anything else."""
        parts = (text or "").strip().split("-")
        if len(parts) != 2 or not all(p.isdecimal() for p in parts) or len(parts[0]) != 4:
            raise ValueError(f"not a month: {text!r}")
        return cls(int(parts[0]), int(parts[1]))

    @property
    def ym(self) -> int:
        return self.year * 100 + self.month

    @property
    def key(self) -> str:
        return f"{self.year}-{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return self.day(31)

    def day(self, n: int) -> date:
        """Day n of the month, or its last day when the month is shorter ("the 30th" in Feb)."""
        return date(self.year, self.month, min(n, _stdlib_calendar.monthrange(self.year, self.month)[1]))

    def plus(self, months: int) -> "Month":
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    def next(self) -> "Month":
        return self.plus(1)

    def previous(self) -> "Month":
        return self.plus(-1)

    def same_last_year(self) -> "Month":
        return Month(self.year - 1, self.month)

    def window(self) -> Window:
        return local_midnight_utc(self.first_day), local_midnight_utc(self.next().first_day)

    def __str__(self) -> str:
        return self.key


@dataclass(frozen=True, order=True)
class Year:
    year: int

    def __post_init__(self) -> None:
        if self.year not in YEARS:
            raise ValueError(f"no such year: {self.year}")

    @property
    def months(self) -> list[Month]:
        return [Month(self.year, m) for m in range(1, 13)]

    @property
    def first_day(self) -> date:
        return date(self.year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, 12, 31)

    def previous(self) -> "Year":
        return Year(self.year - 1)

    def window(self) -> Window:
        return local_midnight_utc(self.first_day), local_midnight_utc(date(self.year + 1, 1, 1))

    def __str__(self) -> str:
        return str(self.year)

