"""`make run` (scripts/run.sh) as a supervisor: a worker killed with -9 is started again, the new
one takes jobs, and the scheduling the killed one held (`rq:scheduler-lock:<queue>`) comes back."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue

ROOT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"started rq worker \(pid (\d+)\)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"not within {seconds} s: {what}")


def _worker_pids(log: Path) -> list[int]:
    return [int(p) for p in STARTED.findall(log.read_text())] if log.exists() else []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow  # the real run.sh (set-up, demo data, gunicorn, worker, cron, Redis): ~2-3 min
def test_a_worker_killed_with_minus_9_under_make_run_is_replaced_and_scheduling_recovers(tmp_path):
    instance = tmp_path / "instance"
    env = {**os.environ, "INSTANCE_DIR": str(instance), "PORT": str(_free_port()),
           "HOST": "127.0.0.1", "RQ_QUEUE": "crm", "RQ_MAINTENANCE_INTERVAL": "10",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'crm.sqlite'}", "PYTHONUNBUFFERED": "1"}
    for name in ("REDIS_URL", "CRM_ENV", "SECRET_KEY", "MEMBER_DATA_KEY", "CRM_TEST_TODAY"):
        env.pop(name, None)
    out = tmp_path / "run.out"
    log = instance / "logs" / "worker.log"
    with out.open("w") as sink:
        run = subprocess.Popen(["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=sink,
                               stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    started: list[int] = []
    try:
        banner = _wait(lambda: "CRM is running" in out.read_text() and out.read_text(), 400,
                       "make run was not ready: " + (out.read_text()[-2000:] if out.exists() else ""))
        redis_url = re.search(r"private redis-server at (redis://\S+)", banner).group(1)
        redis = Redis.from_url(redis_url)
        queue = Queue("crm", connection=redis)
        (first,) = _worker_pids(log)
        started.append(first)
        lock = "rq:scheduler-lock:crm"
        _wait(lambda: redis.get(lock), 30, "the first worker's scheduler lock")

        os.kill(first, signal.SIGKILL)  # the worker's main process; its scheduler child is orphaned
        pids = _wait(lambda: len(_worker_pids(log)) > 1 and _worker_pids(log), 30,
                     "run.sh did not start another worker")
        second = pids[-1]
        started.append(second)
        assert second != first and _alive(second) and run.poll() is None  # the stack stays up
        assert "rq worker exited" in out.read_text()  # …and said what happened

        job = queue.enqueue("os.getpid")  # the new worker takes jobs (in its work horse)
        _wait(lambda: job.get_status(refresh=True) == "finished", 60, "the new worker ran no job")

        # Scheduling: a job due in 2 s runs once the lock the dead worker held has expired (61 s)
        # and the new worker took it over at a maintenance pass (RQ_MAINTENANCE_INTERVAL).
        later = queue.enqueue_in(timedelta(seconds=2), "os.getpid")
        _wait(lambda: later.get_status(refresh=True) == "finished", 150,
              f"the scheduled job did not run (lock held by {redis.get(lock)})")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGTERM)  # run.sh stops everything it started
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait(10)
        for pid in _worker_pids(log) if log.exists() else started:  # only what this test started
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
