"""The production commands of the README, run as written: migrations, web, worker, sweeper."""
from __future__ import annotations

import pytest
import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from redis import Redis
from rq.registry import FinishedJobRegistry

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    """The `.venv/bin/...` lines of the README's production block, comments stripped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text.split("## Production", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    lines = [re.sub(r"\s+#.*$", "", line).strip() for line in block.splitlines()]
    return [line for line in lines if line.startswith(".venv/bin/")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow  # real gunicorn, rq and cron processes keep the real clock: not a test for other todays
def test_the_documented_production_commands_run_together(redis_url, tmp_path):
    commands = readme_commands()
    upgrade = next(c for c in commands if "db upgrade" in c)
    daemons = [c for c in commands if c.split()[0] in (".venv/bin/gunicorn", ".venv/bin/rq")]
    assert len(daemons) == 3, daemons
    port, url = _free_port(), redis_url.rsplit("/", 1)[0] + "/14"  # a database of its own
    env = {**os.environ, "CRM_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/crm.sqlite",
           "REDIS_URL": url, "SECRET_KEY": "s" * 40, "INSTANCE_DIR": str(tmp_path),
           "MEMBER_DATA_KEY": "A" * 43 + "=", "PORT": str(port), "WEB_CONCURRENCY": "1",
           "RQ_QUEUE": "crm", "FLASK_DEBUG": "0"}
    env.pop("RQ_REDIS_URL", None)
    redis = Redis.from_url(url)
    redis.flushdb()
    subprocess.run(["bash", "-c", upgrade], cwd=ROOT, env=env, check=True, timeout=60,
                   capture_output=True)
    procs = [subprocess.Popen(["bash", "-c", f"exec {c}"], cwd=ROOT, env=env, start_new_session=True,
                              stdout=open(tmp_path / f"p{i}.log", "w"), stderr=subprocess.STDOUT)
             for i, c in enumerate(daemons)]
    try:
        health, swept, deadline = None, False, time.monotonic() + 40
        while time.monotonic() < deadline and not (health == 200 and swept):
            time.sleep(0.5)
            assert all(p.poll() is None for p in procs), [
                (tmp_path / f"p{i}.log").read_text()[-2000:] for i in range(len(procs))]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    health = r.status
                    body = json.loads(r.read())
            except OSError as exc:
                health = getattr(exc, "code", None)
            jobs = FinishedJobRegistry("crm", connection=redis).get_job_ids()
            swept = any(redis.hget(f"rq:job:{j}", "description") and b"sweep" in redis.hget(
                f"rq:job:{j}", "description") for j in jobs)
        assert health == 200, body if health else None
        assert swept, "the cron sweeper's job was not run by the worker"
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(2)  # nothing to finish: no need for gunicorn's graceful ten seconds
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(5)
        redis.flushdb()
