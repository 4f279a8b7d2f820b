"""The day-3 after-sale calls of the 1-3-5 plan (workflows/aftersale_call.py), started by the
daily job for the sales of local day D-2 (day 3 counting the sale day as day 1)."""
from __future__ import annotations

from datetime import datetime, timedelta

from .. import clock
from ..calendar import local_date
from ..extensions import db
from ..workflows import engine
from ..workflows.aftersale_call import aftersale_call
from ..workflows.aftersale_call_steps import members_who_bought_on


def start_due_calls(*, now: datetime | None = None) -> int:
    """Open today's day-3 calls (one per member who bought on local day today−2); idempotent,
    commits; returns how many started."""
    now = now or clock.now()
    day = local_date(now) - timedelta(days=2)
    try:
        ids = engine.start_many(aftersale_call, members_who_bought_on(day), now=now,
                                data={"sale_date": f"{day.month}月{day.day}日",
                                      "sale_day": day.isoformat()})
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return len(ids)
