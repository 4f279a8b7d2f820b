"""Deadline jobs: the per-second alarm and the every-minute sweeper run the same service."""
from . import run


def fire_due():
    """Alarm job scheduled with enqueue_at; harmless when run twice or late."""
    from webapp.services.deadlines import process_due

    return run(process_due)


def sweep():
    """Periodic safety net: fires anything whose alarm job was lost (Redis flushed, worker killed);
    its last run is the heartbeat /healthz reads."""
    from webapp.services.deadlines import process_due
    from webapp.services.monitoring import record_sweep

    def sweep_and_stamp():
        done = process_due()
        record_sweep()
        return done

    return run(sweep_and_stamp)


def daily():
    """Open the recurring cases that are due (every process with a `Recurring` rule), from
    1 November the task to enter next year's holidays while no source covers it, the care
    batches of the coming occasions, the plan items whose date has come as their associates'
    tasks, the points SMS of finished sales days, the day-3 after-sale calls and the nightly
    tier review, the 09:00 task digests; idempotent."""
    from webapp.services.care import generate_due
    from webapp.services.backup import purge_personal_files
    from webapp.services.daily import ensure_holiday_years
    from webapp.services.digest import queue_digests
    from webapp.services.lifecycle import daily_lifecycle
    from webapp.services.recurring import open_due
    from webapp.services.visit_plan import open_item_tasks

    def all_of_them():
        ensure_holiday_years()
        purge_personal_files()
        generate_due()  # the care batches of the coming occasions (SPEC §3.4)
        opened = open_due()
        open_item_tasks()
        daily_lifecycle()
        queue_digests()  # from 09:00: each store's group and the users who asked, once a day
        return opened

    return run(all_of_them)
