"""HQ inbox and one-click approve on a big database, against a bare-route "floor".

    .venv/bin/python bench/bench_inbox.py                          # PostgreSQL `bench`, 100k members
    .venv/bin/python bench/bench_inbox.py --members 1000000
    .venv/bin/python bench/bench_inbox.py --db sqlite:////tmp/bench-inbox.sqlite
    .venv/bin/python bench/bench_inbox.py --profile inbox          # cProfile of 50 inbox requests
    .venv/bin/python bench/bench_inbox.py --explain                # EXPLAIN ANALYZE of its queries

The database is (re)filled when it does not hold exactly --members members (see fill.py):
2 % pending registrations = open HQ review tasks, closed tasks for everyone else. Then, with
the Flask test client logged in as the hq_specialist `hq` (CSRF off through the config):
  floor    GET /_bench/floor: a bare route in the same app running the inbox page's SQL alone
           (services.inbox.page_statement for `hq`: the 50 most urgent tasks of its inbox with
           their case and store, and the badge counts) and returning plain text - no login
           check, no ORM objects, no template;
  inbox    GET / : the real HQ inbox page;
  approve  POST /cases/<id>/approve (version, next=/) on the oldest pending registrations;
  review   GET /registrations/review?all=1 : the HQ review list, 100 of all pending registrations
           (no target; printed so that its cost at 1 M members is known).
Floor and inbox requests alternate, so both see the same machine state.
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (DEFAULT_PG, DEFAULT_REDIS, dialect, ensure_database, make_app,  # noqa: E402
                     percentile, reset_schema)


def instance_dir(db_url: str) -> str:
    """Keep the member-data key next to the data it encrypted, across runs."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", db_url.split("@")[-1])[-60:]
    path = Path(os.environ.get("BENCH_INSTANCE_ROOT", "/tmp/crm-bench")) / name
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def register_floor(app, username: str = "hq") -> None:
    """The floor: the inbox page's own SQL statement, for the same user, with nothing around it."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import inbox

    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)

    @app.route("/_bench/floor")
    def bench_floor():
        rows = db.session.execute(inbox.page_statement(user, limit=50), inbox.page_params()).all()
        return "\n".join(f"{r[0]}\t{r[9]}\t{r[10]}\t{r[5]:%Y-%m-%d %H:%M}" for r in rows)


class QueryCounter:
    def __init__(self, engine):
        from sqlalchemy import event

        self.n, self.statements, self.capture = 0, [], False
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.n += 1
        if self.capture:
            self.statements.append((statement, parameters))


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=os.environ.get("DATABASE_URL", DEFAULT_PG))
    ap.add_argument("--redis", default=DEFAULT_REDIS)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--approves", type=int, default=200)
    ap.add_argument("--refill", action="store_true")
    ap.add_argument("--profile", choices=("inbox", "floor", "approve"))
    ap.add_argument("--explain", action="store_true")
    ap.add_argument("--gc-freeze", action="store_true",
                    help="gc.freeze() after warm-up (what a preforking server can do): shows the "
                         "share of garbage-collection pauses in the tail")
    args = ap.parse_args()

    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import Case, Member, Task

    import fill

    ensure_database(args.db)
    app = make_app(args.db, args.redis, "bench-inbox", instance_dir(args.db), WTF_CSRF_ENABLED=False)
    with app.app_context():
        have = fill.member_count()
        readable = have > 0 and db.session.scalar(select(Member).limit(1)).mobile is not None
        # every run approves (warm-up + measured) registrations; refill when they run out
        left = have > 0 and db.session.scalar(select(func.count(Case.id))
                                              .where(Case.state == "review"))
        db.session.remove()
    if args.refill or have != args.members or not readable or left < args.approves + 125:
        print(f"filling {args.members:,} members ({dialect(args.db)}) ...")
        reset_schema(app)
        with app.app_context():
            fill.fill(args.members)
            db.session.remove()
    else:
        with app.app_context():  # a kept database gets new migrations (indexes) too
            from flask_migrate import upgrade
            upgrade()
            db.session.remove()
    register_floor(app)
    with app.app_context():
        engine = db.engine
    counter = QueryCounter(engine)

    with app.app_context():
        open_hq = db.session.scalar(select(func.count(Task.id)).where(Task.status == "open"))
        pending = db.session.execute(
            select(Case.id, Case.version).where(Case.state == "review").order_by(Case.id)
            .limit(args.approves + 25)).all()
        db.session.remove()

    client = app.test_client()
    r = client.post("/login", data={"username": "hq", "password": "pw"})
    assert r.status_code == 302, r.data[:300]

    def floor():
        r = client.get("/_bench/floor")
        assert r.status_code == 200

    def inbox():
        r = client.get("/")
        assert r.status_code == 200 and r.data.count(b"data-case=") == 50, r.status_code

    todo = iter(pending)

    def review():
        r = client.get("/registrations/review?all=1")
        assert r.status_code == 200 and r.data.count(b"data-case=") == 100, r.status_code
        # (the refill below keeps more than 100 registrations pending after the approves)

    def approve():
        case_id, version = next(todo)
        r = client.post(f"/cases/{case_id}/approve", data={"version": version, "next": "/"})
        assert r.status_code == 302 and r.headers["Location"] == "/", (r.status_code, r.data[:300])

    def per_request_queries(fn) -> int:
        before = counter.n
        fn()
        return counter.n - before

    if args.explain:
        explain(engine, counter, inbox)
        return
    if args.profile:
        fn = {"inbox": inbox, "floor": floor, "approve": approve}[args.profile]
        prof = cProfile.Profile()
        prof.enable()
        timed(fn, 50)
        prof.disable()
        stats = pstats.Stats(prof)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)
        stats.sort_stats("cumulative").print_stats("webapp|decrypt|jinja2/environment", 30)
        return

    for _ in range(20):  # warm-up: connections, templates, caches
        floor()
        inbox()
    for _ in range(20):
        approve()
    if args.gc_freeze:
        import gc

        gc.collect()
        gc.freeze()
    queries = {"floor": per_request_queries(floor), "inbox": per_request_queries(inbox),
               "approve": per_request_queries(approve)}
    floor_ms, inbox_ms = [], []
    for _ in range(args.requests):
        floor_ms += timed(floor, 1)
        inbox_ms += timed(inbox, 1)
    approve_ms = timed(approve, args.approves)
    review_ms = timed(review, 50)

    print(f"\ndatabase {dialect(args.db)}  members {args.members:,}  open tasks {open_hq:,}  "
          f"requests {args.requests}  approves {len(approve_ms)}")
    print(f"{'':<22}{'p50 ms':>9}{'p95 ms':>9}{'queries':>9}")
    for label, values, q in (("floor  GET (bare)", floor_ms, queries["floor"]),
                             ("inbox  GET /", inbox_ms, queries["inbox"]),
                             ("approve POST", approve_ms, queries["approve"]),
                             ("review GET (all)", review_ms, per_request_queries(review))):
        print(f"{label:<22}{percentile(values, 50):>9.1f}{percentile(values, 95):>9.1f}{q:>9}")
    parts = breakdown(app)
    print(f"\nwhere GET / goes (in-process medians, ms):  " + "  ".join(
        f"{k} {v:.1f}" for k, v in parts.items()))
    f95, i95, a95 = (percentile(v, 95) for v in (floor_ms, inbox_ms, approve_ms))
    print(f"\ninbox p95 / floor p95 = {i95 / f95:.2f}")
    for name, ok in ((f"inbox p95 <= 2 x floor p95 ({2 * f95:.1f} ms)", i95 <= 2 * f95),
                     ("inbox p95 <= 30 ms", i95 <= 30), ("approve p95 <= 40 ms", a95 <= 40)):
        print(f"  {name:<40}{'MET' if ok else 'MISSED'}")


def breakdown(app, username: str = "hq", n: int = 60) -> dict[str, float]:
    """The inbox view's steps timed one by one, as views/inbox.index runs them."""
    import functools

    from flask import g, render_template
    from flask_babel import gettext
    from flask_login import current_user, login_user
    from sqlalchemy import select

    from webapp import clock
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import inbox
    from webapp.workflows.engine import allowed_transitions, task_label

    samples: dict[str, list[float]] = {}
    for _ in range(n):
        with app.test_request_context("/"):
            t0 = time.perf_counter()
            login_user(db.session.scalar(select(User).where(User.username == username)))
            user = current_user._get_current_object()
            t1 = time.perf_counter()
            result = inbox.inbox_page(user, limit=50)
            g.nav = result.nav
            t2 = time.perf_counter()
            actions = {t.id: allowed_transitions(user, t) for t in result.rows}
            t3 = time.perf_counter()
            render_template("inbox.html", tasks=result.rows, actions=actions, label=task_label,
                            tr=functools.cache(gettext), bulk=True, page=1, now=clock.now())
            t4 = time.perf_counter()
            db.session.remove()
        for key, value in (("user", t1 - t0), ("inbox_page", t2 - t1), ("actions", t3 - t2),
                           ("template", t4 - t3)):
            samples.setdefault(key, []).append(value * 1000)
    return {k: percentile(v[10:], 50) for k, v in samples.items()}


def explain(engine, counter, inbox) -> None:
    """EXPLAIN ANALYZE every SELECT one inbox request runs (PostgreSQL; query plan on SQLite)."""
    counter.capture = True
    inbox()
    counter.capture = False
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection
        for statement, params in counter.statements:
            print("-" * 100)
            print(statement)
            if not statement.lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            prefix = ("EXPLAIN (ANALYZE, BUFFERS) " if engine.dialect.name == "postgresql"
                      else "EXPLAIN QUERY PLAN ")
            cur = raw.cursor()
            cur.execute(prefix + statement, params)
            for row in cur.fetchall():
                print("   ", " | ".join(str(c) for c in row))


if __name__ == "__main__":
    main()
