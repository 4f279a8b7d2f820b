"""The period vocabulary: local days as UTC windows, months, years, clamping, last year."""
from datetime import date, datetime, timezone

import pytest

from webapp.periods import Month, Year, day_window

UTC = timezone.utc


def test_a_local_day_is_the_utc_window_from_16_00_to_16_00():
    assert day_window(date(2026, 11, 30)) == (datetime(2026, 11, 29, 16, tzinfo=UTC),
                                              datetime(2026, 11, 30, 16, tzinfo=UTC))


def test_a_month_from_a_moment_uses_the_local_day():
    assert Month.of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == Month(2026, 12)  # 00:30 on 1 Dec


@pytest.mark.parametrize("month,n,expected", [
    (Month(2027, 2), 30, date(2027, 2, 28)), (Month(2028, 2), 30, date(2028, 2, 29)),
    (Month(2026, 4), 31, date(2026, 4, 30)), (Month(2026, 11), 28, date(2026, 11, 28)),
])
def test_the_30th_of_a_short_month_is_its_last_day(month, n, expected):
    assert month.day(n) == expected


def test_month_arithmetic_across_years():
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2027, 1).previous() == Month(2026, 12)
    assert Month(2026, 11).plus(-23) == Month(2024, 12)
    assert Month(2028, 2).same_last_year() == Month(2027, 2)
    assert (Month(2026, 10).ym, Month.from_ym(202610), Month(2026, 1).key) == (
        202610, Month(2026, 10), "2026-01")
    assert Month(2026, 10).last_day == date(2026, 10, 31)


def test_month_and_year_windows():
    assert Month(2026, 12).window() == (datetime(2026, 11, 30, 16, tzinfo=UTC),
                                        datetime(2026, 12, 31, 16, tzinfo=UTC))
    assert Year(2027).window() == (datetime(2026, 12, 31, 16, tzinfo=UTC),
                                   datetime(2027, 12, 31, 16, tzinfo=UTC))
    assert [m.month for m in Year(2027).months] == list(range(1, 13))


@pytest.mark.parametrize("text", ["2026-13", "2026", "26-01", "", "abcd-01", "9999-01", "2026-1-1"])
def test_a_month_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError):
        Month.parse(text)

