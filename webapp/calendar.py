"""Due rules of CRM workflows, computed in the company time zone (Asia/Shanghai).

Conventions:
- Public functions take and return timezone-aware datetimes; results are always in UTC
  (tzinfo=timezone.utc). Naive datetimes raise ValueError.
- "Due by end of day D" is stored as the first instant after the deadline day, i.e.
  due_at = local midnight at the start of D+1. A task is overdue when now >= due_at.
- Local days are what count: 2025-03-13 07:30 Asia/Shanghai (= 2025-03-12 23:30 UTC)
  is on local day 2025-03-13.
- Working days come from, in this order: the administrator's extra days, the years the
  administrator entered (passed in as ``EnteredYear``s: this module reads no database), the
  chinesecalendar library, then python-holidays (for years chinesecalendar does not know yet).
  A year none of them covers still counts Monday to Friday, but never silently: the policy
  says which years are uncovered (``CalendarPolicy.covers``), and ``uncovered_years`` tells
  which years a computed deadline counted without knowing their holidays.

Pure module: no Flask imports. Named ``calendar`` inside the ``webapp`` package, so it
deliberately does not import the standard-library ``calendar`` module.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Callable, Mapping
from zoneinfo import ZoneInfo

import chinese_calendar
import holidays as python_holidays

__all__ = [
    "TZ", "to_local", "local_date", "local_midnight_utc", "is_working_day",
    "add_working_days", "CalendarPolicy", "Hours", "EndOfDay", "DayOfMonth",
    "BeforeDayOfMonth", "Rule", "parse_rule", "EnteredYear", "library_years", "year_source",
    "uncovered_years", "before_holiday", "parse_notice", "NoticeParse", "needed_years",
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


# The two maintained libraries, by the name the settings page and /healthz show.
CHINESECALENDAR = "chinesecalendar"
PYTHON_HOLIDAYS = "holidays"
ENTERED = "entered"


@dataclass(frozen=True)
class EnteredYear:
    """A year's holidays and make-up workdays as the administrator entered them.

    Days of the year in neither set follow the week (Monday to Friday work). A notice may
    name a day of the neighbouring year (元旦 taking 31 December off): it is listed here too."""

    year: int
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    source: str = "manual"  # "manual" (clicked in the year view) or "notice" (pasted and parsed)

    def __post_init__(self) -> None:
        """Freeze the day collections (callers may pass sets or lists)."""
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "workdays", frozenset(self.workdays))


def _chinesecalendar_years() -> frozenset[int]:
    """Years chinesecalendar has data for (it raises NotImplementedError outside them)."""
    days = chinese_calendar.holidays.keys()
    return frozenset(range(min(days).year, max(days).year + 1))


def _python_holidays_years() -> frozenset[int]:
    """Years python-holidays transcribed from the State Council's notice.

    For any other year it still answers, with the statutory days estimated from the lunar
    calendar and no make-up workdays: that is not a known year, so only the years with the
    notice's day swaps (make-up workdays) count."""
    from holidays.countries.china import ChinaStaticHolidays

    return frozenset(ChinaStaticHolidays.special_public_holidays)


@lru_cache(maxsize=1)
def library_years() -> dict[int, str]:
    """Every year a library knows, with the library that answers for it (chinesecalendar first)."""
    years = {year: PYTHON_HOLIDAYS for year in _python_holidays_years()}
    years.update({year: CHINESECALENDAR for year in _chinesecalendar_years()})
    return years


@lru_cache(maxsize=8)
def _python_holidays_china(year: int):
    """python-holidays' China for `year` and the next (a notice may swap a day of the year
    before: the 2006 notice made Saturday 2005-12-31 a workday)."""
    return python_holidays.China(years=(year, year + 1))


def _library_is_working_day(d: date) -> bool | None:
    """The libraries' answer for d, or None when neither knows its year."""
    source = library_years().get(d.year)
    if source == CHINESECALENDAR:
        return chinese_calendar.is_workday(d)
    if source == PYTHON_HOLIDAYS:
        return _python_holidays_china(d.year).is_working_day(d)
    return None


def year_source(year: int, entered: Mapping[int, EnteredYear] | None = None) -> str | None:
    """Who answers for the year: "entered", "chinesecalendar", "holidays", or None (uncovered)."""
    if entered and year in entered:
        return ENTERED
    return library_years().get(year)


# From this month on, next year's holidays are wanted (the notice usually comes out in November).
NEXT_YEAR_FROM_MONTH = 11


def needed_years(today: date) -> tuple[int, ...]:
    """The years whose holidays must be known by local day `today`: this year, and from
    1 November the next one."""
    today = _plain_date(today)
    return (today.year,) + ((today.year + 1,) if today.month >= NEXT_YEAR_FROM_MONTH else ())


@lru_cache(maxsize=1)
def library_versions() -> dict[str, str]:
    """The installed version of each library, for the settings page and /healthz."""
    from importlib.metadata import version

    return {CHINESECALENDAR: version("chinesecalendar"), PYTHON_HOLIDAYS: version("holidays")}


def library_spans() -> dict[str, tuple[int, int]]:
    """The first and last year each library knows."""
    spans: dict[str, tuple[int, int]] = {}
    for name, years in ((CHINESECALENDAR, _chinesecalendar_years()),
                        (PYTHON_HOLIDAYS, _python_holidays_years())):
        spans[name] = (min(years), max(years))
    return spans


def is_working_day(d: date, extra_holidays: frozenset[date] = frozenset(),
                   extra_workdays: frozenset[date] = frozenset(),
                   entered: Mapping[int, EnteredYear] | None = None) -> bool:
    """Whether local day d is a working day (extras, entered years, libraries, else the week)."""
    d = _plain_date(d)
    if d in extra_holidays:  # a date listed in both sets counts as a holiday
        return False
    if d in extra_workdays:
        return True
    for year in (d.year, d.year + 1):  # the next year's notice may name this day
        entry = (entered or {}).get(year)
        if entry is not None and (d in entry.holidays or d in entry.workdays):
            return d not in entry.holidays
    if not (entered and d.year in entered):
        known = _library_is_working_day(d)
        if known is not None:
            return known
    # An entered year's unnamed days, and an uncovered year (which CalendarPolicy reports).
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
    """How days are counted: calendar days or working days, plus admin-entered days."""

    working_days: bool = False
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    extra_workdays: frozenset[date] = field(default_factory=frozenset)
    # The entered years (a mapping year -> EnteredYear, or the EnteredYears), kept as a tuple.
    entered: tuple[EnteredYear, ...] = ()
    _by_year: dict[int, EnteredYear] = field(default_factory=dict, init=False, repr=False,
                                             compare=False, hash=False)

    def __post_init__(self) -> None:
        """Freeze the extra-day collections (callers may pass sets, lists or a mapping)."""
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "extra_workdays", frozenset(self.extra_workdays))
        entered = self.entered.values() if isinstance(self.entered, Mapping) else self.entered
        object.__setattr__(self, "entered", tuple(sorted(entered, key=lambda e: e.year)))
        object.__setattr__(self, "_by_year", {e.year: e for e in self.entered})

    def is_working_day(self, d: date) -> bool:
        """Whether local day d is a working day under this policy's extras and entered years."""
        return is_working_day(d, self.extra_holidays, self.extra_workdays, self._by_year)

    def source(self, year: int) -> str | None:
        """Who answers for the year (see year_source); None when nobody does."""
        return year_source(year, self._by_year)

    def covers(self, year: int) -> bool:
        """Whether the year's holidays and make-up workdays are known."""
        return self.source(year) is not None


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


@dataclass(frozen=True)
class DayNumber:
    """At the start of calendar day n counting the start's local day as day 1 ("售后第5天":
    a sale on the 1st → the morning of the 5th), whatever the working-day setting."""

    n: int

    def __post_init__(self) -> None:
        """Validate n."""
        _check_int("day", self.n, 1, MAX_DAYS)

    def due(self, start_utc: datetime, cal: CalendarPolicy) -> datetime:
        """Local midnight starting day n, in UTC."""
        return local_midnight_utc(local_date(start_utc) + timedelta(days=self.n - 1))

    def describe_zh(self, cal: CalendarPolicy | None = None) -> str:
        """Short Chinese description."""
        return f"第{self.n}天"

    def describe_en(self, cal: CalendarPolicy | None = None) -> str:
        """Short English description."""
        return f"on day {self.n}"

    def to_text(self) -> str:
        """Settings text, e.g. 'day:5'."""
        return f"day:{self.n}"


Rule = Hours | EndOfDay | DayOfMonth | BeforeDayOfMonth | DayNumber

_RULE_RE = re.compile(r"(hours|eod|dom|before_dom|day):([0-9]{1,5})(?:\+([0-9]{1,3}))?")
_FORMATS = "hours:N, eod:N, dom:D, dom:D+M, before_dom:D or day:N"


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
        if kind == "day":
            return DayNumber(number)
        if kind == "eod":
            return EndOfDay(number)
        if kind == "dom":
            return DayOfMonth(number, int(ahead or 0))
        return BeforeDayOfMonth(number)
    except ValueError as exc:
        raise ValueError(f"invalid due rule {text!r}: {exc}") from None


def before_holiday(rule: Rule, due_at: datetime, cal: CalendarPolicy,
                   now: datetime | None = None) -> datetime:
    """A dated deadline ("by the 28th", "before the 1st") whose last day is not a working day,
    moved to the end of the previous working day (the "previous working day" setting).

    Only day-of-month rules name a date; hours and day counts are left as they are. The last
    day is the one before `due_at` (due rules end at local midnight). A move that would put the
    deadline at or before `now` is not made: nobody can meet a deadline already past."""
    if not isinstance(rule, (DayOfMonth, BeforeDayOfMonth)):
        return due_at
    last = local_date(due_at) - timedelta(days=1)
    day = last
    for _ in range(MAX_DAYS):
        if cal.is_working_day(day):
            break
        day -= timedelta(days=1)
    else:
        return due_at
    moved = local_midnight_utc(day + timedelta(days=1))
    if now is not None and moved <= _aware(now):
        return due_at
    return moved


def uncovered_years(rule: Rule, start_utc: datetime, cal: CalendarPolicy) -> tuple[int, ...]:
    """Years whose working days the rule counted from start without knowing their holidays.

    Only counted working days depend on holidays: hours, calendar days and days of the month
    do not, so they never have an uncovered year."""
    if not (isinstance(rule, EndOfDay) and cal.working_days and rule.days):
        return ()
    first = local_date(start_utc)
    last = add_working_days(first, rule.days, cal)
    return tuple(y for y in range(first.year, last.year + 1) if not cal.covers(y))


# --- the State Council's notice -------------------------------------------------------------
# "国务院办公厅关于2026年部分节假日安排的通知": one line per holiday, e.g.
#   二、春节：2月15日（农历腊月二十八）至23日（农历正月初七）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
# A clause that says 放假 lists days off (a range "A至B" is every day between), one that says
# 上班 lists make-up workdays. Dates without a year are in the notice's year.

_NOTE_RE = re.compile(r"\([^()]*\)")  # (周五), (农历腊月二十八): after NFKC, half-width
_CLAUSE_SPLIT_RE = re.compile(r"[。;;,,\n]")
_DATE_RE = re.compile(r"(?:(?P<y>\d{4})年)?(?:(?P<m>\d{1,2})月)?(?P<d>\d{1,2})日")
_RANGE_RE = re.compile(_DATE_RE.pattern + r"\s*[至到\-—~]\s*"
                       + _DATE_RE.pattern.replace("?P<y>", "?P<y2>").replace("?P<m>", "?P<m2>")
                       .replace("?P<d>", "?P<d2>"))
_YEAR_RE = re.compile(r"关于\s*(\d{4})\s*年")


@dataclass(frozen=True)
class NoticeParse:
    """What a pasted notice says: its days off, its make-up workdays, and what was not read."""

    year: int | None
    holidays: frozenset[date]
    workdays: frozenset[date]
    unread: tuple[str, ...]  # clauses with dates that say neither 放假 nor 上班
    invalid: tuple[str, ...]  # dates that do not exist (2月30日)


def _notice_date(year: int, month: int | None, day: int, *, last_month: int | None) -> date:
    """A date of the notice; "至23日" takes the month of the range's start."""
    return date(year, month if month is not None else last_month, day)


def parse_notice(text: str, year: int | None = None) -> NoticeParse:
    """Read the State Council's holiday notice: its days off and make-up workdays.

    `year` is the year the notice is for; without it, the title's "关于2027年" decides."""
    text = unicodedata.normalize("NFKC", text or "")  # （）：，１ → ():,1
    if year is None:
        found = _YEAR_RE.search(text)
        year = int(found.group(1)) if found else None
    text = _NOTE_RE.sub("", text)
    holidays_: set[date] = set()
    workdays: set[date] = set()
    unread: list[str] = []
    invalid: list[str] = []
    if year is None:
        return NoticeParse(None, frozenset(), frozenset(), (), ())
    for clause in _CLAUSE_SPLIT_RE.split(text):
        clause = clause.strip()
        if not _DATE_RE.search(clause) or _YEAR_RE.search(clause):
            continue
        if "上班" in clause:
            target = workdays
        elif "放假" in clause or "休息" in clause or "休假" in clause:
            target = holidays_
        else:
            unread.append(clause)
            continue
        rest = clause
        for found in _RANGE_RE.finditer(clause):
            g = found.groupdict()
            try:
                first = _notice_date(int(g["y"] or year), int(g["m"]) if g["m"] else None,
                                     int(g["d"]), last_month=None)
                last = _notice_date(int(g["y2"] or g["y"] or year), int(g["m2"]) if g["m2"] else None,
                                    int(g["d2"]), last_month=first.month)
            except (TypeError, ValueError):
                invalid.append(found.group(0))
                continue
            if not first <= last <= first + timedelta(days=MAX_DAYS):
                invalid.append(found.group(0))
                continue
            while first <= last:
                target.add(first)
                first += timedelta(days=1)
            rest = rest.replace(found.group(0), " ", 1)
        last_month = None
        for found in _DATE_RE.finditer(rest):
            try:
                day = _notice_date(int(found["y"] or year), int(found["m"]) if found["m"] else None,
                                   int(found["d"]), last_month=last_month)
            except (TypeError, ValueError):
                invalid.append(found.group(0))
                continue
            last_month = day.month
            target.add(day)
    return NoticeParse(year, frozenset(holidays_ - workdays), frozenset(workdays),
                       tuple(unread), tuple(invalid))
