"""Tier recompute (services/tiers.recompute): every member's qualifying tier, set-based, beside a
hand-written UPDATE … FROM doing the same rows, in the same run; then the proposals (review).

    .venv/bin/python bench/bench_tiers.py --members 100000          # PostgreSQL `bench_tiers`
    .venv/bin/python bench/bench_tiers.py --members 20000 --db sqlite:////tmp/bench-tiers.sqlite

The bench fills N members (bench/fill.py), spreads their points over 0–7999, and times, each
from a cleared qualifying tier: the points rule through recompute(); the ratio rule (rank within
the home store) through recompute(); the same ratio rule as one hand-written UPDATE … FROM; a
second recompute with nothing to change; and review() (recompute + one proposal per member whose
applied tier differs, through engine.start_many). Target (issue #11): ≤ 30 s for 1,000,000
members on PostgreSQL.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, ensure_database, make_app, reset_schema  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_tiers"

HAND_RATIO = """
UPDATE member SET qualifying_tier = r.tier
FROM (SELECT id, CASE WHEN (rank() OVER w - 1) * 100 < :a * count(*) OVER w THEN 'A'
                      WHEN (rank() OVER w - 1) * 100 < :ab * count(*) OVER w THEN 'B'
                      ELSE 'C' END AS tier
      FROM member WHERE status = 'active'
      WINDOW w AS (PARTITION BY store_id ORDER BY points DESC
                   RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) r
WHERE member.id = r.id AND member.qualifying_tier IS DISTINCT FROM r.tier"""


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--members", type=int, default=100_000)
    args = parser.parse_args()
    ensure_database(args.db)
    app = make_app(args.db, args.redis)
    from sqlalchemy import func, select, text

    from fill import fill
    from webapp import alarms
    from webapp.extensions import db
    from webapp.models import Member, Setting
    from webapp.services import tiers

    with app.app_context():
        try:
            reuse = db.session.scalar(select(func.count()).select_from(Member)) == args.members
        except Exception:  # noqa: BLE001 - no schema yet
            db.session.rollback()
            reuse = False
    if not reuse:
        reset_schema(app)
    with app.app_context():
        if not reuse:
            fill(args.members, log=lambda *a: None)
            db.session.commit()
        db.session.execute(text("DELETE FROM task WHERE case_id IN (SELECT id FROM \"case\" "
                                "WHERE process = 'tier_change')"))
        db.session.execute(text("DELETE FROM audit_event WHERE case_id IN (SELECT id FROM \"case\" "
                                "WHERE process = 'tier_change') OR object_type = 'tiers'"))
        db.session.execute(text("DELETE FROM \"case\" WHERE process = 'tier_change'"))
        db.session.execute(text("UPDATE member SET points = (id * 7919) % 8000, tier = 'C'"))
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        alarms.enqueue_alarms = lambda seconds: None  # the bench measures the database part
        clear = text("UPDATE member SET qualifying_tier = NULL")

        def run(rule):
            db.session.merge(Setting(key="tier_rule", value=rule))
            db.session.execute(clear)
            db.session.commit()
            written, seconds = timed(lambda: (tiers.recompute(), db.session.commit())[0])
            return written, seconds

        points_rows, points_s = run("points")
        ratio_rows, ratio_s = run("ratio")
        _, again_s = timed(lambda: (tiers.recompute(), db.session.commit())[0])
        db.session.execute(clear)
        db.session.commit()
        hand_rows, hand_s = timed(lambda: (db.session.execute(
            text(HAND_RATIO), {"a": 20, "ab": 50}).rowcount, db.session.commit())[0])
        db.session.execute(clear)
        db.session.commit()
        review, review_s = timed(lambda: tiers.review(now=datetime.now(timezone.utc)))
        dialect = db.engine.dialect.name

    print(f"database: {dialect}, members: {args.members:,}")
    print(f"recompute, points rule:        {points_rows:>9,} rows in {points_s:6.2f} s")
    print(f"recompute, ratio rule:         {ratio_rows:>9,} rows in {ratio_s:6.2f} s")
    print(f"recompute again (no change):   {'':>9} {'':4} in {again_s:6.2f} s")
    print(f"hand UPDATE … FROM, ratio:     {hand_rows:>9,} rows in {hand_s:6.2f} s")
    print(f"review (recompute + proposals): {review['written']:>8,} rows, "
          f"{review['proposed']:,} proposals in {review_s:6.2f} s")
    print(f"ratio recompute / hand: {ratio_s / hand_s:.2f}")


if __name__ == "__main__":
    main()
