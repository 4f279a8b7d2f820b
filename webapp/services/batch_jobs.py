"""A BatchJob's life in the worker, shared by the PDF batches (services/printing) and the month's
pack review (services/monthly_pack): queued after the commit, claimed and run with its failure
recorded on the row (a short reason in the user's language, shown with a button to ask again; the
traceback stays in the worker's log and RQ's failed registry), and, when the worker died without
recording anything (killed hard, Redis emptied), seen as failed from the queue."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable, TypeVar

from .. import clock
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import BatchJob

T = TypeVar("T")
# A row still marked queued or running whose job the queue no longer holds, or holds as failed,
# died. Not sooner than this after the request: the job is queued after the commit.
STALE_AFTER = timedelta(minutes=2)
LIVE = ("queued", "started", "scheduled", "deferred")  # RQ's statuses of a job not yet over
LOST = N_("后台任务已中断（工作进程退出或任务丢失）")
TIMED_OUT = N_("后台任务超过时限未完成")
FAILED = N_("后台任务出错，详情已记入日志")
QUEUE_DOWN = N_("后台任务队列暂不可用，请稍后重试")


class QueueDown(Refusal, ValueError):
    """Redis refused the job: the request is recorded as failed, and said so."""


def job_id(batch: BatchJob) -> str:
    return f"batch-{batch.id}"


def enqueue(batch: BatchJob, func: str, *, timeout: int) -> None:
    """Queue the committed row's job; QueueDown (the row marked failed) when Redis is away."""
    from redis.exceptions import RedisError

    from ..queue import queue

    try:
        queue().enqueue(func, batch.id, job_id=job_id(batch), job_timeout=timeout)
    except RedisError:
        fail(batch, QUEUE_DOWN)
        raise QueueDown(QUEUE_DOWN) from None


def claim(batch_id: int, *, kind: str | None = None) -> BatchJob | None:
    """The worker takes the row: marked running (committed); None when it is gone, of another
    kind, or over already (done, or failed meanwhile: a lost job that turned up late)."""
    batch = db.session.get(BatchJob, batch_id)
    if batch is None or kind not in (None, batch.kind) or batch.status not in ("queued", "running"):
        return None
    batch.status = "running"
    db.session.commit()
    return batch


def run(batch_id: int, work: Callable[[], T], *, failed: str = FAILED) -> T | None:
    """`work()` in the worker; when it raises, what it wrote is rolled back and the row is marked
    failed with a reason for its page: a refusal's own words (returns None), the time limit, else
    `failed` — never the error's text (it may quote data), which the re-raise leaves to the
    worker's log and RQ's failed registry with the traceback."""
    try:
        return work()
    except Exception as exc:
        db.session.rollback()
        batch = db.session.get(BatchJob, batch_id)
        if batch is not None:
            fail(batch, reason(exc, failed=failed))
        if isinstance(exc, Refusal):
            return None
        raise


def reason(exc: Exception, *, failed: str = FAILED) -> str:
    """A failure in words for the page."""
    from rq.timeouts import JobTimeoutException

    if isinstance(exc, Refusal):
        return str(exc)
    return TIMED_OUT if isinstance(exc, JobTimeoutException) else failed


def fail(batch: BatchJob, reason: str) -> None:
    """Mark the row failed with its reason and free its key (committed)."""
    batch.status, batch.error, batch.active_key = "failed", reason[:500], None
    db.session.commit()


def stale(batch: BatchJob, *, now: datetime) -> bool:
    """Marked queued or running, but its job is gone from the queue or failed there (a job whose
    worker stopped beating is moved to failed first, as the workers' own upkeep would later)."""
    from redis.exceptions import RedisError
    from rq.exceptions import NoSuchJobError
    from rq.job import Job
    from rq.registry import StartedJobRegistry

    from ..queue import queue

    if batch.status not in ("queued", "running") or batch.created_at > now - STALE_AFTER:
        return False
    try:
        StartedJobRegistry(queue=queue()).cleanup()
        status = Job.fetch(job_id(batch), connection=queue().connection).get_status()
    except NoSuchJobError:
        return True
    except RedisError:
        return False  # cannot tell: still shown as running
    return status not in LIVE


def status(batch: BatchJob, *, now: datetime | None = None) -> dict:
    """The row as its page shows it: whether it is still under way, its state (queued, running,
    done or failed: one a dead worker left shows as failed), for how long, and why it failed."""
    now = now or clock.now()
    dead = stale(batch, now=now)
    running = batch.status in ("queued", "running") and not dead
    return {"job": batch, "running": running,
            "state": batch.status if running or batch.status == "done" else "failed",
            "seconds": int((now - batch.created_at).total_seconds()),
            "reason": LOST if dead else batch.error or ""}


def fail_if_lost(batch: BatchJob, *, now: datetime | None = None) -> bool:
    """Record a lost job's row as failed (so the job, should it turn up, does nothing);
    whether it was."""
    if not stale(batch, now=now or clock.now()):
        return False
    fail(batch, LOST)
    return True
