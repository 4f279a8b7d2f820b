"""Deadlines: stored on task rows (the truth), announced to Redis after commit (the alarm clock).

Due tasks are handled set-based: one conditional UPDATE ... RETURNING claims a batch of
tasks whose reminder/escalation has not fired yet, so a job that runs twice, late, or at the
same time as the sweeper finds nothing left to do. Alarm jobs are bucketed per second with a
deterministic job id: 10,000 deadlines at the same end of day are one RQ job.

On PostgreSQL a batch is claimed, notified and audited by ONE statement (data-modifying CTEs);
elsewhere (SQLite) the claim is followed by two bulk core INSERTs. 10,000 tasks due at once
take ~0.4 s on PostgreSQL and ~0.8 s on SQLite (bench/bench_deadlines.py).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import (ARRAY, Integer, any_, case, cast, func, insert, literal, null, select,
                        update)

from .. import clock
from ..extensions import db
from ..models import AuditEvent, Case, CaseTimer, Notification, Role, Task, TZDateTime

log = logging.getLogger(__name__)


def process_due(*, now: datetime | None = None, batch: int = 2000) -> dict[str, int]:
    """Fire every reminder, escalation and case timer that is due and has not fired; commits
    per batch.

    `now` (the job's start) decides what is due; each batch records the clock of its own claim
    as the fired-at time, so the stored time is when the notification was really made.
    A reminder found after its task's deadline has passed too is dropped, not sent in the same
    second as the escalation (a late sweep, a worker back from an outage).
    """
    now = now or clock.now()
    _drop_late_reminders(now)
    counts = {"remind": 0, "escalate": 0}
    fire_batch = _fire_batch_pg if db.session.get_bind().dialect.name == "postgresql" else _fire_batch
    for kind in counts:
        while True:
            try:
                claimed_at = clock.now()
                fired = fire_batch(kind, now, batch, claimed_at)
                if kind == "escalate" and fired:
                    _announce_overdue(claimed_at)  # same transaction: the group posts as a row
                db.session.commit()
            except Exception:
                db.session.rollback()
                raise
            counts[kind] += fired
            if fired < batch:
                break
    counts["timer"] = fire_timers(now=now, batch=batch)
    return counts


def _announce_overdue(claimed_at: datetime) -> int:
    """The batch's tasks whose deadline passed, posted to the groups concerned (one post per
    group per batch; nothing is read when no group robot is registered)."""
    from .. import staff_alerts
    from ..models import Store
    from ..workflows import engine

    if not staff_alerts.any_robots():
        return 0
    found = db.session.execute(
        select(Task.case_id, Task.name, Task.store_id, Task.area_id, Task.role, Task.escalate_to,
               Task.escalate_also, Case.process, Store.name.label("store"))
        .join(Case, Case.id == Task.case_id).outerjoin(Store, Store.id == Task.store_id)
        .where(Task.status == "open", Task.escalated_at == claimed_at)
        .order_by(Task.due_at, Task.id)).all()
    rows = [dict(r._mapping, label=engine.task_label(r),
                 process_label=engine.get_process(r.process).label) for r in found]
    return staff_alerts.tasks_overdue(rows, claimed_at)


def _drop_late_reminders(now: datetime) -> None:
    """Mark reminders whose deadline has passed as done without notifying anybody."""
    try:
        db.session.execute(update(Task).where(
            Task.status == "open", Task.reminded_at.is_(None), Task.remind_at <= now,
            Task.due_at <= now).values(reminded_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


def fire_timers(*, now: datetime, batch: int = 500) -> int:
    """Fire due case timers: each is claimed once (conditional UPDATE), and its transition is
    fired by the system in the same transaction, only if the case is still where the timer
    was armed (same state, same version). Stale timers are claimed and do nothing."""
    from ..workflows import engine

    fired = 0
    while True:
        try:
            claimed = db.session.execute(
                update(CaseTimer).where(
                    CaseTimer.id.in_(select(CaseTimer.id).where(
                        CaseTimer.fired_at.is_(None), CaseTimer.due_at <= now)
                        .order_by(CaseTimer.due_at, CaseTimer.id).limit(batch)),
                    CaseTimer.fired_at.is_(None))
                .values(fired_at=clock.now())
                .returning(CaseTimer.id, CaseTimer.case_id, CaseTimer.state,
                           CaseTimer.transition, CaseTimer.case_version)
                .execution_options(synchronize_session=False)).all()
            for timer in claimed:
                outcome = _fire_timer(engine, timer)
                db.session.execute(update(CaseTimer).where(CaseTimer.id == timer.id)
                                   .values(outcome=outcome)
                                   .execution_options(synchronize_session=False))
                fired += outcome == "fired"
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        if len(claimed) < batch:
            return fired


def _fire_timer(engine, timer) -> str:
    case = db.session.get(Case, timer.case_id, populate_existing=True)
    if case is None or case.state != timer.state or case.version != timer.case_version:
        return "stale"
    try:  # the engine refuses before it writes anything, so nothing needs undoing here
        engine.fire(case, timer.transition, None, version=timer.case_version, now=clock.now())
    except engine.WorkflowError as exc:  # a guard said no: the case stays, the refusal is logged
        log.info("timer %s on case %s refused: %s", timer.transition, case.id, exc)
        return "refused"
    return "fired"


def _pending(kind: str, now: datetime):
    """(fired-at column, conditions of a task whose `kind` is due and has not fired)."""
    moment, fired = ((Task.remind_at, Task.reminded_at) if kind == "remind"
                     else (Task.due_at, Task.escalated_at))
    return fired, (Task.status == "open", fired.is_(None), moment <= now)


def _claim_stmt(kind: str, now: datetime, batch: int, claimed_at: datetime, *, pg: bool = False):
    """UPDATE task SET <fired> = :claimed_at WHERE id among (a batch of due ids) AND <still pending>.

    The re-check of the pending conditions in the UPDATE keeps it exactly-once: of two runs at
    the same moment, the second waits for the first's row locks, re-reads the rows and finds
    them fired (no SKIP LOCKED on purpose: a row briefly locked by a user's claim or approval
    must not be skipped until the next sweep).
    On PostgreSQL the ids are handed over as one array computed once
    (`id = ANY(CAST((SELECT array_agg(id) FROM due) AS INTEGER[]))`), never as
    `id IN (subquery)`: on a table not analysed since a burst of inserts the planner took the
    IN-subquery for one row and rescanned it per task row (5 s for a batch of 2,000).
    """
    fired, pending = _pending(kind, now)
    if kind == "remind":  # never a reminder at or after the deadline it announces
        pending = (*pending, Task.due_at > now)
    due = (select(Task.id).where(*pending).order_by(Task.id).limit(batch)
           .cte("due").prefix_with("MATERIALIZED"))
    if pg:
        ids = select(func.array_agg(due.c.id)).scalar_subquery()
        picked = Task.id == any_(cast(ids, ARRAY(Integer)))  # ANY(array), not ANY(subquery)
    else:
        picked = Task.id.in_(select(due.c.id))
    return (update(Task).where(picked, *pending).values({fired: claimed_at})
            .returning(Task.id, Task.case_id, Task.role, Task.assignee_id, Task.store_id,
                       Task.area_id, Task.escalate_to, Task.escalate_also))


def _fire_batch(kind: str, now: datetime, batch: int, claimed_at: datetime) -> int:
    """Portable path (SQLite): claim with UPDATE ... RETURNING, then two bulk core INSERTs."""
    conn = db.session.connection()  # core, no ORM bookkeeping per row
    rows = conn.execute(_claim_stmt(kind, now, batch, claimed_at)).all()
    if not rows:
        return 0
    notes, events = [], []
    for r in rows:
        to_role = r.escalate_to if kind == "escalate" and r.escalate_to else r.role
        notes.append({"task_id": r.id, "kind": kind, "role": to_role, "created_at": claimed_at,
                      "user_id": r.assignee_id if to_role == r.role else None,
                      "store_id": r.store_id, "area_id": r.area_id, "read_at": None})
        events.append({"case_id": r.case_id, "object_type": "task", "object_id": r.id,
                       "actor_id": None, "at": claimed_at, "action": kind, "from_state": None,
                       "to_state": None, "comment": "", "data": {"to_role": to_role.value}})
        if kind == "escalate" and r.escalate_also:  # store complaints: HQ hears of it too
            notes.append({"task_id": r.id, "kind": "escalate_also", "role": r.escalate_also,
                          "created_at": claimed_at, "user_id": None, "store_id": r.store_id,
                          "area_id": r.area_id, "read_at": None})
    conn.execute(insert(Notification.__table__), notes)
    conn.execute(insert(AuditEvent.__table__), events)
    return len(rows)


def _fire_batch_pg(kind: str, now: datetime, batch: int, claimed_at: datetime) -> int:
    """PostgreSQL: claim, notify and audit a batch in ONE statement (data-modifying CTEs).

    WITH due AS MATERIALIZED (SELECT id ... ORDER BY id LIMIT n),
         claimed AS (UPDATE task SET <fired> = :claimed_at
                     WHERE id = ANY(<ids of due>) AND <still pending> RETURNING ...),
         notes AS (INSERT INTO notification SELECT ... FROM claimed)
    INSERT INTO audit_event SELECT ... FROM claimed
    One round trip and no Python work per row (the ORM path spent ~1.3 s per 10,000 rows in
    executemany inserts); the rowcount is the number claimed.
    """
    claimed = _claim_stmt(kind, now, batch, claimed_at, pg=True).cte("claimed")
    c = claimed.c
    to_role = func.coalesce(c.escalate_to, c.role) if kind == "escalate" else c.role
    role_value = case({r.name: r.value for r in Role}, value=to_role)
    notes = insert(Notification.__table__).from_select(
        ["task_id", "kind", "role", "user_id", "store_id", "area_id", "created_at"],
        select(c.id, literal(kind), to_role, case((to_role == c.role, c.assignee_id)),
               c.store_id, c.area_id, literal(claimed_at, TZDateTime))).cte("notes")
    also = insert(Notification.__table__).from_select(
        ["task_id", "kind", "role", "user_id", "store_id", "area_id", "created_at"],
        select(c.id, literal("escalate_also"), c.escalate_also, null(), c.store_id, c.area_id,
               literal(claimed_at, TZDateTime)).where(c.escalate_also.is_not(None))
        .where(literal(kind == "escalate"))).cte("also")
    stmt = insert(AuditEvent.__table__).from_select(
        ["case_id", "object_type", "object_id", "actor_id", "at", "action", "comment", "data"],
        select(c.case_id, literal("task"), c.id, null(), literal(claimed_at, TZDateTime),
               literal(kind), literal(""),
               func.json_build_object("to_role", role_value).cast(AuditEvent.data.type))
    ).add_cte(notes).add_cte(also)
    result = db.session.connection().execute(stmt, execution_options={"preserve_rowcount": True})
    return result.rowcount


def oldest_unfired(*, now: datetime | None = None) -> datetime | None:
    """The earliest moment of a reminder, escalation or case timer that is due and has not fired
    (what /healthz and /metrics report as the sweeper's real lag); None when nothing waits."""
    now = now or clock.now()
    moments = []
    for kind, moment in (("remind", Task.remind_at), ("escalate", Task.due_at)):
        _fired, pending = _pending(kind, now)
        if kind == "remind":
            pending = (*pending, Task.due_at > now)  # a late reminder is dropped, not fired
        moments.append(db.session.scalar(select(func.min(moment)).where(*pending)))
    moments.append(db.session.scalar(select(func.min(CaseTimer.due_at)).where(
        CaseTimer.fired_at.is_(None), CaseTimer.due_at <= now)))
    found = [m for m in moments if m is not None]
    return min(found) if found else None
