"""CPU per request in one process, for the pages bench_load.py puts under load (issue #16.15).

    .venv/bin/python bench/cpu_per_request.py --db postgresql://postgres@127.0.0.1:5432/bench_load_h
    .venv/bin/python bench/cpu_per_request.py --profile inbox      # cProfile (CPU time) of one route
    .venv/bin/python bench/cpu_per_request.py --profile case --callers _emit_lazyload

On a shared, loaded machine wall-clock figures say little; the CPU time this process spends
(time.process_time: user + system of this process only, not PostgreSQL's) is what a gunicorn
worker pays per request. It moves far less with the machine's load than wall-clock time, yet a
single run still moves ±30 %: hence the least of several runs. The real app (CSRF on,
production headers, the login form) on the database bench_load.py fills, through Flask's test
client; the test client's own cost is in every figure alike, so compare a route with the bare
one (`bare`: the app's request hooks, session and user load, then "ok").

Routes: bare (GET /_bench/bare), inbox (GET /), case (GET /cases/<id>, a registration waiting
for review), approve (POST /cases/<id>/approve, each on its own pending registration: run this
on a copy of the database, `createdb -T bench_load_h bench_load_h_cpu`, when --routes has
approve: each approve really commits).
Printed per route: CPU ms per request (the least of --repeat runs of --n requests, the routes
taking turns; the median and the most), SQL statements per request.
"""
from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import make_app  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
VERSION = re.compile(r'name="version"[^>]*value="(\d+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", default=os.environ.get("BENCH_LOAD_DB",
                                                      "postgresql://postgres@127.0.0.1:5432/bench_load"))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--instance", default=str(Path(os.environ.get("BENCH_INSTANCE_ROOT", "/tmp/crm-bench"))
                                                  / "load"), help="the instance folder bench_load.py used")
    parser.add_argument("--routes", default="bare,inbox,case")
    parser.add_argument("--n", type=int, default=200, help="requests per run")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--profile", default="", help="a route to run under cProfile instead")
    parser.add_argument("--callers", default="", help="with --profile: who calls functions matching this")
    args = parser.parse_args()

    app = make_app(args.db, args.redis, instance_dir=args.instance, SECRET_KEY="bench")
    app.add_url_rule("/_bench/bare", "bench_bare",
                     lambda: ("ok", 200, {"Content-Type": "text/plain"}))
    from sqlalchemy import event, select

    from webapp.extensions import db
    from webapp.models import Case

    statements = [0]
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", lambda *a, **k: statements.__setitem__(
            0, statements[0] + 1))
        registrations = list(db.session.scalars(
            select(Case.id).where(Case.process == "registration", Case.state == "review",
                                  Case.closed_at.is_(None)).order_by(Case.id)))
        db.session.remove()
    if not registrations:
        raise SystemExit("no registration waiting for review")
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "hq", "password": "demo", "csrf_token": token})
    assert response.status_code == 302, response.status_code
    gc.freeze()  # as wsgi.py does
    case_id = registrations[0]
    pending = list(reversed(registrations[1:]))

    def one(route: str) -> None:
        if route == "bare":
            r = client.get("/_bench/bare")
        elif route == "inbox":
            r = client.get("/")
        elif route == "case":
            r = client.get(f"/cases/{case_id}")
        elif route == "approve":
            target = pending.pop()
            page = client.get(f"/cases/{target}").get_data(as_text=True)
            data = {"csrf_token": CSRF.search(page).group(1), "version": VERSION.search(page).group(1),
                    "next": "/"}
            before = time.process_time()
            r = client.post(f"/cases/{target}/approve", data=data)
            one.post_cpu += time.process_time() - before
            assert r.status_code == 302 and r.headers["Location"] == "/", (r.status_code, r.headers)
            return
        else:
            raise SystemExit(f"unknown route {route}")
        assert r.status_code == 200, (route, r.status_code)
    one.post_cpu = 0.0

    routes = [args.profile] if args.profile else args.routes.split(",")
    for route in routes:  # warm up: templates compiled, statements cached, pools filled
        for _ in range(3 if route == "approve" else 20):
            one(route)
    if args.profile:
        n = min(args.n, len(pending)) if args.profile == "approve" else args.n
        profiler = cProfile.Profile(time.process_time)  # CPU, not waiting on the database
        profiler.enable()
        for _ in range(n):
            one(args.profile)
        profiler.disable()
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)
        if args.callers:
            stats.print_callers(args.callers)
        return
    print(f"{args.db}; {args.n} requests a run, {args.repeat} runs, the routes taking turns; "
          f"CPU of this process per request (the least of the runs is the least disturbed by "
          f"other processes; the median beside it)")
    runs = {route: [] for route in routes}
    count = {}
    for _ in range(args.repeat):
        for route in routes:
            n = args.n
            if route == "approve":
                n = min(n, len(pending))
                if n == 0:
                    continue
                one.post_cpu = 0.0
            statements[0] = 0
            t0 = time.process_time()
            for _ in range(n):
                one(route)
            cpu = (one.post_cpu if route == "approve" else time.process_time() - t0) / n
            runs[route].append(cpu * 1000)
            count[route] = statements[0] / n
    results = {}
    for route in routes:
        if not runs[route]:
            continue
        results[route] = min(runs[route])
        extra = " (the POST alone; statements: the case page read before it + the POST)" \
            if route == "approve" else ""
        print(f"{route:8} {min(runs[route]):6.2f} ms CPU  (median {statistics.median(runs[route]):.2f}, "
              f"max {max(runs[route]):.2f})  {count[route]:4.1f} statements{extra}", flush=True)
    if "bare" in results:
        for route, ms in results.items():
            if route != "bare":
                print(f"{route} over bare: +{ms - results['bare']:.2f} ms")


if __name__ == "__main__":
    main()
