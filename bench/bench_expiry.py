"""The monthly card-expiry run (issue #12) at 1 M members / 10 M sales lines on PostgreSQL,
beside the same selection written as ONE hand SQL query, in the same run.

    .venv/bin/python bench/bench_expiry.py                                   # 1 M / 10 M (target ≤ 5 s)
    .venv/bin/python bench/bench_expiry.py --members 100000 --sales 1000000  # a few minutes

Data: the shared setup `_common.fill_sales` (reused when the database already holds it; members with cards valid 1–3 years, two years of sales generated in
SQL). The run is the product's own: `services.recurring.open_due` at 1 Dec 2026 09:00 local opens
the month's list case, whose start renews the members expiring in January 2027 who met the waiver
in their card year (≥ 3 net purchases or ≥ 1000 yuan), queues their SMS and opens one HQ call
case per other member (task, audit, lapse timer at the expiry moment), set-based. Timed:
1. the selection alone as the app writes it (waived / listed counts through `waiver_met`);
2. the same selection as one hand-written SQL query on `sale` (the two must agree);
3. the whole run (renewals, SMS, cases, tasks, timers, store notices), committed: the expiry
   process alone (`open_due(only=…)`: the issue's "monthly run"); with --all-due also every other
   process due that morning, for reference.
Each run starts from the filled data and leaves it so (its renewals and cases are undone before
and after), since bench_analyses and bench_visits share it.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, SALES_PG, ensure_database, ensure_sales, make_app  # noqa: E402

from sqlalchemy import func, select, text  # noqa: E402

DEFAULT_URL = SALES_PG  # the members-and-sales setup shared with bench_analyses and bench_visits
RUN_AT = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # 1 Dec 2026 09:00 Shanghai
FIRST, LAST = date(2027, 1, 1), date(2027, 1, 31)

HAND = """
SELECT count(*) FILTER (WHERE w.n >= 3 OR w.fen >= 100000) AS waived,
       count(*) FILTER (WHERE NOT (w.n >= 3 OR w.fen >= 100000)) AS listed
FROM member m
CROSS JOIN LATERAL (
  SELECT coalesce(sum(s.ticket_delta), 0) AS n, coalesce(sum(s.amount_fen), 0) AS fen
  FROM sale s
  WHERE s.member_id = m.id
    AND s.sold_at >= ((m.card_expires_on - interval '12 months')::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'
    AND s.sold_at <  (m.card_expires_on + 1)::timestamp AT TIME ZONE 'Asia/Shanghai') w
WHERE m.status = 'active' AND m.card_expires_on BETWEEN :first AND :last
"""

UNDO = [
    """UPDATE member m SET card_expires_on = r.old_expires_on FROM card_renewal r
       WHERE r.member_id = m.id""",
    "DELETE FROM card_renewal",
    "DELETE FROM outbox_message WHERE template = 'card_renewed'",
    """DELETE FROM notification WHERE task_id IN (SELECT t.id FROM task t JOIN "case" c
       ON c.id = t.case_id WHERE c.process IN ('expiry_list', 'expiry_call'))""",
    """DELETE FROM task WHERE case_id IN (SELECT id FROM "case"
       WHERE process IN ('expiry_list', 'expiry_call'))""",
    """DELETE FROM case_timer WHERE case_id IN (SELECT id FROM "case"
       WHERE process IN ('expiry_list', 'expiry_call'))""",
    """DELETE FROM audit_event WHERE case_id IN (SELECT id FROM "case"
       WHERE process IN ('expiry_list', 'expiry_call'))""",
    """DELETE FROM "case" WHERE process IN ('expiry_list', 'expiry_call')""",
]


def undo(db) -> None:
    """Take the run back, then VACUUM ANALYZE what it wrote: this server runs without
    autovacuum, and the dead rows of earlier runs would otherwise slow the next one down."""
    for statement in UNDO:
        db.session.execute(text(statement))
    db.session.commit()
    db.session.remove()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text('VACUUM ANALYZE member, card_renewal, outbox_message, notification, task, '
                          'case_timer, audit_event, "case"'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sales", type=int, default=10_000_000)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--all-due", action="store_true",
                        help="also time every process due that morning (reference; not undone "
                             "beyond the expiry cases)")
    args = parser.parse_args()
    ensure_database(args.url)
    app = make_app(args.url, DEFAULT_REDIS)
    from webapp import alarms
    from webapp.extensions import db
    from webapp.models import Case, Member
    from webapp.services.recurring import open_due
    from webapp.workflows.expiry_steps import month_days, waiver_met
    from webapp.periods import Month

    ensure_sales(app, args.members, args.sales, refill=args.refill, rollups=False)
    alarms.enqueue_alarms = lambda seconds: None  # the bench measures the database part
    with app.app_context():
        undo(db)
        days = month_days(Month(2027, 1))
        expiring = (Member.status == "active", Member.card_expires_on.in_(days))
        total = db.session.scalar(select(func.count()).select_from(Member).where(*expiring))
        db.session.rollback()
        app_times, hand_times = [], []
        for _ in range(2):  # taking turns, best of two each: neither pays alone for a cold cache
            t0 = time.perf_counter()  # the selection as renew_by_waiver runs it: the ids to renew
            waived = len(db.session.scalars(select(Member.id).where(*expiring, waiver_met(days))).all())
            app_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            hand = db.session.execute(text(HAND), {"first": FIRST, "last": LAST}).one()
            hand_times.append(time.perf_counter() - t0)
        app_select, hand_select = min(app_times), min(hand_times)
        db.session.rollback()
        t0 = time.perf_counter()
        opened = open_due(now=RUN_AT, only=frozenset({"expiry_list"}))
        run = time.perf_counter() - t0
        cases = db.session.scalar(select(func.count()).select_from(Case).where(
            Case.process == "expiry_call"))
        renewed = db.session.execute(text("SELECT count(*) FROM card_renewal")).scalar()
        dialect = db.engine.dialect.name
        undo(db)  # leave the shared setup as filled for the other benches
        if args.all_due:  # for reference: everything due that morning, expiry included
            t0 = time.perf_counter()
            opened_all = open_due(now=RUN_AT)
            run_all = time.perf_counter() - t0
            undo(db)
    print(f"database: {dialect}, members {args.members:,}, sales lines {args.sales:,}")
    print(f"expiring in 2027-01: {total:,}; waived {waived:,}, to call {total - waived:,}")
    print(f"selection (app, SQLAlchemy):  {app_select:6.2f} s")
    print(f"selection (one hand query):   {hand_select:6.2f} s  waived {hand.waived:,}, "
          f"listed {hand.listed:,}  {'agree' if hand.waived == waived else 'DISAGREE'}")
    print(f"monthly run (open_due): {run:6.2f} s  opened {opened}, call cases {cases:,}, "
          f"renewals {renewed:,}")
    if args.all_due:
        print(f"everything due on 1 Dec 09:00 (open_due, all processes): {run_all:6.2f} s  {opened_all}")
    print(f"ratios: app selection / hand query {app_select / hand_select:4.2f}; "
          f"whole run / hand selection {run / hand_select:4.1f}")


if __name__ == "__main__":
    main()
