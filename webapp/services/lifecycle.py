"""The member-lifecycle work of the daily job (every ten minutes, each part idempotent): the
points SMS of finished sales days, the day-3 after-sale calls, the nightly tier review."""
from __future__ import annotations

from datetime import datetime

from .. import clock
from . import aftersale, points, tiers


def daily_lifecycle(*, now: datetime | None = None) -> dict:
    """Run the three; each commits its own work."""
    now = now or clock.now()
    return {"points_sms": points.queue_points_sms(now=now),
            "aftersale_calls": aftersale.start_due_calls(now=now),
            "tiers": tiers.review_if_due(now=now)}
