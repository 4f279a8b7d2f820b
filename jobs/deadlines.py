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
    """Open the recurring cases that are due (every process with a `Recurring` rule), from
    1 November the task to enter next year's holidays while no source covers it, the points SMS
    of finished sales days, the day-3 after-sale calls and the nightly tier review; idempotent."""
    from webapp.services.daily import ensure_holiday_years
    from webapp.services.lifecycle import daily_lifecycle
    from webapp.services.recurring import open_due

    def all_of_it():
        ensure_holiday_years()
        opened = open_due()
        daily_lifecycle()
        return opened

    return run(all_of_it)
