"""Deadlines end to end: a real RQ worker (in process, with its scheduler) on a real Redis fires
the per-second alarm jobs that registration scheduled; the clock is moved with time-machine.

The RQ scheduler decides what is due with datetime.now(), which time-machine moves too, so
travelling past a deadline and running a burst worker with_scheduler=True really moves the
`alarm-<second>` job from the ScheduledJobRegistry to the queue and executes
jobs.deadlines.fire_due.
"""
import math
import threading
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from rq import SimpleWorker
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, insert, select

from tests.factories import form_fields, member_data, register
from webapp.extensions import db
from webapp.models import AuditEvent, Case, Member, Notification, Role, Task
from webapp.queue import queue, redis_conn
from webapp.services.cases import fire
from webapp.services.deadlines import process_due
from webapp.services.inbox import inbox_tasks, notifications_for

REGISTERED = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # a Friday, 11:00 in Shanghai


def run_worker() -> None:
    """A real worker, burst mode, with its scheduler: enqueues due scheduled jobs, runs the queue."""
    db.session.commit()  # end the test's transaction: the job writes through its own session
    q = queue()
    SimpleWorker([q], connection=q.connection).work(burst=True, with_scheduler=True)
    db.session.expire_all()


def alarm_id(moment: datetime) -> str:
    return f"alarm-{math.ceil(moment.timestamp())}"


def review_task(case) -> Task:
    return db.session.scalars(select(Task).where(Task.case_id == case.id)
                              .order_by(Task.id).limit(1)).one()


def notes(kind: str | None = None) -> list[Notification]:
    query = select(Notification).order_by(Notification.id)
    if kind:
        query = query.where(Notification.kind == kind)
    return db.session.scalars(query).all()


def test_alarm_jobs_remind_then_escalate_exactly_once(org, in_process_jobs):
    with time_machine.travel(REGISTERED, tick=False):
        case = register(org)
    task = review_task(case)
    remind_at, due_at = task.remind_at, task.due_at
    assert REGISTERED < remind_at < due_at

    scheduled = ScheduledJobRegistry(queue=queue())
    assert set(scheduled.get_job_ids()) == {alarm_id(remind_at), alarm_id(due_at)}
    assert scheduled.get_scheduled_time(alarm_id(due_at)) == datetime.fromtimestamp(
        math.ceil(due_at.timestamp()), timezone.utc)

    with time_machine.travel(remind_at - timedelta(seconds=5), tick=False):
        run_worker()  # nothing is due yet: the alarms stay scheduled
    assert notes() == [] and len(scheduled) == 2

    with time_machine.travel(remind_at + timedelta(seconds=1), tick=False):
        run_worker()
    alarm = Job.fetch(alarm_id(remind_at), connection=redis_conn())
    assert alarm.func_name == "jobs.deadlines.fire_due" and alarm.get_status() == "finished"
    [remind] = notes()
    assert (remind.kind, remind.role, remind.task_id, remind.user_id) == (
        "remind", Role.HQ_SPECIALIST, task.id, None)
    db.session.refresh(task)
    assert task.reminded_at is not None and task.escalated_at is None
    assert remind_at <= task.reminded_at
    assert [n.id for n in notifications_for(org["hq"])] == [remind.id]

    with time_machine.travel(due_at + timedelta(seconds=1), tick=False):
        run_worker()
        assert Job.fetch(alarm_id(due_at), connection=redis_conn()).get_status() == "finished"
        [escalate] = notes("escalate")
        assert (escalate.role, escalate.task_id, escalate.user_id) == (Role.HQ_MANAGER, task.id, None)
        assert [t.id for t in inbox_tasks(org["hq_manager"])] == [task.id]
        assert [n.id for n in notifications_for(org["hq_manager"])] == [escalate.id]

        # The alarm again, late: nothing left to do.
        queue().enqueue("jobs.deadlines.fire_due")
        run_worker()
        assert process_due() == {"remind": 0, "escalate": 0, "timer": 0}
    assert [(n.kind, n.task_id) for n in notes()] == [("remind", task.id), ("escalate", task.id)]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "task")
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.object_id, e.case_id, e.data) for e in events] == [
        ("remind", task.id, case.id, {"to_role": "hq_specialist"}),
        ("escalate", task.id, case.id, {"to_role": "hq_manager"})]
    db.session.refresh(task)
    assert task.status == "open" and due_at <= task.escalated_at


def test_sweeper_fires_after_redis_lost_everything(org, in_process_jobs):
    with time_machine.travel(REGISTERED, tick=False):
        case = register(org)
    task = review_task(case)
    redis_conn().flushdb()  # the alarms are gone (the test Redis db is the app's whole Redis)
    assert len(ScheduledJobRegistry(queue=queue())) == 0

    with time_machine.travel(task.due_at + timedelta(minutes=1), tick=False):
        run_worker()  # no alarm left, so nothing runs
        assert notes() == []
        queue().enqueue("jobs.deadlines.sweep")  # what `rq cron jobs/cron_config.py` enqueues
        run_worker()
    # the sweep came after the deadline: the escalation, and no reminder in the same second
    assert [(n.kind, n.role, n.task_id) for n in notes()] == [("escalate", Role.HQ_MANAGER, task.id)]


def test_task_closed_before_its_deadline_never_fires(org, in_process_jobs):
    with time_machine.travel(REGISTERED, tick=False):
        case = register(org)
    task = review_task(case)
    with time_machine.travel(REGISTERED + timedelta(hours=1), tick=False):
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    with time_machine.travel(task.due_at + timedelta(seconds=1), tick=False):
        run_worker()
    for moment in (task.remind_at, task.due_at):  # both alarms did run, and found nothing
        assert Job.fetch(alarm_id(moment), connection=redis_conn()).get_status() == "finished"
    db.session.refresh(task)
    assert notes() == [] and task.status == "done"
    assert task.reminded_at is None and task.escalated_at is None


def test_registration_with_redis_down_commits_and_the_sweeper_covers_it(
        org, login, redis_down, in_process_jobs, caplog, monkeypatch):
    import jobs.deadlines
    from webapp import alarms

    # the migrations' logging.fileConfig (run by the app fixture) disabled existing loggers
    monkeypatch.setattr(alarms.log, "disabled", False)
    client = login("assoc1")
    with time_machine.travel(REGISTERED, tick=False):
        response = client.post("/members/new", data=form_fields(member_data(org["assoc1"])))
    assert response.status_code == 302
    assert "could not schedule 2 alarms" in caplog.text
    db.session.expire_all()
    member = db.session.scalars(select(Member)).one()
    case = db.session.scalars(select(Case).where(Case.member_id == member.id)).one()
    task = review_task(case)
    assert (member.status, task.status) == ("pending", "open")

    with time_machine.travel(task.due_at + timedelta(minutes=1), tick=False):
        # the reminder's moment passed while the deadline passed too: only the escalation goes out
        assert jobs.deadlines.sweep() == {"remind": 0, "escalate": 1, "timer": 0}
    db.session.expire_all()
    assert [(n.kind, n.task_id) for n in notes()] == [("escalate", task.id)]


@pytest.mark.postgres  # real concurrent transactions
def test_two_concurrent_runs_notify_each_task_once(org, app):
    case = register(org)
    now = datetime.now(timezone.utc)
    n = 300
    db.session.execute(insert(Task), [  # reminders due now, deadlines an hour ahead
        {"case_id": case.id, "name": "review", "role": Role.HQ_SPECIALIST,
         "store_id": case.store_id, "area_id": case.area_id, "status": "open",
         "due_at": now + timedelta(hours=1), "remind_at": now - timedelta(minutes=5),
         "escalate_to": Role.HQ_MANAGER, "created_at": now - timedelta(days=1)} for _ in range(n)])
    db.session.commit()  # plus the registration's own task, not due yet
    db.session.remove()

    def concurrently(moment):
        barrier, results, errors = threading.Barrier(2), [], []

        def run():
            with app.app_context():
                try:
                    barrier.wait()
                    results.append(process_due(now=moment, batch=7))
                except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert errors == []
        return results

    reminded = concurrently(now)
    escalated = concurrently(now + timedelta(hours=2))
    assert sum(r["remind"] for r in reminded) == n and sum(r["escalate"] for r in escalated) == n
    per_task = db.session.execute(select(Notification.task_id, Notification.kind, func.count())
                                  .group_by(Notification.task_id, Notification.kind)).all()
    assert len(per_task) == 2 * n and {c for _, _, c in per_task} == {1}
    assert db.session.scalar(select(func.count(AuditEvent.id))
                             .where(AuditEvent.object_type == "task")) == 2 * n
