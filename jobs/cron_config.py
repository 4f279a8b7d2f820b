"""Periodic schedule for `rq cron jobs/cron_config.py`."""
import os

from rq import cron

from jobs.deadlines import sweep

QUEUE = os.environ.get("RQ_QUEUE", "crm")

cron.register(sweep, queue_name=QUEUE, interval=60)
