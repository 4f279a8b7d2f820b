"""The year's care occasions (SPEC §3.4): lunar festivals from the library checked against a
published table, fixed days, season launches, birthdays on 29 February."""
from datetime import date

import pytest

from webapp.occasions import (birthday_in, birthday_month_days, lunar_day, occasions_of_year,
                              upcoming)

# Published dates (Hong Kong Observatory Gregorian–lunar conversion tables, 2025–2030):
# 春节 (正月初一), 端午 (五月初五), 中秋 (八月十五).
PUBLISHED = {
    2025: (date(2025, 1, 29), date(2025, 5, 31), date(2025, 10, 6)),
    2026: (date(2026, 2, 17), date(2026, 6, 19), date(2026, 9, 25)),
    2027: (date(2027, 2, 6), date(2027, 6, 9), date(2027, 9, 15)),
    2028: (date(2028, 1, 26), date(2028, 5, 28), date(2028, 10, 3)),
    2029: (date(2029, 2, 13), date(2029, 6, 16), date(2029, 9, 22)),
    2030: (date(2030, 2, 3), date(2030, 6, 5), date(2030, 9, 12)),
}


@pytest.mark.parametrize("year", sorted(PUBLISHED))
def test_lunar_festivals_match_the_published_table(year):
    days = {o.key: o.day for o in occasions_of_year(year)}
    assert (days["spring_festival"], days["dragon_boat"], days["mid_autumn"]) == PUBLISHED[year]


def test_the_fixed_days_and_fathers_day():
    days = {o.key: o.day for o in occasions_of_year(2027)}
    assert days["valentine"] == date(2027, 2, 14)
    assert days["army_day"] == date(2027, 8, 1) and days["teachers_day"] == date(2027, 9, 10)
    assert days["fathers_day"] == date(2027, 6, 20)  # third Sunday of June
    assert days["national_day"] == date(2027, 10, 1)


def test_group_days_name_their_occupation_and_season_launches_come_from_the_setting():
    found = {o.key: o for o in occasions_of_year(2027, season_launches=("0301", "0901"))}
    assert found["teachers_day"].occupation == "teacher" and found["army_day"].occupation == "military"
    assert found["season_0301"].day == date(2027, 3, 1) and found["season_0901"].kind == "season"


def test_upcoming_spans_the_new_year_and_keeps_a_missed_day():
    keys = [o.key for o in upcoming(date(2026, 12, 28), 7)]
    assert keys == ["new_year"]
    assert [o.key for o in upcoming(date(2027, 1, 30), 7)] == ["spring_festival"]
    assert [o.key for o in upcoming(date(2027, 2, 6), 7)][0] == "spring_festival"  # the day itself
    assert "spring_festival" not in [o.key for o in upcoming(date(2027, 2, 7), 7)]


def test_29_february_is_greeted_on_28_february_in_a_common_year():
    assert birthday_in(229, 2027) == date(2027, 2, 28)
    assert birthday_in(229, 2028) == date(2028, 2, 29)
    assert birthday_month_days(date(2027, 2, 28)) == (228, 229)
    assert birthday_month_days(date(2028, 2, 28)) == (228,)
    assert birthday_month_days(date(2028, 2, 29)) == (229,)
    assert lunar_day(2027, 1, 1) == date(2027, 2, 6)


def test_store_opening_anniversaries_a_week_ahead_across_the_new_year():
    from webapp.occasions import store_anniversaries

    stores = [(1, date(2020, 1, 3)), (2, date(2026, 12, 30)), (3, date(2016, 2, 29))]
    found = store_anniversaries(stores, date(2026, 12, 28), 7, 3)
    # store 2 opened this year: no anniversary yet; store 1's falls in the next year
    assert [(o.store_id, o.day, o.act_on) for o in found] == [(1, date(2027, 1, 3), date(2026, 12, 31))]
    leap = store_anniversaries(stores, date(2027, 2, 21), 7, 3)
    assert [(o.store_id, o.day) for o in leap] == [(3, date(2027, 2, 28))]  # as birthdays
    late = store_anniversaries(stores, date(2027, 1, 2), 7, 3)  # a missed run: invite today
    assert [(o.day, o.act_on) for o in late] == [(date(2027, 1, 3), date(2027, 1, 2))]
