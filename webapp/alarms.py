"""Alarms: deadline moments announced to Redis (RQ `enqueue_at`), only after the transaction
that stored them commits. The database holds the truth; an alarm lost here is caught by the
sweeper (services/deadlines.py). Below the engine: the engine arms alarms, the deadline job
answers them.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timezone

from redis.exceptions import RedisError
from sqlalchemy import event

from .extensions import db

log = logging.getLogger(__name__)
FIRE_JOB = "jobs.deadlines.fire_due"


def schedule_after_commit(*moments: datetime | None) -> None:
    """Remember alarm times; they reach Redis only if the transaction commits."""
    pending = db.session.info.setdefault("alarm_seconds", set())
    pending.update(math.ceil(m.timestamp()) for m in moments if m is not None)


def install_session_hooks() -> None:
    """Wire the after-commit/rollback listeners once per process."""
    if getattr(install_session_hooks, "done", False):
        return
    event.listen(db.session, "after_commit", _after_commit)
    event.listen(db.session, "after_rollback", lambda s: s.info.pop("alarm_seconds", None))
    install_session_hooks.done = True


def _after_commit(session) -> None:
    seconds = session.info.pop("alarm_seconds", None)
    if seconds:
        enqueue_alarms(seconds)


def enqueue_alarms(seconds) -> None:
    """Schedule one RQ job per distinct second; a lost one is caught by the sweeper."""
    from .queue import queue

    try:
        q = queue()
        with q.connection.pipeline() as pipe:
            for second in sorted(seconds):
                at = datetime.fromtimestamp(second, timezone.utc)
                q.enqueue_at(at, FIRE_JOB, job_id=f"alarm-{second}", result_ttl=60,
                             failure_ttl=3600, pipeline=pipe)
            pipe.execute()
    except RedisError as exc:  # the DB holds the deadline; the sweeper will fire it
        log.warning("could not schedule %d alarms: %s", len(seconds), exc)
