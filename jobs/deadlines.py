"""Deadline jobs: the per-second alarm and the every-minute sweeper run the same service."""
from . import run


def fire_due():
    """Alarm job scheduled with enqueue_at; harmless when run twice or late."""
    from webapp.services.deadlines import process_due

    return run(process_due)


def sweep():
    """Periodic safety net: fires anything whose alarm job was lost (Redis flushed, worker killed)."""
    from webapp.services.deadlines import process_due

    return run(process_due)


def daily():
    """Open today's recurring tasks (the complaint-mailbox check, next year's holidays); idempotent."""
    from webapp.services.daily import ensure_holiday_years, ensure_mailbox_check

    def both():
        ensure_holiday_years()
        return ensure_mailbox_check().id

    return run(both)
