"""Due rules of CRM workflows, computed in the company time zone (Asia/Shanghai).

Conventions:
- Public functions take and return timezone-aware datetimes; results are always in UTC
  (tzinfo=timezone.utc). Naive datetimes raise ValueError.
- "Due by end of day D" is stored as the first instant after the deadline day, i.e.
  due_at = local midnight at the start of D+1. A task is overdue when now >= due_at.
- Local days are what count: 2025-03-13 07:30 Asia/Shanghai (= 2025-03-12 23:30 UTC)
  is on local day 2025-03-13.

Pure module: no Flask imports. Named ``calendar`` inside the ``webapp`` package, so it
deliberately does not import the standard-library ``calendar`` module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Callable
from zoneinfo import ZoneInfo

import chinese_calendar

__all__ = [
    "TZ", "to_local", "local_date", "local_midnight_utc", "is_working_day",
    "add_working_days", "CalendarPolicy", "Hours", "EndOfDay", "DayOfMonth",
    "BeforeDayOfMonth", "Rule", "parse_rule",
]

TZ = ZoneInfo("Asia/Shanghai")

# The years a date typed by a user may fall in: outside them date arithmetic overflows
# (9999-12-31 has no next day, 0001-01-01 no UTC midnight) and nobody means them.
YEARS = range(2000, 2101)

MAX_HOURS = 24 * 366
MAX_DAYS = 366
MAX_MONTHS_AHEAD = 12


def _aware(dt: datetime) -> datetime:
    """Return dt as a UTC datetime; raise ValueError if it is naive."""
    if not isinstance(dt, datetime):
        raise ValueError(f"expected a timezone-aware datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"naive datetime {dt.isoformat()} (timezone-aware UTC required)")
    return dt.astimezone(timezone.utc)


def to_local(dt: datetime) -> datetime:
    """Convert an aware datetime to company local time (Asia/Shanghai)."""
    return _aware(dt).astimezone(TZ)


def local_date(dt: datetime) -> date:
    """Company-local calendar date of an aware datetime."""
    return to_local(dt).date()


def local_midnight_utc(d: date) -> datetime:
    """UTC instant of local midnight at the start of local day d."""
    return datetime.combine(d, time(0), tzinfo=TZ).astimezone(timezone.utc)


def parse_day(text: str) -> date:
    """A day as the forms send it ('2026-11-20'), within YEARS; ValueError otherwise."""
    day = date.fromisoformat(text)
    if day.year not in YEARS:
        raise ValueError(f"{text} is outside {YEARS.start}-{YEARS.stop - 1}")
    return day


def _plain_date(d: date) -> date:
    """Reject datetimes where a calendar date is expected (they carry an ambiguous day)."""
    if isinstance(d, datetime) or not isinstance(d, date):
        raise ValueError(f"expected a date, got {type(d).__name__}; use local_date()")
    return d


def is_working_day(d: date, extra_holidays: frozenset[date] = frozenset(),
                   extra_workdays: frozenset[date] = frozenset()) -> bool:
    """Whether local day d is a working day (statutory calendar, extras override)."""
    d = _plain_date(d)
    if d in extra_holidays:  # a date listed in both sets counts as a holiday
        return False
    if d in extra_workdays:
        return True
    try:
        return chinese_calendar.is_workday(d)
    except NotImplementedError:  # year unknown to chinese_calendar: weekends off
        return d.weekday() < 5


def add_working_days(d: date, n: int, cal: CalendarPolicy) -> date:
    """Date n working days after d (d itself not counted; negative n goes back)."""
    d = _plain_date(d)
    step = timedelta(days=1 if n >= 0 else -1)
    for _ in range(abs(n)):
        d += step
        while not cal.is_working_day(d):
            d += step
    return d


@dataclass(frozen=True)
class CalendarPolicy:
    """How days are counted: calendar days or working days, plus admin-entered extras."""

    working_days: bool = False
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Freeze the extra-day collections (callers may pass sets or lists)."""
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))

    def is_working_day(self, d: date) -> bool:
        """Whether local day d is a working day under this policy's extras."""
        return is_working_day(d, self.extra_holidays, self.extra_workdays)


def _check_int(name: str, value: int, low: int, high: int) -> None:
    """Raise ValueError unless value is an int in [low, high]."""
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{name} must be an integer between {low} and {high}, got {value!r}")


def _ordinal(n: int) -> str:
    """English ordinal: 1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _month_start(year: int, month: int, months_ahead: int) -> tuple[int, int]:
    """(year, month) that is months_ahead months after year-month."""
    index = year * 12 + (month - 1) + months_ahead
    return index // 12, index % 12 + 1


def _clamped_day(year: int, month: int, day: int) -> date:
    """Day `day` of the month, or the month's last day if it is shorter."""
    next_year, next_month = _month_start(year, month, 1)
    last = (date(next_year, next_month, 1) - timedelta(days=1)).day
    return date(year, month, min(day, last))


def add_months(d: date, months: int) -> date:
    """The same day `months` later (clamped to the month's end: Jan 31 + 1 → Feb 28/29)."""
    year, month = _month_start(d.year, d.month, months)
    return _clamped_day(year, month, d.day)


def _monthly_due(start_utc: datetime, months_ahead: int,
                 boundary: Callable[[int, int], datetime]) -> datetime:
    """First boundary(year, month) after start, from start's local month + months_ahead."""
    start = _aware(start_utc)
    local = start.astimezone(TZ)
    year, month = _month_start(local.year, local.month, months_ahead)
    due = boundary(year, month)
    if due <= start:  # already past: roll to the next month
        due = boundary(*_month_start(year, month, 1))
    return due


@dataclass(frozen=True)
class Hours:
    """Due n wall-clock hours after start."""

    n: int

    def __post_init__(self) -> None:
        """Validate n."""
        _check_int("hours", self.n, 1, MAX_HOURS)

    def due(self, start_utc: datetime, cal: CalendarPolicy) -> datetime:
        """Start plus n hours (absolute time; working days do not apply)."""
        return _aware(start_utc) + timedelta(hours=self.n)

    def describe_zh(self, cal: CalendarPolicy | None = None) -> str:
        """Short Chinese description."""
        return f"{self.n}小时内"

    def describe_en(self, cal: CalendarPolicy | None = None) -> str:
        """Short English description."""
        return f"within {self.n} hour{'s' if self.n != 1 else ''}"

    def to_text(self) -> str:
        """Settings text, e.g. 'hours:24'."""
        return f"hours:{self.n}"


@dataclass(frozen=True)
class EndOfDay:
    """Due at the end of the n-th (working, per policy) day after start's local day."""

    days: int = 0

    def __post_init__(self) -> None:
        """Validate days."""
        _check_int("days", self.days, 0, MAX_DAYS)

    def due(self, start_utc: datetime, cal: CalendarPolicy) -> datetime:
        """Local midnight starting the day after the target day, in UTC."""
        start_day = local_date(start_utc)
        if cal.working_days:
            target = add_working_days(start_day, self.days, cal)
        else:
            target = start_day + timedelta(days=self.days)
        return local_midnight_utc(target + timedelta(days=1))

    def describe_zh(self, cal: CalendarPolicy | None = None) -> str:
        """Short Chinese description (working-day wording when cal.working_days)."""
        working = cal is not None and cal.working_days
        if self.days == 0:
            return "当天结束前"
        if self.days == 1:
            return "次个工作日结束前" if working else "次日结束前"
        return f"第{self.days}个工作日结束前" if working else f"{self.days}天后当天结束前"

    def describe_en(self, cal: CalendarPolicy | None = None) -> str:
        """Short English description (working-day wording when cal.working_days)."""
        kind = "working day" if cal is not None and cal.working_days else "day"
        if self.days == 0:
            return "by end of today"
        if self.days == 1:
            return f"by end of the next {kind}"
        return f"by end of the {_ordinal(self.days)} {kind} after"

    def to_text(self) -> str:
        """Settings text, e.g. 'eod:1'."""
        return f"eod:{self.days}"


@dataclass(frozen=True)
class DayOfMonth:
    """Due at the end of day `day` of the month (last day if the month is shorter)."""

    day: int
    months_ahead: int = 0

    def __post_init__(self) -> None:
        """Validate day and months_ahead."""
        _check_int("day", self.day, 1, 31)
        _check_int("months_ahead", self.months_ahead, 0, MAX_MONTHS_AHEAD)

    def _boundary(self, year: int, month: int) -> datetime:
        """Local midnight after the (clamped) day in year-month, in UTC."""
        return local_midnight_utc(_clamped_day(year, month, self.day) + timedelta(days=1))

    def due(self, start_utc: datetime, cal: CalendarPolicy) -> datetime:
        """End of the day in start's local month (+months_ahead), next month if past."""
        return _monthly_due(start_utc, self.months_ahead, self._boundary)

    def describe_zh(self, cal: CalendarPolicy | None = None) -> str:
        """Short Chinese description."""
        prefix = {0: "每月", 1: "次月"}.get(self.months_ahead, f"{self.months_ahead}个月后的")
        return f"{prefix}{self.day}日当天结束前"

    def describe_en(self, cal: CalendarPolicy | None = None) -> str:
        """Short English description."""
        month = {0: "of the month", 1: "of the next month"}.get(
            self.months_ahead, f"{self.months_ahead} months later")
        return f"by end of the {_ordinal(self.day)} {month}"

    def to_text(self) -> str:
        """Settings text, e.g. 'dom:28' or 'dom:30+1'."""
        return f"dom:{self.day}" + (f"+{self.months_ahead}" if self.months_ahead else "")


@dataclass(frozen=True)
class BeforeDayOfMonth:
    """Due before day `day` of the month: at local midnight starting that (clamped) day."""

    day: int

    def __post_init__(self) -> None:
        """Validate day."""
        _check_int("day", self.day, 1, 31)

    def _boundary(self, year: int, month: int) -> datetime:
        """Local midnight starting the (clamped) day in year-month, in UTC."""
        return local_midnight_utc(_clamped_day(year, month, self.day))

    def due(self, start_utc: datetime, cal: CalendarPolicy) -> datetime:
        """Midnight starting the day in start's local month, next month if past."""
        return _monthly_due(start_utc, 0, self._boundary)

    def describe_zh(self, cal: CalendarPolicy | None = None) -> str:
        """Short Chinese description."""
        return f"每月{self.day}日之前"

    def describe_en(self, cal: CalendarPolicy | None = None) -> str:
        """Short English description."""
        return f"before the {_ordinal(self.day)} of the month"

    def to_text(self) -> str:
        """Settings text, e.g. 'before_dom:5'."""
        return f"before_dom:{self.day}"


Rule = Hours | EndOfDay | DayOfMonth | BeforeDayOfMonth

_RULE_RE = re.compile(r"(hours|eod|dom|before_dom):([0-9]{1,5})(?:\+([0-9]{1,3}))?")
_FORMATS = "hours:N, eod:N, dom:D, dom:D+M or before_dom:D"


def parse_rule(text: str) -> Rule:
    """Parse settings text ('hours:24', 'eod:1', 'dom:28', 'dom:30+1', 'before_dom:5')."""
    if not isinstance(text, str):
        raise ValueError(f"due rule must be text, got {type(text).__name__}")
    match = _RULE_RE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"invalid due rule {text!r}: expected {_FORMATS}")
    kind, number, ahead = match.group(1), int(match.group(2)), match.group(3)
    if ahead is not None and kind != "dom":
        raise ValueError(f"invalid due rule {text!r}: '+M' is only allowed with dom")
    try:
        if kind == "hours":
            return Hours(number)
        if kind == "eod":
            return EndOfDay(number)
        if kind == "dom":
            return DayOfMonth(number, int(ahead or 0))
        return BeforeDayOfMonth(number)
    except ValueError as exc:
        raise ValueError(f"invalid due rule {text!r}: {exc}") from None
