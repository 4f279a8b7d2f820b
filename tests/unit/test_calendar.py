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


# --- coverage: which source knows a year (issue #9) -------------------------------------------
from webapp.calendar import (  # noqa: E402
    EnteredYear, library_years, needed_years, parse_notice, uncovered_years, year_source,
)

NEW_YEAR_2027 = date(2027, 1, 1)  # a Friday: Monday–Friday counting would make it a working day


def test_libraries_know_2004_to_2026_and_nobody_knows_2027():
    years = library_years()
    assert years[2004] == years[2026] == "chinesecalendar"
    assert years[2001] == "holidays"  # the second library knows years the first does not
    assert 2027 not in years
    assert year_source(2027) is None and not WORK_DAYS.covers(2027)


def test_python_holidays_answers_for_its_years_with_make_up_workdays():
    assert year_source(2002) == "holidays"
    assert not is_working_day(date(2002, 2, 15))  # Friday, a Spring Festival day off
    assert is_working_day(date(2002, 2, 9))  # Saturday, the make-up workday for it
    assert is_working_day(date(2002, 2, 20))  # an ordinary Wednesday


def test_an_uncovered_year_counts_the_week_but_is_reported():
    assert is_working_day(NEW_YEAR_2027)  # nothing better is known…
    assert uncovered_years(EndOfDay(1), local(2026, 12, 31, 10), WORK_DAYS) == (2027,)  # …and said


def test_entered_year_comes_first_and_covers_it():
    entered = EnteredYear(2027, holidays={NEW_YEAR_2027}, workdays={date(2027, 2, 7)}, source="notice")
    cal = CalendarPolicy(working_days=True, entered={2027: entered})
    assert cal.covers(2027) and cal.source(2027) == "entered"
    assert not cal.is_working_day(NEW_YEAR_2027)
    assert cal.is_working_day(date(2027, 2, 7))  # a Sunday at work
    assert not cal.is_working_day(date(2027, 1, 2))  # an unnamed Saturday follows the week
    assert cal.is_working_day(date(2027, 1, 4))
    assert EndOfDay(1).due(local(2026, 12, 31, 10), cal) == local(2027, 1, 5)
    assert uncovered_years(EndOfDay(1), local(2026, 12, 31, 10), cal) == ()
    assert hash(cal) is not None


def test_an_entered_year_overrides_a_library_year():
    cal = CalendarPolicy(working_days=True, entered=[EnteredYear(2026, holidays={date(2026, 12, 1)})])
    assert not cal.is_working_day(date(2026, 12, 1))
    # National Day, a Thursday named nowhere in the entry, is a working day: an entered year is
    # the whole year as the administrator saved it (the year view starts from the library's days).
    assert cal.is_working_day(date(2026, 10, 1))


def test_a_notice_may_name_a_day_of_the_year_before():
    cal = CalendarPolicy(working_days=True, entered=[
        EnteredYear(2027, holidays={date(2026, 12, 31), NEW_YEAR_2027})])
    assert not cal.is_working_day(date(2026, 12, 31))


@pytest.mark.parametrize("rule, start, gap", [
    (EndOfDay(1), local(2026, 12, 30, 10), ()),          # target 2026-12-31: known
    (EndOfDay(2), local(2026, 12, 30, 10), (2027,)),     # runs into 2027
    (EndOfDay(0), local(2027, 3, 1, 10), ()),            # no day counted
    (Hours(24), local(2027, 3, 1, 10), ()),              # wall-clock hours know no holidays
    (DayOfMonth(5), local(2027, 3, 1, 10), ()),
])
def test_uncovered_years_only_for_counted_working_days(rule, start, gap):
    assert uncovered_years(rule, start, WORK_DAYS) == gap


def test_calendar_days_never_have_a_gap():
    assert uncovered_years(EndOfDay(3), local(2027, 3, 1, 10), CAL_DAYS) == ()


@pytest.mark.parametrize("today, years", [
    (date(2026, 10, 31), (2026,)),
    (date(2026, 11, 1), (2026, 2027)),
    (date(2027, 1, 1), (2027,)),
])
def test_next_year_is_needed_from_the_first_of_november(today, years):
    assert needed_years(today) == years


# --- the State Council's notice ---------------------------------------------------------------
# The 2025 and 2026 notices as published (国办发明电), checked below against chinesecalendar.

NOTICE_2025 = """国务院办公厅关于2025年部分节假日安排的通知
一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
"""

NOTICE_2026 = """国务院办公厅关于2026年部分节假日安排的通知
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
"""


@pytest.mark.parametrize("year, text", [(2025, NOTICE_2025), (2026, NOTICE_2026)])
def test_parsed_notice_gives_chinesecalendars_year_day_by_day(year, text):
    import chinese_calendar

    parsed = parse_notice(text)
    assert parsed.year == year and parsed.unread == () and parsed.invalid == ()
    cal = CalendarPolicy(working_days=True, entered=[EnteredYear(year, parsed.holidays, parsed.workdays)])
    day, wrong = date(year, 1, 1), []
    while day.year == year:
        if cal.is_working_day(day) != chinese_calendar.is_workday(day):
            wrong.append(day)
        day += timedelta(days=1)
    assert wrong == []


def test_notice_parse_details():
    parsed = parse_notice(NOTICE_2026)
    assert parsed.workdays == {date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28),
                               date(2026, 5, 9), date(2026, 9, 20), date(2026, 10, 10)}
    assert {date(2026, 2, 15) + timedelta(days=i) for i in range(9)} <= parsed.holidays


def test_the_issues_example_with_ranges_across_months_and_an_explicit_year():
    text = ("一、元旦：2026年12月31日至2027年1月1日（周五）放假，与周末连休。"
            "二、春节：2月6日至13日放假调休，共8天。2月7日（星期日）、2月20日（星期六）上班。"
            "三、国庆节：9月30日至10月6日放假。")
    parsed = parse_notice(text, 2027)
    assert {date(2026, 12, 31), NEW_YEAR_2027, date(2027, 2, 6), date(2027, 2, 13),
            date(2027, 9, 30), date(2027, 10, 6)} <= parsed.holidays
    assert parsed.workdays == {date(2027, 2, 7), date(2027, 2, 20)}
    # 2月7日 lies inside 6–13 and is also said to be a workday: the explicit 上班 wins.
    assert date(2027, 2, 7) not in parsed.holidays
    assert len(parsed.holidays) == 2 + 7 + 7


def test_full_width_digits_and_unread_lines_and_impossible_dates():
    parsed = parse_notice("一、元旦：１月１日放假。另：2月30日放假。各地区要妥善安排好值班。3月3日另行通知。", 2027)
    assert parsed.holidays == {NEW_YEAR_2027}
    assert parsed.invalid == ("2月30日",)
    assert parsed.unread == ("3月3日另行通知",)


def test_notice_without_a_year_reads_nothing():
    assert parse_notice("春节：2月6日至13日放假").year is None
    assert parse_notice("").holidays == frozenset()


def test_before_holiday_moves_a_dated_deadline_back_to_the_previous_working_day():
    from webapp.calendar import before_holiday, local_midnight_utc, parse_rule, CalendarPolicy
    cal = CalendarPolicy()
    start = local_midnight_utc(date(2026, 9, 2))
    rule = parse_rule("dom:28")  # Monday 28 Sep 2026: a working day, as is
    assert before_holiday(rule, rule.due(start, cal), cal) == local_midnight_utc(date(2026, 9, 29))
    rule = parse_rule("before_dom:8")  # last day Wed 7 Oct 2026: National Day → Wed 30 Sep
    due = rule.due(local_midnight_utc(date(2026, 9, 20)), cal)
    assert due == local_midnight_utc(date(2026, 10, 8))
    assert before_holiday(rule, due, cal) == local_midnight_utc(date(2026, 10, 1))
    # a move that would land at or before now is not made
    assert before_holiday(rule, due, cal, now=local_midnight_utc(date(2026, 10, 3))) == due
    # counted days are left alone
    eod = parse_rule("eod:1")
    assert before_holiday(eod, local_midnight_utc(date(2026, 10, 3)), cal) == local_midnight_utc(date(2026, 10, 3))
