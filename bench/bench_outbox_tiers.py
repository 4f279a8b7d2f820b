"""The outbox page by tier folder (全部 / A / B / C) on PostgreSQL with millions of messages: the
page's two statements (a page of rows, the count) as `messages.outbox_page` runs them, for HQ and
for a store manager, first page and page 40.

    .venv/bin/python bench/bench_outbox_tiers.py --db postgresql://postgres@127.0.0.1:5432/mine_bench \\
        --members 1000000 --sales 1000000 --messages 2000000

Data: the shared members-and-sales setup (`_common.ensure_sales`, reused when it has this size)
and bench_visits' users (`--users` makes them when missing). Each run sets the members' applied
tiers (one in ten A, two in ten B, the rest C, in every store: the shared fill leaves everyone C — run
bench_tiers afterwards if it needs that back) and writes `--messages` outbox rows (template
`bench_tiers`, replaced each run) over two years, one in twenty without a member, each to a
member of its own store.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, SALES_PG, STORES, ensure_database, ensure_sales, make_app  # noqa: E402
from bench_visit_times import Capture  # noqa: E402
from bench_visits import timed  # noqa: E402

from sqlalchemy import select, text  # noqa: E402

STORE = 17


def fill(app, messages: int, members: int) -> None:
    from webapp.extensions import db

    with app.app_context():
        db.session.execute(text("SET synchronous_commit = off"))
        # by id / STORES, not id: member g's store is 1 + g % STORES, so every store has each tier
        db.session.execute(text(f"""UPDATE member SET tier = CASE WHEN (id / {STORES}) % 10 = 0 THEN 'A'
                                    WHEN (id / {STORES}) % 10 < 3 THEN 'B' ELSE 'C' END"""))
        db.session.execute(text("DELETE FROM outbox_message WHERE template = 'bench_tiers'"))
        db.session.execute(text(f"""
            INSERT INTO outbox_message (channel, store_id, member_id, recipient, recipient_name,
                                        template, body, status, created_at, attempts)
            SELECT 'sms', 1 + m % {STORES}, CASE WHEN g % 20 = 0 THEN NULL ELSE m END,
                   '1390000' || lpad((g % 10000)::text, 4, '0'), '', 'bench_tiers', '积分短信',
                   'sent', timestamptz '2025-01-01 00:00+00' + make_interval(secs => g * {63_072_000 // messages}), 0
            FROM generate_series(1, {messages}) g
            CROSS JOIN LATERAL (SELECT 1 + (g::bigint * 7919) % {members} AS m) x"""))
        db.session.commit()
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE outbox_message"))
            conn.execute(text("VACUUM ANALYZE member"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=SALES_PG)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sales", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="time the messages already there")
    args = parser.parse_args()
    ensure_database(args.db)
    app = make_app(args.db, DEFAULT_REDIS, WTF_CSRF_ENABLED=False)
    ensure_sales(app, args.members, args.sales, rollups=False)
    from webapp.extensions import db
    from webapp.models import User
    from webapp.services import messages

    if not args.keep:
        t0 = time.perf_counter()
        fill(app, args.messages, args.members)
        print(f"filled in {time.perf_counter() - t0:.1f} s", flush=True)
    with app.app_context():
        print(f"{db.session.scalar(text('SELECT count(*) FROM outbox_message')):,} messages")
        for username in ("hq", f"manager{STORE}"):
            user = db.session.scalar(select(User).where(User.username == username))
            if user is None:
                sys.exit("no bench users: run bench/bench_visits.py (or bench_visit_times.py) once")
            for tier in ("", "A", "B", "C"):
                for page in (1, 40):
                    filters = messages.OutboxFilter(tier=tier)

                    def run(filters=filters, page=page):
                        return messages.outbox_page(user=user, filters=filters, limit=50,
                                                    offset=(page - 1) * 50)
                    seconds, (rows, total) = timed(run, args.repeat)
                    with Capture(db.engine) as capture:
                        run()
                    sql = []
                    for statement, params in capture.seen:
                        plan = db.session.connection().exec_driver_sql(
                            "EXPLAIN (ANALYZE) " + statement, params).scalars().all()
                        sql.append(next(line.split(":")[1].strip() for line in plan
                                        if "Execution Time" in line))
                    print(f"{username:10} {tier or '全部':3} page {page:2}: {seconds * 1000:7.1f} ms, "
                          f"{total:>9,} in all, {len(rows)} rows; SQL page + count {' + '.join(sql)}",
                          flush=True)
        db.session.rollback()


if __name__ == "__main__":
    main()
