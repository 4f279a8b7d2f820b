"""Chaos on real processes: `rq worker` subprocesses (with their schedulers) against the test
database and a real Redis, while Redis is flushed, the worker is killed with -9 in the middle of
a claim, the database refuses every connection for 30 s, or no worker ran for an hour. Each ends
with 0 deadlines lost, 0 fired twice, and all fired by one sweep of recovery (the job `rq cron`
enqueues every minute).

The clock is the real one here (the workers are other processes): "an hour without a worker"
is an hour of deadlines that fell due before the worker starts."""
from __future__ import annotations

import math
import os
import signal
import sqlite3
import subprocess
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import time_machine
from redis import Redis
from rq import Queue, Worker
from rq.registry import FinishedJobRegistry
from sqlalchemy import create_engine, func, insert, select, text

from tests.factories import register
from webapp.alarms import enqueue_alarms
from webapp.extensions import db
from webapp.models import Notification, Role, Task

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.commits, pytest.mark.slow]


@pytest.fixture
def chaos(app, redis_url, tmp_path):
    """Start real workers; everything started is killed at the end, and Redis emptied."""
    procs: list[subprocess.Popen] = []
    redis = Redis.from_url(redis_url)
    redis.flushdb()
    queue = Queue(app.config["RQ_QUEUE"], connection=redis)

    def start_worker() -> subprocess.Popen:
        env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "REDIS_URL": redis_url, "RQ_QUEUE": app.config["RQ_QUEUE"],
               "INSTANCE_DIR": app.config["INSTANCE_DIR"], "PYTHONPATH": str(ROOT)}
        env.pop("CRM_ENV", None)
        log = (tmp_path / f"worker{len(procs)}.log").open("w")
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/rq"), "worker", "--with-scheduler", "-c", "jobs.worker_settings",
             "--url", redis_url, "--path", str(ROOT), app.config["RQ_QUEUE"]],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        procs.append(proc)
        return proc

    class Chaos:
        pass

    c = Chaos()
    c.redis, c.queue, c.start_worker, c.logs = redis, queue, start_worker, tmp_path
    yield c
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
    redis.flushdb()


def real_now() -> datetime:
    """The workers' clock: the real one (this process runs under the tests' travelled clock)."""
    return datetime.fromtimestamp(time_machine.escape_hatch.time.time(), timezone.utc)


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - real_now()).total_seconds()))


def _wait(predicate, seconds: float, what: str, logs: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    tail = "".join(p.read_text()[-1500:] for p in sorted(logs.glob("worker*.log"))) if logs else ""
    raise AssertionError(f"not within {seconds} s: {what}\n{tail}")


def _tasks(org, n: int, remind_at, due_at) -> list[int]:
    """n open tasks on one case; remind_at(i), due_at(i) give each one's moments; alarms scheduled
    as the app does after a commit."""
    case = register(org)
    db.session.commit()
    before = db.session.scalar(select(func.max(Task.id)))
    now = real_now()
    rows = [{"case_id": case.id, "name": "review", "role": Role.HQ_SPECIALIST,
             "store_id": case.store_id, "area_id": case.area_id, "status": "open",
             "due_at": due_at(i), "remind_at": remind_at(i), "escalate_to": Role.HQ_MANAGER,
             "created_at": now - timedelta(days=1)} for i in range(n)]
    db.session.execute(insert(Task), rows)
    db.session.commit()
    ids = db.session.scalars(select(Task.id).where(Task.id > before)).all()
    seconds = {math.ceil(m.timestamp()) for r in rows for m in (r["remind_at"], r["due_at"])}
    enqueue_alarms(seconds)
    assert len(ids) == n
    return ids


def _fired(ids: list[int]) -> dict[str, dict[int, int]]:
    """kind → task id → notifications, for these tasks (a fresh read of what others committed)."""
    db.session.rollback()
    rows = db.session.execute(select(Notification.task_id, Notification.kind, func.count())
                              .where(Notification.task_id.in_(ids))
                              .group_by(Notification.task_id, Notification.kind)).all()
    out: dict[str, dict[int, int]] = {"remind": {}, "escalate": {}}
    for task_id, kind, count in rows:
        out.setdefault(kind, {})[task_id] = count
    return out


def _count(ids, kind="remind") -> int:
    return len(_fired(ids)[kind])


def _count_fast(ids, kind="remind") -> int:
    """How many fired so far, cheaply (the ids are one contiguous range): the kill below must
    land while the worker is still claiming, and a 30,000-id IN list took longer to ask than
    the worker took to finish on a quiet machine."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == kind, Notification.task_id.between(min(ids), max(ids))))


def _sweep(c, seconds: float = 120):
    """One sweep, as `rq cron` enqueues it every minute; run by whichever worker is up."""
    job = c.queue.enqueue("jobs.deadlines.sweep")
    _wait(lambda: job.get_status(refresh=True) in ("finished", "failed"), seconds,
          "the sweep did not run", c.logs)
    assert job.get_status() == "finished", job.latest_result().exc_string if job.latest_result() else ""


def _exactly_once(ids, kind: str, other: str | None = None) -> None:
    fired = _fired(ids)
    assert sorted(fired[kind]) == sorted(ids), f"{len(ids) - len(fired[kind])} lost"
    assert set(fired[kind].values()) == {1}, "a deadline fired twice"
    if other:
        assert fired[other] == {}


def test_flushall_in_the_middle_of_a_burst_of_1000_deadlines(org, chaos):
    start = real_now() + timedelta(seconds=6)
    ids = _tasks(org, 1000, remind_at=lambda i: start + timedelta(milliseconds=10 * i),
                 due_at=lambda i: start + timedelta(days=1))
    chaos.start_worker()
    _wait(lambda: _count(ids) > 0, 60, "no reminder fired", chaos.logs)
    chaos.redis.flushall()  # alarms, queue, registries, the worker's own keys: gone
    flushed_at = _count(ids)
    _sleep_until(start + timedelta(seconds=12))
    assert _count(ids) < 1000, "the flush lost no alarm: nothing was tested"
    _sweep(chaos)  # the worker lived through the flush and runs the sweep
    _exactly_once(ids, "remind", other="escalate")
    assert flushed_at < 1000


def test_a_worker_killed_while_it_holds_claimed_deadlines(org, chaos):
    past = real_now() - timedelta(minutes=1)
    n = 30_000
    ids = _tasks(org, n, remind_at=lambda i: past, due_at=lambda i: past + timedelta(days=1))
    worker = chaos.start_worker()  # the alarm of `past` is due: it claims in batches of 2,000
    at_kill = _wait(lambda: _count_fast(ids), 120, "no batch committed", chaos.logs)
    os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse, mid-claim
    worker.wait(10)
    assert _count(ids) < n, f"the worker finished before it was killed ({at_kill})"
    chaos.start_worker()
    _sweep(chaos)
    _exactly_once(ids, "remind", other="escalate")


def _refuse_connections(url, seconds: float, started: threading.Event):
    """The database refuses every connection for `seconds`: SQLite locked exclusively by another
    connection; PostgreSQL closed to new connections and its sessions terminated."""
    if url.get_backend_name() == "sqlite":
        lock = sqlite3.connect(url.database, timeout=30, isolation_level=None)
        lock.execute("BEGIN EXCLUSIVE")
        started.set()
        time.sleep(seconds)
        lock.execute("ROLLBACK")
        lock.close()
        return
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    name = url.database
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false'))
        try:
            started.set()
            until = time.monotonic() + seconds
            while time.monotonic() < until:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name})
                time.sleep(0.5)
        finally:
            conn.execute(text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true'))
    admin.dispose()


def test_the_database_refusing_connections_for_30_seconds(org, chaos, app):
    chaos.start_worker()
    # up before the outage (a worker starting while the database refuses exits: its supervisor
    # starts it again, tests/jobs/test_supervision.py)
    _wait(lambda: Worker.count(queue=chaos.queue) > 0, 60, "the worker did not start", chaos.logs)
    start = real_now() + timedelta(seconds=5)
    ids = _tasks(org, 1000, remind_at=lambda i: start + timedelta(milliseconds=5 * i),
                 due_at=lambda i: start + timedelta(days=1))
    url = db.engine.url
    db.session.remove()
    db.engine.dispose()  # the test's own connections: none is held across the outage
    started = threading.Event()
    outage = threading.Thread(target=_refuse_connections, args=(url, 30, started))
    _sleep_until(start - timedelta(seconds=3))
    outage.start()
    assert started.wait(30)
    outage.join(60)  # the alarms of the burst ran (and failed) meanwhile
    assert not outage.is_alive()
    db.engine.dispose()
    assert _count(ids) == 0, "the outage refused nothing: nothing was tested"
    _sweep(chaos)
    _exactly_once(ids, "remind", other="escalate")


def test_a_worker_down_for_an_hour_fires_everything_once_in_one_sweep(org, chaos):
    now = real_now()
    n = 1000
    # Deadlines that fell due over the last hour, reminders ten minutes before each, while no
    # worker ran; their alarms wait in the scheduled registry (or were lost with Redis).
    ids = _tasks(org, n, remind_at=lambda i: now - timedelta(minutes=70) + timedelta(seconds=3.6 * i),
                 due_at=lambda i: now - timedelta(minutes=60) + timedelta(seconds=3.6 * i))
    chaos.start_worker()
    _sweep(chaos)
    # One sweep: every deadline escalated once; the reminders that came due before their
    # deadline passed are dropped, not sent beside the escalation (process_due).
    _exactly_once(ids, "escalate", other="remind")
    # The hour's 2,000 alarms run after it (0.1-0.5 s each here): the first hundred change nothing.
    _wait(lambda: len(FinishedJobRegistry(queue=chaos.queue)) > 100, 120, "the alarms did not run",
          chaos.logs)
    _exactly_once(ids, "escalate", other="remind")
