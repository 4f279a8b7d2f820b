"""Recurring work the system opens by itself; safe to run any number of times."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from .. import clock
from ..calendar import local_date
from ..extensions import db
from ..models import Case
from .recurring import open_due


def ensure_mailbox_check(*, now: datetime | None = None) -> Case:
    """Today's mailbox-check case (opened with every other due recurring case if missing)."""
    now = now or clock.now()
    open_due(now=now)
    key = f"mailbox_check:{local_date(now).isoformat()}"
    return db.session.scalars(select(Case).where(Case.dedupe_key == key)).one()
