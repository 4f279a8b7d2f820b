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
    """Open the recurring cases that are due (every process with a `Recurring` rule); idempotent."""
    from webapp.services.recurring import open_due

    return run(open_due)
