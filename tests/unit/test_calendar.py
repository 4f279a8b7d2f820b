"""Unit tests for webapp.calendar (due rules in Asia/Shanghai)."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from webapp.calendar import (
    TZ, BeforeDayOfMonth, CalendarPolicy, DayOfMonth, EndOfDay, Hours, add_working_days,
    is_working_day, local_date, local_midnight_utc, parse_rule, to_local,
)

UTC = timezone.utc
CAL_DAYS = CalendarPolicy()
WORK_DAYS = CalendarPolicy(working_days=True)


def local(y, mo, d, h=0, mi=0):
    """Aware UTC datetime for a wall-clock time in Asia/Shanghai."""
    return datetime(y, mo, d, h, mi, tzinfo=TZ).astimezone(UTC)


def utc(y, mo, d, h=0, mi=0):
    """Aware UTC datetime."""
    return datetime(y, mo, d, h, mi, tzinfo=UTC)


def assert_utc(dt, expected):
    """dt equals expected and carries tzinfo=timezone.utc."""
    assert dt == expected
    assert dt.tzinfo is UTC


# --- basics -----------------------------------------------------------------------------

def test_tz_is_shanghai():
    assert TZ == ZoneInfo("Asia/Shanghai")


def test_to_local_and_local_date():
    start = utc(2025, 3, 12, 23, 30)  # 2025-03-13 07:30 local
    assert to_local(start) == datetime(2025, 3, 13, 7, 30, tzinfo=TZ)
    assert local_date(start) == date(2025, 3, 13)


def test_local_midnight_utc():
    assert_utc(local_midnight_utc(date(2025, 10, 10)), utc(2025, 10, 9, 16))


@pytest.mark.parametrize("call", [
    lambda dt: to_local(dt),
    lambda dt: local_date(dt),
    lambda dt: Hours(1).due(dt, CAL_DAYS),
    lambda dt: EndOfDay(1).due(dt, WORK_DAYS),
    lambda dt: EndOfDay(0).due(dt, CAL_DAYS),
    lambda dt: DayOfMonth(28).due(dt, CAL_DAYS),
    lambda dt: BeforeDayOfMonth(5).due(dt, CAL_DAYS),
], ids=["to_local", "local_date", "hours", "eod_work", "eod_cal", "dom", "before_dom"])
def test_naive_datetime_raises(call):
    with pytest.raises(ValueError, match="naive"):
        call(datetime(2025, 3, 14, 10, 0))


def test_non_utc_aware_input_gives_utc_output():
    start = datetime(2025, 3, 14, 10, 0, tzinfo=TZ)
    assert_utc(Hours(1).due(start, CAL_DAYS), utc(2025, 3, 14, 3))


def test_is_working_day_rejects_datetime():
    with pytest.raises(ValueError):
        is_working_day(utc(2025, 3, 14, 20))


# --- Hours --------------------------------------------------------------------------------

@pytest.mark.parametrize("n, start, expected", [
    (2, local(2025, 3, 10, 23), local(2025, 3, 11, 1)),      # across local midnight
    (24, local(2025, 9, 30, 10), local(2025, 10, 1, 10)),   # holidays do not matter
    (3, utc(2025, 12, 31, 22), utc(2026, 1, 1, 1)),         # across UTC midnight / year
])
def test_hours_wall_clock(n, start, expected):
    assert_utc(Hours(n).due(start, WORK_DAYS), expected)


# --- is_working_day -----------------------------------------------------------------------

@pytest.mark.parametrize("d, expected", [
    (date(2025, 3, 14), True),    # Friday
    (date(2025, 3, 15), False),   # Saturday
    (date(2025, 9, 28), True),    # Sunday, make-up workday (调休)
    (date(2025, 10, 1), False),   # National Day
    (date(2025, 10, 8), False),   # last day of the holiday
    (date(2025, 10, 9), True),
    (date(2025, 10, 11), True),   # Saturday, make-up workday
    (date(2031, 1, 6), True),     # unknown year: plain Monday
    (date(2031, 1, 4), False),    # unknown year: Saturday
    (date(2031, 1, 1), True),     # unknown year: no statutory data, so a Wednesday works
])
def test_is_working_day(d, expected):
    assert is_working_day(d) is expected


@pytest.mark.parametrize("d, holidays, workdays, expected", [
    (date(2031, 1, 1), {date(2031, 1, 1)}, set(), False),   # admin-entered holiday
    (date(2031, 1, 4), set(), {date(2031, 1, 4)}, True),    # admin-entered workday
    (date(2025, 3, 14), {date(2025, 3, 14)}, set(), False), # extras override known years
    (date(2025, 10, 2), set(), {date(2025, 10, 2)}, True),
    (date(2025, 3, 14), {date(2025, 3, 14)}, {date(2025, 3, 14)}, False),  # holiday wins
])
def test_extra_days_override(d, holidays, workdays, expected):
    assert is_working_day(d, frozenset(holidays), frozenset(workdays)) is expected
    assert CalendarPolicy(extra_holidays=holidays, extra_workdays=workdays).is_working_day(d) \
        is expected


# --- add_working_days ---------------------------------------------------------------------

@pytest.mark.parametrize("d, n, expected", [
    (date(2025, 3, 14), 0, date(2025, 3, 14)),
    (date(2025, 3, 14), 1, date(2025, 3, 17)),
    (date(2025, 9, 26), 1, date(2025, 9, 28)),   # Friday -> make-up Sunday
    (date(2025, 9, 30), 1, date(2025, 10, 9)),
    (date(2025, 9, 30), 2, date(2025, 10, 10)),
    (date(2025, 9, 30), 3, date(2025, 10, 11)),  # make-up Saturday
    (date(2025, 10, 9), -1, date(2025, 9, 30)),
    (date(2026, 12, 31), 2, date(2027, 1, 4)),   # into a year chinese_calendar lacks
])
def test_add_working_days(d, n, expected):
    assert add_working_days(d, n, WORK_DAYS) == expected


# --- EndOfDay -----------------------------------------------------------------------------

@pytest.mark.parametrize("start, days, expected", [
    # Friday -> end of Monday (2025-03-18 00:00 local)
    (local(2025, 3, 14, 10), 1, local(2025, 3, 18)),
    # National Day 2025: Sep 30 -> end of Oct 9 = 2025-10-10 00:00 local = Oct 9 16:00 UTC
    (local(2025, 9, 30, 10), 1, utc(2025, 10, 9, 16)),
    (local(2025, 9, 30, 10), 3, local(2025, 10, 12)),      # 3rd is make-up Sat Oct 11
    (local(2025, 10, 10, 10), 1, local(2025, 10, 12)),     # Fri -> make-up Saturday
    (local(2025, 9, 26, 10), 1, local(2025, 9, 29)),       # Fri -> make-up Sunday
    (local(2025, 3, 15, 10), 1, local(2025, 3, 18)),       # start on Saturday -> Monday
    (local(2025, 3, 15, 10), 0, local(2025, 3, 16)),       # n=0: end of today, even a Sat
    (local(2025, 10, 3, 10), 0, local(2025, 10, 4)),       # n=0 on a holiday: still today
    (local(2025, 10, 3, 10), 1, local(2025, 10, 10)),      # in the holiday -> Oct 9
])
def test_end_of_day_working_days(start, days, expected):
    assert_utc(EndOfDay(days).due(start, WORK_DAYS), expected)


@pytest.mark.parametrize("start, days, expected", [
    (local(2025, 9, 30, 10), 0, local(2025, 10, 1)),
    (local(2025, 9, 30, 10), 1, local(2025, 10, 2)),       # holiday ignored
    (local(2025, 3, 14, 10), 1, local(2025, 3, 16)),       # Friday -> Saturday
    (local(2025, 12, 31, 10), 1, local(2026, 1, 2)),
])
def test_end_of_day_calendar_days_ignore_holidays(start, days, expected):
    assert_utc(EndOfDay(days).due(start, CAL_DAYS), expected)


@pytest.mark.parametrize("start, policy, days, expected", [
    # 23:30 local Wednesday (15:30 UTC) is still Wednesday
    (local(2025, 3, 12, 23, 30), CAL_DAYS, 0, local(2025, 3, 13)),
    # 07:30 local Thursday is 23:30 UTC Wednesday: the local day (Thursday) counts
    (utc(2025, 3, 12, 23, 30), CAL_DAYS, 0, local(2025, 3, 14)),
    # 20:00 UTC Thursday = 04:00 local Friday -> next working day is Monday, not Friday
    (utc(2025, 3, 13, 20), WORK_DAYS, 1, local(2025, 3, 18)),
    # 00:00 local exactly belongs to the new day
    (local(2025, 3, 13), CAL_DAYS, 0, local(2025, 3, 14)),
])
def test_end_of_day_uses_local_date(start, policy, days, expected):
    assert_utc(EndOfDay(days).due(start, policy), expected)


def test_end_of_day_unknown_year_falls_back_to_weekends_and_extras():
    start = local(2031, 1, 3, 10)  # Friday
    assert_utc(EndOfDay(1).due(start, WORK_DAYS), local(2031, 1, 7))  # end of Mon Jan 6
    policy = CalendarPolicy(working_days=True,
                            extra_holidays=frozenset({date(2031, 1, 6), date(2031, 1, 7)}))
    assert_utc(EndOfDay(1).due(start, policy), local(2031, 1, 9))  # end of Wed Jan 8
    policy = CalendarPolicy(working_days=True, extra_workdays=frozenset({date(2031, 1, 4)}))
    assert_utc(EndOfDay(1).due(start, policy), local(2031, 1, 5))  # end of Sat Jan 4


# --- DayOfMonth ---------------------------------------------------------------------------

@pytest.mark.parametrize("rule, start, expected", [
    (DayOfMonth(30), local(2026, 2, 10, 9), local(2026, 3, 1)),          # end of Feb 28
    (DayOfMonth(31), local(2028, 2, 1, 9), local(2028, 3, 1)),           # leap: Feb 29
    (DayOfMonth(28), local(2026, 3, 10, 9), local(2026, 3, 29)),
    (DayOfMonth(28), local(2026, 3, 28, 23, 59), local(2026, 3, 29)),    # same day: not past
    (DayOfMonth(28), local(2026, 3, 29), local(2026, 4, 29)),            # exactly due: roll
    (DayOfMonth(28), local(2026, 3, 30, 9), local(2026, 4, 29)),         # passed: roll
    (DayOfMonth(28), local(2025, 12, 30, 9), local(2026, 1, 29)),        # roll over year
    (DayOfMonth(30), local(2026, 1, 31, 9), local(2026, 3, 1)),          # roll + clamp Feb
    (DayOfMonth(31), local(2026, 4, 30, 9), local(2026, 5, 1)),          # April: 30th
    (DayOfMonth(30, 1), local(2026, 1, 15, 9), local(2026, 3, 1)),       # next month, Feb
    (DayOfMonth(5, 1), local(2026, 12, 20, 9), local(2027, 1, 6)),
    (DayOfMonth(1), utc(2026, 2, 28, 20), local(2026, 3, 2)),            # local is Mar 1
])
def test_day_of_month(rule, start, expected):
    assert_utc(rule.due(start, CAL_DAYS), expected)
    assert_utc(rule.due(start, WORK_DAYS), expected)


# --- BeforeDayOfMonth ---------------------------------------------------------------------

@pytest.mark.parametrize("rule, start, expected", [
    (BeforeDayOfMonth(5), local(2026, 3, 2, 9), utc(2026, 3, 4, 16)),    # Mar 5 00:00 local
    (BeforeDayOfMonth(5), local(2026, 3, 4, 23, 59), local(2026, 3, 5)),
    (BeforeDayOfMonth(5), local(2026, 3, 5), local(2026, 4, 5)),         # exactly due: roll
    (BeforeDayOfMonth(5), local(2026, 3, 10, 9), local(2026, 4, 5)),
    (BeforeDayOfMonth(5), local(2025, 12, 20, 9), local(2026, 1, 5)),
    (BeforeDayOfMonth(31), local(2026, 2, 10, 9), local(2026, 2, 28)),   # clamped to Feb 28
    (BeforeDayOfMonth(1), local(2026, 3, 15, 9), local(2026, 4, 1)),
])
def test_before_day_of_month(rule, start, expected):
    assert_utc(rule.due(start, CAL_DAYS), expected)


# --- descriptions -------------------------------------------------------------------------

@pytest.mark.parametrize("rule, policy, zh, en", [
    (Hours(24), None, "24小时内", "within 24 hours"),
    (Hours(1), None, "1小时内", "within 1 hour"),
    (EndOfDay(0), None, "当天结束前", "by end of today"),
    (EndOfDay(1), WORK_DAYS, "次个工作日结束前", "by end of the next working day"),
    (EndOfDay(1), CAL_DAYS, "次日结束前", "by end of the next day"),
    (EndOfDay(3), WORK_DAYS, "第3个工作日结束前", "by end of the 3rd working day after"),
    (DayOfMonth(28), None, "每月28日当天结束前", "by end of the 28th of the month"),
    (DayOfMonth(30, 1), None, "次月30日当天结束前", "by end of the 30th of the next month"),
    (BeforeDayOfMonth(5), None, "每月5日之前", "before the 5th of the month"),
    (BeforeDayOfMonth(22), None, "每月22日之前", "before the 22nd of the month"),
])
def test_descriptions(rule, policy, zh, en):
    assert rule.describe_zh(policy) == zh
    assert rule.describe_en(policy) == en


def test_descriptions_without_policy():
    assert Hours(24).describe_zh() == "24小时内"
    assert EndOfDay(1).describe_en() == "by end of the next day"


# --- parse_rule / to_text -----------------------------------------------------------------

@pytest.mark.parametrize("text, rule", [
    ("hours:24", Hours(24)),
    ("eod:0", EndOfDay(0)),
    ("eod:1", EndOfDay(1)),
    ("dom:28", DayOfMonth(28)),
    ("dom:30+1", DayOfMonth(30, 1)),
    ("before_dom:5", BeforeDayOfMonth(5)),
])
def test_parse_and_to_text_round_trip(text, rule):
    assert parse_rule(text) == rule
    assert rule.to_text() == text
    assert parse_rule(rule.to_text()) == rule


def test_parse_strips_surrounding_whitespace():
    assert parse_rule(" eod:1\n") == EndOfDay(1)


def test_dom_plus_zero_normalises():
    assert parse_rule("dom:30+0").to_text() == "dom:30"


@pytest.mark.parametrize("text, message", [
    ("", "expected"),
    ("hours", "expected"),
    ("hours:", "expected"),
    ("hours:abc", "expected"),
    ("hours:-1", "expected"),
    ("hours:2.5", "expected"),
    ("HOURS:24", "expected"),
    ("weekly:1", "expected"),
    ("dom:30+", "expected"),
    ("eod: 1", "expected"),
    ("hours:0", "hours must be"),
    ("hours:99999", "hours must be"),
    ("dom:0", "day must be"),
    ("dom:32", "day must be"),
    ("before_dom:0", "day must be"),
    ("dom:5+13", "months_ahead must be"),
    ("before_dom:5+1", "only allowed with dom"),
    ("hours:24+1", "only allowed with dom"),
])
def test_parse_bad_text(text, message):
    with pytest.raises(ValueError, match=message) as excinfo:
        parse_rule(text)
    assert repr(text) in str(excinfo.value)


def test_parse_non_string():
    with pytest.raises(ValueError):
        parse_rule(None)


@pytest.mark.parametrize("factory", [
    lambda: Hours(0), lambda: Hours(True), lambda: EndOfDay(-1), lambda: DayOfMonth(32),
    lambda: DayOfMonth(1, -1), lambda: BeforeDayOfMonth(0),
])
def test_invalid_rule_values(factory):
    with pytest.raises(ValueError):
        factory()


def test_rules_are_frozen_and_hashable():
    rule = DayOfMonth(28)
    with pytest.raises(AttributeError):
        rule.day = 1
    assert {rule, DayOfMonth(28)} == {DayOfMonth(28)}
    assert hash(CalendarPolicy(extra_holidays={date(2031, 1, 1)})) is not None


def test_due_is_strictly_after_start_for_monthly_rules():
    start = local(2026, 1, 1)
    for _ in range(400):
        for rule in (DayOfMonth(31), DayOfMonth(1), BeforeDayOfMonth(1), BeforeDayOfMonth(30)):
            due = rule.due(start, CAL_DAYS)
            assert start < due <= start + timedelta(days=62)
        start += timedelta(hours=23)


def test_add_months_clamps_to_month_end():
    from webapp.calendar import add_months
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2024, 2, 29), 12) == date(2025, 2, 28)
    assert add_months(date(2026, 11, 23), 12) == date(2027, 11, 23)
