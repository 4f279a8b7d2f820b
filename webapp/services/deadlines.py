"""Deadlines: stored on task rows (the truth), announced to Redis after commit (the alarm clock).

Due tasks are handled set-based: one conditional UPDATE ... RETURNING claims a batch of
tasks whose reminder/escalation has not fired yet, so a job that runs twice, late, or at the
same time as the sweeper finds nothing left to do. Alarm jobs are bucketed per second with a
deterministic job id: 10,000 deadlines at the same end of day are one RQ job.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timezone

from redis.exceptions import RedisError
from sqlalchemy import event, insert, select, update

from .. import clock
from ..extensions import db
from ..models import AuditEvent, Notification, Task

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
    from ..queue import queue

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


def process_due(*, now: datetime | None = None, batch: int = 2000) -> dict[str, int]:
    """Fire every reminder and escalation that is due and has not fired; commits per batch."""
    now = now or clock.now()
    counts = {"remind": 0, "escalate": 0}
    for kind in counts:
        while True:
            claimed_at = clock.now()
            claimed = _claim(kind, now, batch, claimed_at)
            counts[kind] += len(claimed)
            _notify(kind, claimed, claimed_at)
            db.session.commit()
            if len(claimed) < batch:
                break
    return counts


def _claim(kind: str, now: datetime, batch: int, claimed_at: datetime) -> list:
    """Mark a batch as fired and return it; the WHERE re-check makes this exactly-once."""
    moment, fired = ((Task.remind_at, Task.reminded_at) if kind == "remind"
                     else (Task.due_at, Task.escalated_at))
    pending = (Task.status == "open", fired.is_(None), moment <= now)
    ids = select(Task.id).where(*pending).order_by(Task.id).limit(batch)
    stmt = (update(Task).where(Task.id.in_(ids), *pending).values({fired: claimed_at})
            .returning(Task.id, Task.case_id, Task.role, Task.assignee_id, Task.store_id,
                       Task.area_id, Task.escalate_to)
            .execution_options(synchronize_session=False))
    return db.session.execute(stmt).all()


def _notify(kind: str, rows: list, now: datetime) -> None:
    if not rows:
        return
    notes, events = [], []
    for r in rows:
        to_role = r.escalate_to if kind == "escalate" and r.escalate_to else r.role
        notes.append({"task_id": r.id, "kind": kind, "role": to_role, "created_at": now,
                      "user_id": r.assignee_id if to_role == r.role else None,
                      "store_id": r.store_id, "area_id": r.area_id})
        events.append({"case_id": r.case_id, "object_type": "task", "object_id": r.id,
                       "actor_id": None, "at": now, "action": kind, "comment": "",
                       "data": {"to_role": to_role.value}})
    db.session.execute(insert(Notification), notes)
    db.session.execute(insert(AuditEvent), events)
