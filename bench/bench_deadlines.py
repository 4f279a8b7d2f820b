"""10,000 deadlines due within one minute, handled by a real RQ worker with its scheduler.

    .venv/bin/python bench/bench_deadlines.py                       # PostgreSQL `bench`, Redis db 5
    .venv/bin/python bench/bench_deadlines.py --db sqlite:////tmp/bench-deadlines.sqlite
    .venv/bin/python bench/bench_deadlines.py --spread 0            # all due in the same second
    .venv/bin/python bench/bench_deadlines.py --worker rq           # plain `rq worker` (cold horses)

What happens: the schema is rebuilt (unless --keep), `rq worker --with-scheduler` starts as a
subprocess on a private queue, N open HQ review tasks are bulk-inserted (one case each) with
due_at spread over --spread seconds starting --lead seconds from now and no reminder, then
`enqueue_alarms` schedules their per-second alarm jobs exactly as the engine's after-commit
hook does. The bench polls the database until every task is escalated (bounded wait).

Two lags per task are reported:
  stored   = task.escalated_at - due_at: the clock at the claim of its batch (the commit follows
             within the same job, a few ms later) - a lower bound of the commit time;
  observed = first time the bench's poll (every --poll s) saw the escalation committed - due_at:
             an upper bound of the commit time (poll resolution added).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (DEFAULT_PG, DEFAULT_REDIS, ROOT, bench_env, dialect, stable_instance_dir,  # noqa: E402
                     ensure_database, make_app, percentile, reset_schema)

WORKERS = {
    # the production command line, work horses import the app themselves
    "rq": [],
    # same command, app preloaded in the worker parent via a settings module (see rq_preload.py)
    "rq-preload": ["-c", "bench.rq_preload"],
    # no fork per job: the app and its connection pool live across jobs
    "simple": ["-c", "bench.rq_preload", "--worker-class", "rq.worker.SimpleWorker"],
}


def start_worker(mode: str, env: dict, queue_name: str, redis_url: str, log_path: Path):
    rq = str(Path(sys.executable).with_name("rq"))
    cmd = [rq, "worker", "--with-scheduler", "--url", redis_url, "--path", str(ROOT),
           "--logging_level", "WARNING", *WORKERS[mode], queue_name]
    log = open(log_path, "w")
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop_worker(proc) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # warm shutdown of the worker and its scheduler
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def wait_ready(conn, queue_name: str, proc, timeout: float = 60) -> float:
    """Until the worker is registered and its scheduler holds the queue's lock."""
    from rq import Queue, Worker

    start = time.perf_counter()
    q = Queue(queue_name, connection=conn)
    while time.perf_counter() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"worker exited with {proc.returncode}")
        if Worker.all(queue=q) and conn.exists(f"rq:scheduler-lock:{queue_name}"):
            return time.perf_counter() - start
        time.sleep(0.1)
    raise SystemExit("worker did not start")


def create_tasks(n: int, first_due: datetime, spread: float) -> list[int]:
    """N open review tasks, one registration case each, bulk-inserted through the models' tables."""
    from sqlalchemy import insert

    from webapp.extensions import db
    from webapp.models import Area, Case, Role, Store, Task, User

    area = Area(name="bench area")
    store = Store(code="B1", name="bench store", area=area)
    user = User(username="bench-assoc", display_name="bench", role=Role.ASSOCIATE, store=store)
    db.session.add_all([area, store, user])
    db.session.flush()
    now = datetime.now(timezone.utc)
    case_rows = [{"process": "registration", "state": "review", "version": 1,
                  "title": f"入会登记 bench {i}", "store_id": store.id, "area_id": area.id,
                  "created_by_id": user.id, "created_at": now, "updated_at": now, "data": {}}
                 for i in range(n)]
    case_ids = db.session.scalars(insert(Case).returning(Case.id, sort_by_parameter_order=True),
                                  case_rows).all()
    step = spread / n if n else 0
    dues = [first_due + timedelta(seconds=i * step) for i in range(n)]
    task_rows = [{"case_id": cid, "name": "review", "role": Role.HQ_SPECIALIST,
                  "store_id": store.id, "area_id": area.id, "assignee_id": None,
                  "status": "open", "due_at": due, "remind_at": None,
                  "escalate_to": Role.HQ_MANAGER, "created_at": now}
                 for cid, due in zip(case_ids, dues)]
    db.session.execute(insert(Task), task_rows)
    db.session.commit()
    return dues


def record_jobs(conn, seconds, jobs_seen: dict, now: float) -> None:
    """Timings of finished alarm jobs (they expire 60 s after finishing, so read them as we go):
    scheduler delay = enqueued - scheduled second, queue wait = started - enqueued, duration."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    for second in seconds:
        if second in jobs_seen or second > now - 0.5:
            continue
        try:
            job = Job.fetch(f"alarm-{second}", connection=conn)
        except NoSuchJobError:
            continue
        if job.ended_at is None:
            continue
        enqueued = job.enqueued_at.replace(tzinfo=job.enqueued_at.tzinfo or timezone.utc)
        jobs_seen[second] = ((enqueued.timestamp() - second),
                             (job.started_at - job.enqueued_at).total_seconds(),
                             (job.ended_at - job.started_at).total_seconds())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=os.environ.get("DATABASE_URL", DEFAULT_PG))
    ap.add_argument("--redis", default=DEFAULT_REDIS)
    ap.add_argument("--queue", default="bench-deadlines")
    ap.add_argument("--tasks", type=int, default=10_000)
    ap.add_argument("--spread", type=float, default=60.0, help="seconds the due times spread over")
    ap.add_argument("--lead", type=float, default=30.0, help="seconds from now to the first due time")
    ap.add_argument("--worker", choices=sorted(WORKERS), default="rq-preload")
    ap.add_argument("--poll", type=float, default=0.1)
    ap.add_argument("--keep", action="store_true", help="do not rebuild the schema first")
    args = ap.parse_args()

    from sqlalchemy import func, select, text

    from webapp.extensions import db
    from webapp.models import AuditEvent, Notification, Task
    from webapp.queue import redis_conn
    from webapp.alarms import enqueue_alarms

    ensure_database(args.db)
    # the database's own instance folder: its member-data key is the one its rows were written
    # under (another bench may have filled it), else the app refuses to start before the reset
    instance = stable_instance_dir(args.db)
    app = make_app(args.db, args.redis, args.queue, instance)
    if not args.keep:
        reset_schema(app)
    print(f"database {dialect(args.db)}  tasks {args.tasks}  spread {args.spread:g}s  "
          f"worker {args.worker}")

    with app.app_context():
        conn = redis_conn()
        for key in conn.scan_iter(f"rq:*{args.queue}*"):
            conn.delete(key)
        log_path = Path(instance) / "worker.log"
        jobs_seen: dict[int, tuple] = {}
        proc = start_worker(args.worker, bench_env(args.db, args.redis, args.queue, instance),
                            args.queue, args.redis, log_path)
        try:
            ready = wait_ready(conn, args.queue, proc)
            print(f"worker ready after {ready:.1f}s")
            t0 = time.perf_counter()
            # on a whole second, like the end-of-day rules (local midnight); --spread 0 = all there
            first_due = datetime.fromtimestamp(int(time.time() + args.lead) + 1, timezone.utc)
            dues = create_tasks(args.tasks, first_due, args.spread)
            seconds = {int(-(-d.timestamp() // 1)) for d in dues}
            enqueue_alarms(seconds)  # what the engine's after-commit hook does
            print(f"inserted {args.tasks} tasks and scheduled {len(seconds)} alarm jobs "
                  f"in {time.perf_counter() - t0:.1f}s")
            left = (first_due - datetime.now(timezone.utc)).total_seconds()
            if left < 2:
                raise SystemExit("setup took longer than --lead; raise --lead")

            seen: dict[int, float] = {}
            deadline = time.time() + left + args.spread + 60
            open_ids = select(Task.id).where(Task.escalated_at.is_not(None))
            while len(seen) < args.tasks and time.time() < deadline:
                time.sleep(args.poll)
                now = time.time()
                for tid in db.session.scalars(open_ids):
                    seen.setdefault(tid, now)
                db.session.rollback()  # a fresh snapshot for the next poll
                record_jobs(conn, seconds, jobs_seen, now)
            record_jobs(conn, seconds, jobs_seen, time.time() + 5)
            if proc.poll() is not None:
                print(f"worker died: see {log_path}")
        finally:
            stop_worker(proc)

        rows = db.session.execute(select(Task.id, Task.due_at, Task.escalated_at)).all()
        stored = [(r.escalated_at - r.due_at).total_seconds() for r in rows if r.escalated_at]
        observed = [seen[r.id] - r.due_at.timestamp() for r in rows if r.id in seen]
        notes = db.session.scalar(select(func.count(Notification.id)))
        distinct = db.session.scalar(select(func.count(func.distinct(Notification.task_id))))
        audits = db.session.scalar(select(func.count(AuditEvent.id))
                                   .where(AuditEvent.action == "escalate"))
        early = sum(1 for r in rows if r.escalated_at and r.escalated_at < r.due_at)
        from rq import Queue
        from rq.registry import FailedJobRegistry

        q = Queue(args.queue, connection=conn)
        failed = len(FailedJobRegistry(queue=q))
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))  # leave the bench db tidy for the next run

    print(f"escalated {len(stored)}/{args.tasks}  notifications {notes} (distinct tasks "
          f"{distinct})  audit events {audits}  fired early {early}  failed jobs {failed}")
    print()
    print(f"{'lag (s)':<10}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>8}")
    for label, values in (("stored", stored), ("observed", observed)):
        if values:
            print(f"{label:<10}" + "".join(f"{percentile(values, p):>8.3f}" for p in (50, 95, 99))
                  + f"{max(values):>8.3f}")
    ok = (len(stored) == args.tasks and notes == args.tasks == distinct and early == 0
          and stored and percentile(stored, 99) <= 2.0)
    if jobs_seen:
        print()
        print(f"alarm jobs ({len(jobs_seen)})       p50     p95     max")
        for i, label in enumerate(("scheduler enqueued after", "worker started after",
                                   "job duration")):
            values = [v[i] for v in jobs_seen.values()]
            print(f"{label:<26}" + "".join(f"{percentile(values, p):>8.3f}" for p in (50, 95))
                  + f"{max(values):>8.3f}")
    print("\ntarget p99 <= 2 s, exactly once:", "MET" if ok else "MISSED")
    if proc.returncode not in (0, None, -15, 143) and log_path.exists():
        print(log_path.read_text()[-2000:])


if __name__ == "__main__":
    main()
