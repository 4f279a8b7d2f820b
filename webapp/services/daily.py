"""Recurring work the system opens by itself; safe to run any number of times."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import clock
from ..calendar import local_date, needed_years
from ..extensions import db
from ..models import Case
from ..workflows import engine
from .recurring import open_due


def ensure_mailbox_check(*, now: datetime | None = None) -> Case:
    """Today's mailbox-check case (opened with every other due recurring case if missing)."""
    now = now or clock.now()
    open_due(now=now)
    key = f"mailbox_check:{local_date(now).isoformat()}"
    return db.session.scalars(select(Case).where(Case.dedupe_key == key)).one()


def ensure_holiday_years(*, now: datetime | None = None) -> list[Case]:
    """From 1 November, a case to enter next year's holidays while no source covers it (and
    one for this year, if it is still uncovered); the dedupe key makes a second run find it."""
    from .. import settings

    now = now or clock.now()
    policy = settings.calendar_policy()
    cases = []
    for year in needed_years(local_date(now)):
        key = f"holiday_year:{year}"
        existing = db.session.scalars(select(Case).where(Case.dedupe_key == key)).first()
        if existing or policy.covers(year):
            continue
        try:
            cases.append(engine.start(engine.get_process("holiday_year"), None,
                                      title=f"录入{year}年节假日安排", store_id=None, area_id=None,
                                      data={"year": year}, now=now, dedupe_key=key))
            db.session.commit()
        except IntegrityError:  # another worker opened it at the same moment
            db.session.rollback()
    return cases
