"""The year's care occasions (SPEC §3.4; seed 000 §(二)2): pure dates, no database.

Lunar festivals come from lunar_python (a maintained lunar-calendar library, no hand-written
table); the solar ones are fixed days or rules. Birthdays are read from the clear month-day
(MMDD): someone born on 29 February is greeted on 28 February in a year without that day
(still in February, and before the day rather than after it).
Members' anniversaries (named, MMDD) are greeted on the day like birthdays. A store's opening
anniversary (Store.opened_on) is its own occasion, for that store's members only.
"""
from __future__ import annotations

import calendar as _cal
from dataclasses import dataclass
from datetime import date, timedelta

from lunar_python import Lunar

from .i18n_labels import N_

# kind drives the per-tier methods (workflows/care_batch_steps.METHODS)
FESTIVAL, VALENTINE, GROUP, COMPANY, SEASON, BIRTHDAY = (
    "festival", "valentine", "group", "company", "season", "birthday")
ANNIVERSARY, STORE = "anniversary", "store"


@dataclass(frozen=True)
class Occasion:
    key: str  # stable name, e.g. "spring_festival"
    label: str  # N_-marked Chinese name
    day: date
    kind: str
    occupation: str | None = None  # a group's day: only members with this occupation
    store_id: int | None = None  # a store's own day (opening anniversary): its members only
    act_on: date | None = None  # calls and SMS before the day (a store anniversary's invitations)


def lunar_day(year: int, month: int, day: int) -> date:
    """The Gregorian date of lunar `month`/`day` of lunar year `year` (first month: 正月)."""
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def occasions_of_year(year: int, *, season_launches: tuple[str, ...] = ()) -> list[Occasion]:
    """Every company occasion of `year`, in date order; `season_launches` are "MMDD" texts
    (the setting care_season_launches)."""
    found = [
        Occasion("new_year", N_("元旦"), date(year, 1, 1), COMPANY),
        Occasion("spring_festival", N_("春节"), lunar_day(year, 1, 1), FESTIVAL),
        Occasion("valentine", N_("情人节"), date(year, 2, 14), VALENTINE),
        Occasion("labour_day", N_("劳动节"), date(year, 5, 1), COMPANY),
        Occasion("dragon_boat", N_("端午节"), lunar_day(year, 5, 5), FESTIVAL),
        Occasion("fathers_day", N_("父亲节"), _nth_weekday(year, 6, 6, 3), COMPANY),
        Occasion("army_day", N_("建军节"), date(year, 8, 1), GROUP, occupation="military"),
        Occasion("teachers_day", N_("教师节"), date(year, 9, 10), GROUP, occupation="teacher"),
        Occasion("mid_autumn", N_("中秋节"), lunar_day(year, 8, 15), FESTIVAL),
        Occasion("national_day", N_("国庆节"), date(year, 10, 1), COMPANY),
        Occasion("christmas", N_("圣诞节"), date(year, 12, 25), COMPANY),
    ]
    for text in season_launches:
        day = date(year, int(text[:2]), int(text[2:]))
        found.append(Occasion(f"season_{text}", N_("新品上市"), day, SEASON))
    return sorted(found, key=lambda o: (o.day, o.key))


def birthday_in(month_day: int, year: int) -> date:
    """The day a birthday (MMDD) is celebrated in `year`; 29 February → 28 February when the
    year has no 29 February."""
    month, day = divmod(month_day, 100)
    if (month, day) == (2, 29) and not _cal.isleap(year):
        return date(year, 2, 28)
    return date(year, month, day)


def birthday_month_days(day: date) -> tuple[int, ...]:
    """The MMDD values celebrated on `day` (28 February of a common year also takes 0229)."""
    mmdd = day.month * 100 + day.day
    if (day.month, day.day) == (2, 28) and not _cal.isleap(day.year):
        return (mmdd, 229)
    return (mmdd,)


def upcoming(today: date, lead_days: int, *, season_launches: tuple[str, ...] = ()) -> list[Occasion]:
    """The occasions (not birthdays) on `today` … `today + lead_days`: a batch is generated
    `lead_days` ahead, and a run that was missed still catches an occasion not yet past."""
    last = today + timedelta(days=lead_days)
    found = []
    for year in range(today.year, last.year + 1):
        found += [o for o in occasions_of_year(year, season_launches=season_launches)
                  if today <= o.day <= last]
    return found


def store_anniversary_in(opened_on: date, year: int) -> date | None:
    """The opening anniversary of a store in `year` (none in its opening year; 29 February →
    28 February in a common year, as birthdays)."""
    if year <= opened_on.year:
        return None
    return birthday_in(opened_on.month * 100 + opened_on.day, year)


def store_anniversaries(stores: list[tuple[int, date]], today: date, lead_days: int,
                        invite_days: int) -> list[Occasion]:
    """The stores' opening anniversaries on `today` … `today + lead_days` (stores as (id,
    opened_on)); invitations go `invite_days` before the day (never before today)."""
    last = today + timedelta(days=lead_days)
    found = []
    for store_id, opened_on in stores:
        for year in range(today.year, last.year + 1):
            day = store_anniversary_in(opened_on, year)
            if day is not None and today <= day <= last:
                found.append(Occasion("store_anniversary", N_("开业周年庆"), day, STORE, store_id=store_id,
                                      act_on=max(today, day - timedelta(days=invite_days))))
    return found
