"""Cases the system opens by a calendar rule (`Recurring` on a process declaration).

One generic job for every process: for each occurrence whose opening moment has come and whose
period has not ended, it opens the missing cases, one per store / area / company, each keyed
`<process>:<period>[:<store or area id>]` (the unique dedupe key), set-based. Running it twice,
late, or after an outage opens nothing twice and misses no occurrence still open.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import Integer, String, literal, select

from .. import clock
from ..calendar import local_date, local_midnight_utc
from ..extensions import db
from ..models import Area, Store, TZDateTime
from ..periods import Month, Year, day_window
from ..workflows import engine


def occurrences(rule: engine.Recurring, now: datetime) -> list[tuple[str, datetime, datetime]]:
    """(period key, opens at, period ends at) of the occurrences open at `now` (UTC)."""
    today = local_date(now)
    if rule.cadence == "daily":
        key, opens_on, (_, end) = today.isoformat(), today, day_window(today)
    elif rule.cadence == "weekly":
        monday = today - timedelta(days=today.weekday())
        year, week, _ = monday.isocalendar()
        key, opens_on = f"{year}-W{week:02d}", monday + timedelta(days=rule.day - 1)
        end = local_midnight_utc(monday + timedelta(days=7))
    elif rule.cadence == "monthly":
        month = Month.of(today)
        key, opens_on, end = month.key, month.day(rule.day), month.window()[1]
    else:
        year = Year(today.year)
        key, end = str(year), year.window()[1]
        opens_on = Month(today.year, rule.month).day(rule.day)
    start = local_midnight_utc(opens_on)
    return [(key, start, end)] if start <= now < end else []


def open_due(*, now: datetime | None = None, only: frozenset[str] | None = None) -> dict[str, int]:
    """Open every due recurring case of every declared process (or of the processes named in
    `only`); commits; returns counts."""
    now = now or clock.now()
    opened = {}
    for process in engine.REGISTRY.values():
        rule = process.recurring
        if rule is None or (only is not None and process.name not in only):
            continue
        for key, _opens, _ends in occurrences(rule, now):
            try:
                ids = engine.start_many(process, _units(process, rule, key, now), now=now,
                                        data={"period": key})
                if ids and rule.then:
                    rule.then(ids, now)
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            opened[process.name] = opened.get(process.name, 0) + len(ids)
    return opened


def _units(process: engine.Process, rule: engine.Recurring, key: str, now: datetime):
    """One source row per case to open: per store, per area, or one for the company.

    An initial-state `Timer(at=)` is the same moment for every case of the period (e.g. "the
    Friday of the week"): it is computed once, from a stand-in case whose data holds the period."""
    title = rule.title(key)
    prefix = f"{process.name}:{key}"
    extra = []
    at = next((t.at for t in process.timers.get(process.initial, ()) if t.at), None)
    if at is not None:
        extra.append(literal(at(SimpleNamespace(data={"period": key}), now), TZDateTime)
                     .label("timer_at"))
    if rule.per == "store":
        return select(literal(title).label("title"), Store.id.label("store_id"),
                      Store.area_id.label("area_id"), literal(None, Integer).label("member_id"),
                      (literal(prefix + ":") + Store.id.cast(String)).label("dedupe_key"), *extra)
    if rule.per == "area":
        return select(literal(title).label("title"), literal(None, Integer).label("store_id"),
                      Area.id.label("area_id"), literal(None, Integer).label("member_id"),
                      (literal(prefix + ":") + Area.id.cast(String)).label("dedupe_key"), *extra)
    return select(literal(title).label("title"), literal(None, Integer).label("store_id"),
                  literal(None, Integer).label("area_id"), literal(None, Integer).label("member_id"),
                  literal(prefix).label("dedupe_key"), *extra)


def open_process(name: str, *, now: datetime) -> int:
    """Open the due cases of one process only (the demo replays a past month with it); the
    caller commits."""
    process = engine.get_process(name)
    opened = 0
    for key, _opens, _ends in occurrences(process.recurring, now):
        opened += len(engine.start_many(process, _units(process, process.recurring, key, now), now=now,
                                        data={"period": key}))
    return opened
