"""20 logged-in users against gunicorn + PostgreSQL over loopback, beside a bare route (issue #16.15).

    .venv/bin/python bench/bench_load.py                  # PostgreSQL `bench_load`, 20 clients, 15 s a phase
    .venv/bin/python bench/bench_load.py --clients 1 --seconds 10
    WEB_CONCURRENCY=2 GUNICORN_THREADS=8 .venv/bin/python bench/bench_load.py   # gunicorn.conf.py settings

The database (its own, created when missing) is filled with the demo company (`webapp/demo.py`,
what `make run` shows) once; each run works on a fresh copy of it (`<name>_run`), so that every
run starts from the same inbox. gunicorn starts from gunicorn.conf.py on a free loopback port with
`bench/load_wsgi.py` (the real app plus GET /_bench/bare, a route doing nothing). Each client is
a thread with its own session, signed in through the login form (CSRF on, as in production) as
an HQ specialist — the role with the fullest inbox — or, for the approve part, approving the
registrations waiting for review. Phases, each for --seconds in all with every client busy, taking
turns in --rounds slices (so that each sees the same machine):
  bare    GET /_bench/bare
  inbox   GET /
  mixed   GET /, GET /cases/<id> (a registration), POST /cases/<id>/approve in turn
Printed per phase: requests/s, p50/p95/max latency, errors (status >= 400 or a failed request),
and the ratio of each phase's throughput to the bare route's. Bounded: one machine, loopback.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (ROOT, bench_env, ensure_database, make_app, percentile, reset_schema,  # noqa: E402
                     sqlalchemy_url)

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_load"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def fill(db_url: str, redis_url: str, instance: str) -> None:
    """The demo company, once (a database holding users is kept)."""
    from sqlalchemy import func, select

    ensure_database(db_url)
    app = make_app(db_url, redis_url, instance_dir=instance, SECRET_KEY="bench")
    from webapp.extensions import db
    from webapp.models import User

    with app.app_context():
        try:
            users = db.session.scalar(select(func.count()).select_from(User))
        except Exception:  # noqa: BLE001 — no schema yet
            db.session.rollback()
            users = 0
        db.session.remove()
        db.engine.dispose()  # the run copies this database: no connection may stay open on it
    if users:
        return
    t0 = time.perf_counter()
    reset_schema(app)
    from webapp import demo

    with app.app_context():
        demo.load()
        db.session.remove()
        db.engine.dispose()
    print(f"filled the demo company in {time.perf_counter() - t0:.0f} s", flush=True)


def working_copy(db_url: str) -> str:
    """A fresh copy of the filled database for this run (`<name>_run`). The mix approves the
    registrations waiting for review, which are most of the HQ inbox's rows: without a copy each
    run (and each phase after the first approvals) saw a different inbox."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url(db_url))
    copy = f"{url.database}_run"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{copy}"'))
        conn.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{url.database}"'))
    admin.dispose()
    return db_url.rsplit("/", 1)[0] + "/" + copy


def waiting_for_review(db_url: str) -> int:
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db_url.rsplit("/", 1)[1],
                          "-Atc", "SELECT count(*) FROM \"case\" WHERE process = 'registration' "
                                  "AND state = 'review'"], capture_output=True, text=True)
    return int(out.stdout.strip() or 0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(db_url: str, redis_url: str, instance: str, port: int) -> subprocess.Popen:
    env = bench_env(db_url, redis_url, "bench_load", instance)
    env.update(PORT=str(port), HOST="127.0.0.1", SECRET_KEY="bench", GUNICORN_ACCESSLOG="/dev/null",
               GUNICORN_LOGLEVEL="warning", PYTHONPATH=f"{ROOT}:{ROOT / 'bench'}")
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                             "load_wsgi:app"], cwd=ROOT, env=env, start_new_session=True)
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit("gunicorn exited")
            time.sleep(0.1)
    raise SystemExit("gunicorn did not start")


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process ended
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def server_cpu(gunicorn_pid: int, db_url: str) -> tuple[float, float]:
    """CPU seconds used so far by gunicorn (master and workers) and by this database's
    PostgreSQL backends (same machine: /proc). Per phase, their growth ÷ requests is what a
    request costs the two cores, whatever else runs on them."""
    children = Path(f"/proc/{gunicorn_pid}/task/{gunicorn_pid}/children")
    pids = [gunicorn_pid] + [int(p) for p in children.read_text().split()] if children.exists() else [gunicorn_pid]
    app_cpu = sum(_cpu_seconds(p) for p in pids)
    database = db_url.rsplit("/", 1)[1]
    out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-Atc",
                          f"SELECT pid FROM pg_stat_activity WHERE datname = '{database}'"],
                         capture_output=True, text=True)
    db_cpu = sum(_cpu_seconds(int(p)) for p in out.stdout.split())
    return app_cpu, db_cpu


def login(base: str, username: str):
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login").text
    token = CSRF.search(page)
    data = {"username": username, "password": "demo", **({"csrf_token": token.group(1)} if token else {})}
    response = session.post(f"{base}/login", data=data, allow_redirects=False)
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        raise SystemExit(f"login of {username} failed: {response.status_code}")
    return session


def pending_cases(db_url: str, redis_url: str, instance: str) -> list[int]:
    from sqlalchemy import select

    app = make_app(db_url, redis_url, instance_dir=instance, SECRET_KEY="bench")
    from webapp.extensions import db
    from webapp.models import Case

    with app.app_context():
        ids = list(db.session.scalars(select(Case.id).where(Case.process == "registration")
                                      .order_by(Case.id)))
        db.session.remove()
    return ids


def run_phase(name: str, sessions, base: str, seconds: float, cases: list[int]) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.perf_counter() + seconds
    approve_lock = threading.Lock()
    queue = list(cases)

    def one(session, i: int) -> int:
        if name == "bare":
            return session.get(f"{base}/_bench/bare").status_code
        if name == "inbox" or i % 3 == 0:
            return session.get(f"{base}/").status_code
        case_id = cases[i % len(cases)]
        if i % 3 == 1:
            return session.get(f"{base}/cases/{case_id}").status_code
        with approve_lock:  # each pending registration approved once; then stale versions
            case_id = queue.pop() if queue else case_id
        page = session.get(f"{base}/cases/{case_id}", headers={"X-Bench": "1"})
        token = CSRF.search(page.text)
        version = re.search(r'name="version"[^>]*value="(\d+)"', page.text)
        response = session.post(f"{base}/cases/{case_id}/approve", allow_redirects=False, data={
            "csrf_token": token.group(1) if token else "", "version": version.group(1) if version else "0",
            "next": "/"})
        return response.status_code

    def client(session, offset: int):
        i = offset
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            try:
                status = one(session, i)
            except Exception:  # noqa: BLE001 — a failed request is an error, counted
                status = 599
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                if status >= 400:
                    errors[0] += 1
            i += 1

    threads = [threading.Thread(target=client, args=(s, k)) for k, s in enumerate(sessions)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, time.perf_counter() - started, errors[0]


def summary(latencies: list[float], wall: float, errors: int) -> dict:
    return {"requests": len(latencies), "rps": len(latencies) / wall,
            "p50": percentile(latencies, 50) * 1000, "p95": percentile(latencies, 95) * 1000,
            "max": max(latencies) * 1000, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=os.environ.get("BENCH_LOAD_DB", DEFAULT_DB))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--phases", default="bare,inbox,mixed")
    parser.add_argument("--rounds", type=int, default=5, help="turns the phases take (default 5)")
    args = parser.parse_args()
    instance = str(Path(os.environ.get("BENCH_INSTANCE_ROOT", "/tmp/crm-bench")) / "load")
    Path(instance).mkdir(parents=True, exist_ok=True)
    fill(args.db, args.redis, instance)
    args.db = working_copy(args.db)
    cases = pending_cases(args.db, args.redis, instance)
    print(f"{args.db}: {waiting_for_review(args.db)} registrations waiting for review (HQ inbox rows)",
          flush=True)
    port = free_port()
    proc = start_gunicorn(args.db, args.redis, instance, port)
    base = f"http://127.0.0.1:{port}"
    try:
        sessions = [login(base, "hq") for _ in range(args.clients)]
        for s in sessions[:2]:  # warm both workers' caches and pools
            for _ in range(5):
                s.get(f"{base}/")
                s.get(f"{base}/_bench/bare")
        print(f"gunicorn: workers={os.environ.get('WEB_CONCURRENCY', '2')} "
              f"threads={os.environ.get('GUNICORN_THREADS', '4')}; {args.clients} clients, "
              f"{args.seconds:.0f} s a phase in {args.rounds} turns; {os.cpu_count()} CPUs", flush=True)
        # The phases take turns (--rounds slices each), so that all of them see the same
        # machine: on a shared machine the load drifts more within a minute than the phases differ.
        phases = args.phases.split(",")
        runs = {name: ([], 0.0, 0) for name in phases}
        cpu = {name: [0.0, 0.0] for name in phases}
        for _round in range(args.rounds):
            for name in phases:
                app0, db0 = server_cpu(proc.pid, args.db)
                latencies, wall, errors = run_phase(name, sessions, base, args.seconds / args.rounds, cases)
                app1, db1 = server_cpu(proc.pid, args.db)
                cpu[name][0] += app1 - app0
                cpu[name][1] += db1 - db0
                old = runs[name]
                runs[name] = (old[0] + latencies, old[1] + wall, old[2] + errors)
        results = {}
        for name in phases:
            results[name] = r = summary(*runs[name])
            print(f"{name:6} {r['requests']:6d} req  {r['rps']:7.1f} req/s  p50 {r['p50']:6.0f} ms  "
                  f"p95 {r['p95']:6.0f} ms  max {r['max']:6.0f} ms  errors {r['errors']}  "
                  f"CPU/req: gunicorn {cpu[name][0] / r['requests'] * 1000:.1f} ms, "
                  f"PostgreSQL {cpu[name][1] / r['requests'] * 1000:.1f} ms", flush=True)
        if "bare" in results:
            for name, r in results.items():
                if name != "bare":
                    print(f"{name}/bare throughput: {r['rps'] / results['bare']['rps']:.0%}")
        print(f"registrations still waiting for review at the end: {waiting_for_review(args.db)}")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


if __name__ == "__main__":
    main()
