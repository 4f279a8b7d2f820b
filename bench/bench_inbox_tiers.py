"""The inbox's tier folders (issue #11) against the same page unfiltered and against one
hand-written query, on the bench shape (fill.py: HQ's open review tasks are the pending
registrations, each case concerning its member).

    .venv/bin/python bench/bench_inbox_tiers.py --db postgresql://postgres@127.0.0.1:5432/<your db>
    .venv/bin/python bench/bench_inbox_tiers.py --db sqlite:////tmp/bench-tiers.sqlite --members 20000

Members get tiers by id (5 % A, 15 % B, 80 % C). Timed for the HQ specialist, alternating:
  app    services.inbox.page_statement(hq, tier=X): the page's one statement (rows and badges);
  hand   one SELECT … FROM task JOIN case JOIN member WHERE <the inbox condition as one OR> AND
         member.tier = X ORDER BY due_at, id LIMIT 50 (no badges; "all": no tier condition).
Then the worst case: a folder with no task at all (A emptied among the pending members), where
every part of the inbox is walked to its end before the page knows it is empty.
Prints medians and p95 in ms and the app ÷ hand ratio of the medians.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (DEFAULT_REDIS, dialect, ensure_database, make_app, percentile,  # noqa: E402
                     reset_schema, stable_instance_dir)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", default=os.environ.get("DATABASE_URL"), required=not os.environ.get("DATABASE_URL"))
    ap.add_argument("--redis", default=DEFAULT_REDIS)
    ap.add_argument("--members", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=100)
    args = ap.parse_args()

    from sqlalchemy import select, update

    from webapp.extensions import db
    from webapp.models import Case, Member, Store, Task, User
    from webapp.permissions import inbox_filter
    from webapp.services import inbox

    import fill

    ensure_database(args.db)
    app = make_app(args.db, args.redis, "bench-tiers", stable_instance_dir(args.db))
    with app.app_context():
        if fill.member_count() != args.members:
            db.session.remove()
            print(f"filling {args.members:,} members ({dialect(args.db)}) ...")
            reset_schema(app)
            fill.fill(args.members)
        tier = db.case((Member.id % 20 == 0, "A"), (Member.id % 20 <= 3, "B"), else_="C")
        db.session.execute(update(Member).values(tier=tier))
        db.session.commit()
        if dialect(args.db) == "postgresql":
            db.session.execute(db.text("ANALYZE member"))
            db.session.commit()
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        db.session.expunge(hq)

        def hand(t):
            query = (select(Task.id, Task.due_at, Case.id, Case.title, Store.name, Member.tier)
                     .join(Case, Case.id == Task.case_id)
                     .outerjoin(Member, Member.id == Case.member_id)
                     .outerjoin(Store, Store.id == Case.store_id).where(inbox_filter(hq)))
            if t:
                query = query.where(Member.tier == t)
            return query.order_by(Task.due_at.asc().nulls_last(), Task.id).limit(50)

        def timed(statement, params) -> float:
            t0 = time.perf_counter()
            rows = db.session.execute(statement, params).all()
            elapsed = (time.perf_counter() - t0) * 1000
            db.session.rollback()
            return elapsed, len(rows)

        def run(label: str, folders) -> None:
            print(f"\n{label}")
            print(f"{'folder':<8}{'rows':>6}{'app p50':>10}{'app p95':>10}{'hand p50':>10}"
                  f"{'hand p95':>10}{'app/hand':>10}")
            for folder in folders:
                app_ms, hand_ms, n = [], [], 0
                params = inbox.page_params()
                for i in range(args.runs + 10):
                    a, n = timed(inbox.page_statement(hq, tier=folder), params)
                    h, _ = timed(hand(folder), params)
                    if i >= 10:
                        app_ms.append(a)
                        hand_ms.append(h)
                ratio = percentile(app_ms, 50) / percentile(hand_ms, 50)
                print(f"{folder or 'all':<8}{n:>6}{percentile(app_ms, 50):>10.2f}"
                      f"{percentile(app_ms, 95):>10.2f}{percentile(hand_ms, 50):>10.2f}"
                      f"{percentile(hand_ms, 95):>10.2f}{ratio:>10.2f}")

        open_tasks = db.session.scalar(select(db.func.count(Task.id)).where(Task.status == "open"))
        print(f"database {dialect(args.db)}  members {args.members:,}  open tasks {open_tasks:,}  "
              f"runs {args.runs}")
        run("mixed tiers (5 % A, 15 % B, 80 % C)", (None, "A", "B", "C"))
        pending = select(Case.member_id).where(Case.state == "review").scalar_subquery()
        db.session.execute(update(Member).where(Member.id.in_(pending), Member.tier == "A")
                           .values(tier="B"))
        db.session.commit()
        run("worst case: no open task in folder A", ("A",))
        db.session.remove()


if __name__ == "__main__":
    main()
