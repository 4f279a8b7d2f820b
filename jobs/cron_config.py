"""Periodic schedule for `rq cron jobs/cron_config.py`."""
import os

from rq import cron

from jobs.deadlines import daily, sweep
from jobs.messaging import deliver_staff_posts, send_queued

QUEUE = os.environ.get("RQ_QUEUE", "crm")

cron.register(sweep, queue_name=QUEUE, interval=60)
# Every 10 minutes rather than at midnight: a missed run (worker down at 00:00) costs minutes, not a day.
cron.register(daily, queue_name=QUEUE, interval=600)
# The outbox's SMS: back-offs and quiet hours come due without a commit to start the job.
cron.register(send_queued, queue_name=QUEUE, interval=60)
# Group robots, digest e-mails, outgoing webhooks: back-offs come due, a lost start is caught.
cron.register(deliver_staff_posts, queue_name=QUEUE, interval=60)
