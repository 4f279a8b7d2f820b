"""What /healthz and /metrics tell: the database, Redis, the workers, the sweeper's last run and
the oldest deadline that is due and has not fired. A worker that is registered but runs nothing
shows as a sweeper that stopped and deadlines that pile up, so both count for health."""
from __future__ import annotations

import logging
import time

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.registry import FailedJobRegistry
from sqlalchemy import text

from .. import clock
from ..extensions import db
from ..queue import redis_conn
from .deadlines import oldest_unfired

log = logging.getLogger(__name__)
SWEEP_KEY = "crm:sweep:last"
SWEEP_STALE = 180  # seconds: the sweeper runs every minute
OVERDUE_STALE = 300  # seconds a due deadline may wait unfired before the service is unhealthy


def record_sweep(*, at: float | None = None) -> None:
    """The sweeper job ran to its end (called by jobs.deadlines.sweep); a Redis that does not
    answer loses the stamp, never the sweep's work (already committed)."""
    try:
        redis_conn().set(SWEEP_KEY, at if at is not None else time.time())
    except RedisError as exc:
        log.warning("sweeper heartbeat not stored: %s", exc)


def health() -> tuple[dict, bool]:
    """Every check as JSON-ready values, and whether the service is up."""
    state: dict = {"database": _check(lambda: db.session.execute(text("SELECT 1")).scalar() == 1),
                   "redis": _check(lambda: redis_conn().ping())}
    workers, heartbeat, sweep_age = 0, None, None
    if state["redis"] == "ok":
        try:
            mine = [w for w in Worker.all(connection=redis_conn())
                    if current_app.config["RQ_QUEUE"] in w.queue_names()]
            workers = len(mine)
            beats = [w.last_heartbeat.timestamp() for w in mine if w.last_heartbeat]
            heartbeat = round(time.time() - max(beats)) if beats else None
            last = redis_conn().get(SWEEP_KEY)
            sweep_age = round(time.time() - float(last)) if last else None
        except Exception:  # noqa: BLE001 — health must answer, whatever broke
            workers = 0
    state.update(workers=workers, worker_heartbeat_age_s=heartbeat, sweeper_last_run_age_s=sweep_age)
    overdue = None
    if state["database"] == "ok":
        try:
            oldest = oldest_unfired()
            overdue = round((clock.now() - oldest).total_seconds()) if oldest else 0
        except Exception:  # noqa: BLE001
            db.session.rollback()
    state["oldest_unfired_due_s"] = overdue
    problems = []
    if state["database"] != "ok" or state["redis"] != "ok":
        problems.append("storage")
    if workers == 0:
        problems.append("no worker")
    if sweep_age is None or sweep_age > SWEEP_STALE:
        problems.append("sweeper not running")
    if overdue is None or overdue > OVERDUE_STALE:
        problems.append("deadlines not firing")
    state["problems"] = problems
    return state, not problems


def _check(probe) -> str:
    try:
        return "ok" if probe() else "error"
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def queue_figures() -> dict:
    """Queue depth and failed jobs, for /metrics."""
    queue = Queue(current_app.config["RQ_QUEUE"], connection=redis_conn())
    return {"depth": queue.count,
            "failed": FailedJobRegistry(queue=queue).count}
