"""Tiers, the nightly job (services/tiers.review: recompute + proposals through engine.start_many)
beside hand-written SQL doing the same rows (an UPDATE … FROM and the INSERT … SELECTs of the
proposals), in the same run, for both rules.

    .venv/bin/python bench/bench_tiers.py --members 1000000          # PostgreSQL `bench_tiers`
    .venv/bin/python bench/bench_tiers.py --members 20000 --db sqlite:////tmp/bench-tiers.sqlite

Set-up (not timed): N members (bench/fill.py, with their registration cases), points spread over
0–7999, two years of monthly roll-ups (member_month: 0–8 months each, one member in nine idle
for a year), then the steady state — every member's qualifying tier computed and applied.

Timed, for the points rule and then the ratio rule (rank within the home store):
- "first": the recompute writing every member (the night after the rule changes or the column
  was added) through recompute(), and the hand-written UPDATE … FROM from a cleared column.
- "nightly": a day's sales move --changed (default 2 %) of the members' points; the hand-written
  UPDATE … FROM + INSERT … SELECTs of cases, tasks and audits run and are rolled back, then
  review() runs on the same data (recompute + proposals, committed).
Target (issue #11): the nightly review ≤ 30 s for 1,000,000 members on PostgreSQL.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, ensure_database, make_app, reset_schema  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_tiers"

TIER_POINTS = "CASE WHEN points >= 5000 THEN 'A' WHEN points >= 2000 THEN 'B' ELSE 'C' END"
TIER_RATIO = """CASE WHEN (rank() OVER w - 1) * 100 < 20 * count(*) OVER w THEN 'A'
                     WHEN (rank() OVER w - 1) * 100 < 50 * count(*) OVER w THEN 'B' ELSE 'C' END"""
WINDOW = ("WINDOW w AS (PARTITION BY store_id ORDER BY points DESC "
          "RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)")


def hand_recompute(rule: str) -> str:
    tier = TIER_RATIO if rule == "ratio" else TIER_POINTS
    window = WINDOW if rule == "ratio" else ""
    return f"""
UPDATE member SET qualifying_tier = r.tier
FROM (SELECT id, {tier} AS tier FROM member WHERE status = 'active' {window}) r
WHERE member.id = r.id AND member.qualifying_tier IS DISTINCT FROM r.tier"""


# The proposals by hand: the same rows as tiers.proposal_source (upgrade, else a one-tier
# downgrade for an idle member or one whose tickets dropped), then their task and start audit.
HAND_PROPOSALS = ["""
INSERT INTO "case" (process, state, version, title, store_id, area_id, member_id, created_at,
                    updated_at, data, dedupe_key)
SELECT 'tier_change', 'proposed', 1, '客户等级调整 ' || m.card_no || ' ' || m.tier || '→' || t.target,
       m.store_id, s.area_id, m.id, :now, :now, '{}',
       'tier_change:' || :ym || ':' || m.id || ':' || m.tier || t.target
FROM member m JOIN store s ON s.id = m.store_id
LEFT JOIN (SELECT member_id,
                  sum(CASE WHEN ym >= :recent THEN tickets ELSE 0 END) AS recent,
                  sum(CASE WHEN ym < :recent THEN tickets ELSE 0 END) AS previous
           FROM member_month WHERE ym >= :previous
             AND member_id IN (SELECT id FROM member WHERE tier <> 'C')
           GROUP BY member_id) c ON c.member_id = m.id
CROSS JOIN LATERAL (SELECT CASE WHEN m.qualifying_tier < m.tier THEN m.qualifying_tier
                                WHEN m.tier = 'A' THEN 'B' ELSE 'C' END AS target) t
WHERE m.status = 'active' AND m.qualifying_tier IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM "case" x WHERE x.process = 'tier_change' AND x.member_id = m.id
                  AND x.closed_at IS NULL)
  AND (m.qualifying_tier < m.tier
       OR (m.tier <> 'C' AND ((coalesce(c.recent, 0) <= 0 AND m.applied_on <= :idle_since)
                              OR (coalesce(c.previous, 0) > 0
                                  AND coalesce(c.recent, 0) * 100 < c.previous * 50))))
ON CONFLICT DO NOTHING""", """
INSERT INTO task (case_id, name, role, store_id, area_id, status, due_at, remind_at, created_at,
                  calendar_gap)
SELECT id, 'decide_tier', 'STORE_MANAGER', store_id, area_id, 'open', :due, :due, :now, ''
FROM "case" WHERE process = 'tier_change' AND created_at = :now""", """
INSERT INTO audit_event (case_id, object_type, object_id, at, action, to_state, comment, data)
SELECT id, 'case', id, :now, 'start', 'proposed', '', '{}'
FROM "case" WHERE process = 'tier_change' AND created_at = :now"""]

MEMBER_MONTHS = """
INSERT INTO member_month (ym, store_id, member_id, amount_fen, tickets, items)
SELECT DISTINCT ON (k.ym, m.id) k.ym, m.store_id, m.id, 39900, 1 + m.id % 2, 2
FROM member m
CROSS JOIN LATERAL generate_series(1, m.id % 9) g
CROSS JOIN LATERAL (SELECT ((EXTRACT(YEAR FROM d)::int) * 100 + EXTRACT(MONTH FROM d)::int) AS ym
                    FROM (SELECT (date_trunc('month', now())
                                  - make_interval(months => (m.id * 7 + g * 5) % 24
                                                  + CASE WHEN m.id % 9 = 4 THEN 12 ELSE 0 END)) AS d) x) k
WHERE k.ym >= 200001
ORDER BY k.ym, m.id"""


def timed(fn):
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.02,
                        help="share of members whose points move in a day")
    args = parser.parse_args()
    ensure_database(args.db)
    # one instance folder per database: its member key reads the members of a reused fill
    instance = Path("/tmp") / ("crm-bench-tiers-" + "".join(
        c if c.isalnum() else "_" for c in args.db.rsplit("/", 1)[-1]))
    instance.mkdir(exist_ok=True)
    app = make_app(args.db, args.redis, instance_dir=str(instance))
    from sqlalchemy import func, select, text

    from fill import fill
    from webapp import alarms
    from webapp.calendar import add_months, local_date
    from webapp.extensions import db
    from webapp.models import Member, Setting
    from webapp.services import tiers

    alarms.enqueue_alarms = lambda seconds: None  # the bench measures the database part
    log = lambda *a: print(*a, flush=True)  # noqa: E731
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
        try:
            reuse = db.session.scalar(select(func.count()).select_from(Member)) == args.members
        except Exception:  # noqa: BLE001 - no schema yet
            db.session.rollback()
            reuse = False
    if not reuse:
        reset_schema(app)
    t0 = time.perf_counter()
    with app.app_context():
        if not reuse:
            fill(args.members, log=log)
            db.session.commit()
        if pg and not db.session.scalar(text("SELECT count(*) FROM member_month")):
            db.session.execute(text("SET LOCAL session_replication_role = replica"))  # no FK checks
            db.session.execute(text(MEMBER_MONTHS))
            db.session.commit()
        cases = "(SELECT id FROM \"case\" WHERE process = 'tier_change')"
        for sql in (f"DELETE FROM notification WHERE task_id IN (SELECT id FROM task WHERE case_id IN {cases})",
                    f"DELETE FROM task WHERE case_id IN {cases}",
                    f"DELETE FROM audit_event WHERE case_id IN {cases} OR object_type = 'tiers'",
                    "DELETE FROM \"case\" WHERE process = 'tier_change'",
                    "UPDATE member SET points = (CAST(id AS BIGINT) * 7919) % 8000, qualifying_tier = NULL, tier = 'C'"):
            db.session.execute(text(sql))
        db.session.commit()
        months = db.session.scalar(text("SELECT count(*) FROM member_month"))

        def vacuum():
            if pg:
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE member"))
                    conn.execute(text("VACUUM ANALYZE \"case\""))

        vacuum()
        log(f"set-up {time.perf_counter() - t0:.0f} s ({months:,} member months)")
        now = datetime.now(timezone.utc)
        today = local_date(now)
        binds = {"now": now, "due": now + timedelta(days=5), "ym": str(today.year * 100 + today.month),
                 "recent": int(f"{add_months(today, -11):%Y%m}"),
                 "previous": int(f"{add_months(today, -23):%Y%m}"),
                 "idle_since": add_months(today, -12)}
        day = [0]
        figures = []

        def one_rule(rule):
            db.session.merge(Setting(key="tier_rule", value=rule))
            db.session.execute(text("UPDATE member SET qualifying_tier = NULL"))
            db.session.commit()
            vacuum()
            first, first_s = timed(lambda: (tiers.recompute(), db.session.commit())[0])
            db.session.execute(text("UPDATE member SET qualifying_tier = NULL"))
            db.session.commit()
            vacuum()
            hand_first, hand_first_s = timed(lambda: (db.session.execute(
                text(hand_recompute(rule))).rowcount, db.session.commit())[0])
            # the steady state: every member at the tier they qualify for; last night's review
            # proposed the downgrades and the managers declined them (not proposed again this month)
            db.session.execute(text("UPDATE member SET tier = qualifying_tier "
                                    "WHERE qualifying_tier IS NOT NULL AND tier <> qualifying_tier"))
            db.session.commit()
            last_night, last_s = timed(lambda: tiers.review(
                now=now - timedelta(days=1) if today.day > 1 else now))
            db.session.execute(text(f"UPDATE task SET status = 'done', closed_at = :now "
                                    f"WHERE case_id IN {cases} AND status = 'open'"), {"now": now})
            db.session.execute(text("UPDATE \"case\" SET state = 'declined', closed_at = :now "
                                    "WHERE process = 'tier_change' AND closed_at IS NULL"), {"now": now})
            db.session.commit()
            vacuum()
            # a day's sales: some members' points move (a few cross a line)
            day[0] += 1
            step = max(1, round(1 / args.changed))
            db.session.execute(text(f"UPDATE member SET points = points + 400 + id % 1200 "
                                    f"WHERE id % {step} = {day[0]}"))
            db.session.commit()

            def hand():
                written = db.session.execute(text(hand_recompute(rule))).rowcount
                proposed = db.session.execute(text(HAND_PROPOSALS[0]), binds).rowcount
                for sql in HAND_PROPOSALS[1:]:
                    db.session.execute(text(sql), binds)
                db.session.rollback()
                return written, proposed

            (hand_written, hand_proposed), hand_s = timed(hand)
            review, review_s = timed(lambda: tiers.review(now=now))
            figures.append((rule, first, first_s, hand_first, hand_first_s, review, review_s,
                            hand_written, hand_proposed, hand_s, last_night["proposed"], last_s))
            # the next rule starts from a closed slate
            for sql in (f"DELETE FROM task WHERE case_id IN {cases}",
                        f"DELETE FROM audit_event WHERE case_id IN {cases} OR object_type = 'tiers'",
                        "DELETE FROM \"case\" WHERE process = 'tier_change'"):
                db.session.execute(text(sql))
            db.session.commit()

        one_rule("points")
        one_rule("ratio")

    print(f"database: {'postgresql' if pg else 'sqlite'}, members: {args.members:,}, "
          f"points moved for {args.changed:.0%} a night")
    for (rule, first, first_s, hand_first, hand_first_s, review, review_s, hand_written,
         hand_proposed, hand_s, declined, declined_s) in figures:
        print(f"[{rule} rule]")
        print(f"  first recompute (every row):  {first:>9,} rows in {first_s:6.2f} s;"
              f" hand UPDATE … FROM {hand_first:>9,} rows in {hand_first_s:6.2f} s"
              f"  ratio {first_s / hand_first_s:.2f}")
        print(f"  the night before: review() proposed {declined:,} downgrades in {declined_s:.2f} s "
              f"(then all declined)")
        print(f"  nightly review():             {review['written']:>9,} rows, "
              f"{review['proposed']:>7,} proposals in {review_s:6.2f} s")
        print(f"  nightly by hand:              {hand_written:>9,} rows, "
              f"{hand_proposed:>7,} proposals in {hand_s:6.2f} s  ratio {review_s / hand_s:.2f}")


if __name__ == "__main__":
    main()
