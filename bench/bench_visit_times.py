"""The queries that filter or order visit records by `visited_at`, on PostgreSQL with years of
visit records: each one's time (median of `--repeat`, after a warm-up) and its EXPLAIN (ANALYZE,
BUFFERS) plan — to decide whether `visit_record` needs an index on `visited_at`, and which.

    .venv/bin/python bench/bench_visit_times.py --db postgresql://postgres@127.0.0.1:5432/mine_bench \\
        --members 1000000 --sales 1000000 --months 24 --per-store 300
    .venv/bin/python bench/bench_visit_times.py --db … --keep --plans   # again, same data, plans

Data: the shared members-and-sales setup (`_common.ensure_sales`, reused when it has this size),
bench_visits' users, plans, items and November 2026 visits, plus `--months` months of history
before November (`--per-store` unplanned visits per store and month, on days 1–28 between 10:00
and 19:00 local, one in four members of the store visited again and again: the frequency rule
has members to find).

The queries are the app's own, run through the app's functions (their SQL is captured as it runs,
then EXPLAINed with the same parameters):
1. `visit_plan.frequency_flag` — a member's visits since six months ago (visit plan item form);
2. `visit_plan.visit_records` — a store's month of records, newest first (the records page);
3. `routine._profiles` — a member's last visit (the memorisation page, member profile);
4. `routine.week_visits` — an associate's visits of one week at a store (Saturday's report);
5. `care_batch_steps.frequency_limited` — the often-visited members of the last 180 days, for a
   company-wide care batch (every member) and for one store's members (`among`).
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, SALES_PG, STORES, ensure_database, ensure_sales, make_app  # noqa: E402
from bench_visits import setup as visits_setup, timed  # noqa: E402

from sqlalchemy import event, func, select, text  # noqa: E402

NOW = datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc)  # Sat 28 Nov 11:00 Shanghai
STORE = 17


def fill_history(app, months: int, per_store: int, members: int) -> int:
    """`months` months of unplanned visits before November 2026, `per_store` a store a month."""
    from webapp.extensions import db

    per_store_members = max(1, members // STORES - 1)
    with app.app_context():
        db.session.execute(text("SET synchronous_commit = off"))
        db.session.execute(text(f"""
            INSERT INTO visit_record (store_id, ym, member_id, associate_id, plan_item_id, method,
                                      visited_at, result, feedback, follow_up, points_at_visit,
                                      created_at, check_note)
            SELECT s, extract(year FROM d)::int * 100 + extract(month FROM d)::int,
                   (s - 1) + {STORES} * (1 + CASE WHEN k % 4 = 0 THEN (k * 7) % 50
                                                 ELSE (k * 37 + m * 101) % {per_store_members} END),
                   a.id, NULL, (ARRAY['call','sms','visit','mail'])[1 + k % 4],
                   (d + (k % 28) + make_interval(hours => 10 + k % 9, mins => k % 60))
                       AT TIME ZONE 'Asia/Shanghai', '已回访', '', false, 0, now(), ''
            FROM generate_series(1, {months}) m
            CROSS JOIN LATERAL (SELECT (date '2026-11-01' - make_interval(months => m))::date AS d) dd
            CROSS JOIN generate_series(1, {STORES}) s
            JOIN "user" a ON a.username = 'assoc' || s
            CROSS JOIN generate_series(0, {per_store - 1}) k"""))
        db.session.commit()
        n = db.session.scalar(text("SELECT count(*) FROM visit_record"))
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE visit_record"))
    return n


class Capture:
    """The statements the app runs meanwhile (SQL and parameters), to EXPLAIN them after."""

    def __init__(self, engine):
        self.engine, self.seen = engine, []

    def _grab(self, conn, cursor, statement, parameters, context, executemany):
        self.seen.append((statement, parameters))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._grab)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._grab)

    def about(self, word: str) -> tuple[str, object]:
        return next((s, p) for s, p in self.seen if word in s)


def summary(plan: list[str]) -> str:
    """How the plan reads visit_record (each scan of it, by which index), and its execution time."""
    scans = [re.sub(r"\s*\(cost.*", "", line.strip().lstrip("-> "))
             for line in plan if "Scan" in line and ("visit_record" in line or "ix_visit" in line)]
    executed = next(line.split(":")[1].strip() for line in plan if "Execution Time" in line)
    return f"{executed:>10}  {'; '.join(scans)}"


def cases(app):
    """(label, function) of each query, as the app runs it."""
    from webapp.extensions import db
    from webapp.models import Case, Member, User
    from webapp.periods import Month
    from webapp.services import routine, visit_plan as vp
    from webapp.workflows.care_batch_steps import frequency_limited

    manager = db.session.scalar(select(User).where(User.username == f"manager{STORE}"))
    assoc = db.session.scalar(select(User).where(User.username == f"assoc{STORE}"))
    often = db.session.get(Member, (STORE - 1) + STORES * 1)    # visited again and again
    seldom = db.session.get(Member, (STORE - 1) + STORES * 777)
    week = Case(process="weekly_routine", state="report", store_id=STORE, data={"period": "2026-W43"})

    def often_visited(among):
        visits, _joined = frequency_limited(NOW, among)
        # p0 too, as the join uses it (a count alone lets PostgreSQL drop the min)
        return lambda: db.session.execute(select(func.count(), func.sum(visits.c.p0))).one()

    return [
        ("1 frequency_flag (often-visited member)", "visited_at >=",
         lambda: vp.frequency_flag(member=often, now=NOW)),
        ("1 frequency_flag (seldom-visited member)", "visited_at >=",
         lambda: vp.frequency_flag(member=seldom, now=NOW)),
        ("2 visit_records (store, October 2026)", "ORDER BY visit_record.visited_at",
         lambda: vp.visit_records(user=manager, store_id=STORE, month=Month(2026, 10))),
        ("3 last visit of 2 members (profiles)", "ORDER BY visit_record.visited_at",
         lambda: routine._profiles(assoc, [often.id, seldom.id])),
        ("4 week_visits (store, 2026-W43)", "visit_record.visited_at <",
         lambda: routine.week_visits(case=week)),
        # as insert_lines runs it: a company-wide batch sorts with work_mem 256MB (_sort_memory)
        ("5 frequency_limited, company-wide", "GROUP BY visit_record.member_id",
         often_visited(None), "256MB"),
        ("5 frequency_limited, one store's members", "GROUP BY visit_record.member_id",
         often_visited(select(Member.id).where(Member.store_id == STORE,
                                               Member.status == "active"))),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=SALES_PG)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--months", type=int, default=24, help="months of visit history")
    parser.add_argument("--per-store", type=int, default=300, help="visits a store a month")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="time the visit data already there")
    parser.add_argument("--plans", action="store_true", help="print each EXPLAIN ANALYZE")
    args = parser.parse_args()
    ensure_database(args.db)
    app = make_app(args.db, DEFAULT_REDIS, WTF_CSRF_ENABLED=False)
    ensure_sales(app, args.members, args.sales, rollups=False)
    from webapp.extensions import db

    if not args.keep:
        t0 = time.perf_counter()
        visits_setup(app, args.items, args.members)
        records = fill_history(app, args.months, args.per_store, args.members)
        print(f"visit records: {records:,} in {time.perf_counter() - t0:.1f} s", flush=True)
    with app.app_context():
        indexes = db.session.execute(text(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'visit_record' ORDER BY 1")).scalars().all()
        records = db.session.scalar(text("SELECT count(*) FROM visit_record"))
        print(f"{records:,} visit records; indexes: {', '.join(indexes)}")
        for label, word, fn, *work_mem in cases(app):
            if work_mem:
                db.session.execute(text(f"SET work_mem = '{work_mem[0]}'"))
            seconds = timed(fn, args.repeat)[0]
            with Capture(db.engine) as capture:
                fn()
            statement, params = capture.about(word)
            plan = db.session.connection().exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, params).scalars().all()
            print(f"{label:45} {seconds * 1000:8.2f} ms   {summary(plan)}")
            if args.plans:
                print("\n".join("    " + line for line in plan))
            if work_mem:
                db.session.execute(text("RESET work_mem"))
        db.session.rollback()


if __name__ == "__main__":
    main()
