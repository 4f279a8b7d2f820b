"""Care batches (SPEC §3.4): the Spring Festival batch of every store (a case per store, a line
per member, method by tier), a day's birthdays and a day's anniversaries, beside hand-written
INSERT … SELECT doing the same rows, in the same run. PostgreSQL only.

    .venv/bin/python bench/bench_care.py --members 1000000        # PostgreSQL `bench_care`
    .venv/bin/python bench/bench_care.py --members 1000000 --runs 3

Set-up (not timed; reused when the database holds --members members, --refill to redo):
bench/fill.fill_members generates the members in SQL (1 M in a few minutes on the shared
machine): 200 stores, tiers A/B/C by id, points 1,000–5,999, 1 % dead numbers, 2 % pending,
birthdays spread over the 366 days; a third of the members with a wedding anniversary (spread
over the year too); 2 % visited three times in the frequency window, half of them without
points growth (frequency-limited).

Each run times, with the load average before and after: services.care's generation for 春节
2027 (committed), then the hand SQL writing the same cases and lines; the birthdays of the
busiest day the same way (its members read once before both); the anniversaries of the busiest
day. The batches are deleted between steps (VACUUM, as autovacuum may be off). Targets (issue
#14): Spring Festival for 1 M members and 200 stores ≤ 10 s, a day's birthdays ≤ 1 s.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, ensure_database, make_app, reset_schema  # noqa: E402

DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/bench_care"

def hand_sql(members: str, methods: str, visits: str = "") -> list[str]:
    """The batch by hand, one statement: the stores with somebody to greet (`members`, a
    condition on member m) get a case, the case's RETURNING gives each member's line its case
    id; dead numbers and frequency-limited members (`visits` limits the visits read) are excluded
    lines with the reason; written in key order, sorted in memory, as the generation does."""
    return ["""SET LOCAL work_mem = '256MB'""", f"""
WITH c AS (
  INSERT INTO "case" (process, state, version, title, store_id, area_id, created_at, updated_at,
                      data, dedupe_key)
  SELECT 'hand_care', 'review', 1, '2027 ' || s.name || ' 关怀名单', s.id, s.area_id, :now, :now, '{{}}',
         'hand_care:' || s.id
  FROM store s WHERE EXISTS (SELECT 1 FROM member m WHERE m.store_id = s.id AND {members})
  RETURNING id, store_id)
INSERT INTO care_line (case_id, member_id, store_id, tier, method, status, reason, note)
SELECT c.id, m.id, m.store_id, m.tier, {methods},
       CASE WHEN m.mobile_dead_at IS NOT NULL THEN 'excluded'
            WHEN f.member_id IS NOT NULL THEN 'excluded' ELSE 'planned' END,
       CASE WHEN m.mobile_dead_at IS NOT NULL THEN 'dead_number'
            WHEN f.member_id IS NOT NULL THEN 'frequency' ELSE '' END, ''
FROM c JOIN member m ON m.store_id = c.store_id AND {members}
LEFT JOIN (SELECT member_id, min(points_at_visit) AS p0 FROM visit_record
           WHERE visited_at >= :since {visits} GROUP BY member_id HAVING count(*) >= 3) f
       ON f.member_id = m.id AND m.points <= f.p0
ORDER BY c.id, m.id"""]


HAND_SQL = hand_sql("m.status = 'active'",
                    """CASE WHEN m.points <= 0 THEN 'contact_sms' WHEN m.tier = 'A' THEN 'phone_gift_home'
                            WHEN m.tier = 'B' THEN 'sms_gift_store' ELSE 'sms_card_mail' END""")
# A day's birthdays by hand: members with points only, the birthday's methods; only those
# members' visits read.
BIRTHDAY_MEMBERS = "m.status = 'active' AND m.birth_month_day = ANY(:mds) AND m.points > 0"
HAND_BIRTHDAY_SQL = hand_sql(
    BIRTHDAY_MEMBERS, """CASE WHEN m.tier = 'A' THEN 'visit_cake_flowers' WHEN m.tier = 'B' THEN 'visit_cake'
                      ELSE 'card_call' END""",
    f"AND member_id IN (SELECT m.id FROM member m WHERE {BIRTHDAY_MEMBERS})")
# Frequency control and anniversaries need data: 2 % of members visited three times in the
# window (half of them without points growing), a third of them with a wedding anniversary.
DATA_SQL = [
    """INSERT INTO visit_record (store_id, ym, member_id, associate_id, method, visited_at, result,
                                feedback, follow_up, points_at_visit, created_at, check_note)
       SELECT m.store_id, 202612, m.id, (SELECT min(id) FROM "user"), 'call', :visited, 'x', '',
              :false, CASE WHEN m.id % 100 = 3 THEN m.points ELSE m.points - 100 END, :visited, ''
       FROM member m CROSS JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3) three
       WHERE m.id % 50 = 3""",
    """INSERT INTO member_anniversary (member_id, name, month_day)
       SELECT id, '结婚纪念日', extract(month FROM day)::int * 100 + extract(day FROM day)::int
       FROM (SELECT id, date '2000-01-01' + ((hashint4(-id)::bigint + 2147483648) % 366)::int AS day FROM member
             WHERE id % 3 = 0) m""",
]

# Tiers A/B/C by id, points 1,000–5,999, 1 % dead numbers (SQL expressions of the member's g).
MEMBER_COLUMNS = {"tier": "CASE g % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' ELSE 'C' END",
                  "points": "1000 + g % 5000",
                  "mobile_dead_at": "CASE WHEN g % 100 = 7 THEN CAST(:now AS timestamptz) END"}

CLEAN_SQL = [
    """DELETE FROM care_line""",
    """DELETE FROM case_timer WHERE case_id IN (SELECT id FROM "case" WHERE process IN ('care_batch', 'hand_care'))""",
    """DELETE FROM audit_event WHERE case_id IN (SELECT id FROM "case" WHERE process IN ('care_batch', 'hand_care'))""",
    """DELETE FROM task WHERE case_id IN (SELECT id FROM "case" WHERE process IN ('care_batch', 'hand_care'))""",
    """DELETE FROM "case" WHERE process IN ('care_batch', 'hand_care')""",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2, help="timed rounds (generation, then by hand)")
    parser.add_argument("--refill", action="store_true",
                        help="fill again even when the database holds --members members")
    args = parser.parse_args()
    if not args.db.startswith(("postgresql", "postgres:")):
        parser.error("PostgreSQL only (the hand SQL and the generated data are PostgreSQL's)")
    ensure_database(args.db)
    app = make_app(args.db, args.redis)
    from sqlalchemy import func, select, text

    from webapp import alarms
    from webapp.extensions import db
    from webapp.models import CareLine, Case, Member, MemberAnniversary, Store, VisitRecord
    from webapp.occasions import ANNIVERSARY, BIRTHDAY, Occasion, birthday_month_days, occasions_of_year
    from webapp.services import care

    from fill import fill_members

    with app.app_context():
        try:
            reuse = (not args.refill and db.session.scalar(select(func.count()).select_from(Member))
                     == args.members and db.session.scalar(select(func.count()).select_from(VisitRecord)) > 0)
        except Exception:  # noqa: BLE001 - no schema yet
            db.session.rollback()
            reuse = False
    if not reuse:
        reset_schema(app)
    with app.app_context():
        if reuse:
            print(f"reusing the filled {args.members:,} members", flush=True)
        else:
            t0 = time.perf_counter()
            fill_members(args.members, columns=MEMBER_COLUMNS, log=lambda *a: print(*a, flush=True))
            # generated rows, consistent by construction: no per-row FK checks
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in DATA_SQL:
                db.session.execute(text(statement), {"visited": datetime(2026, 12, 20, tzinfo=timezone.utc),
                                                     "false": False})
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE visit_record, member_anniversary"))
            print(f"filled in {time.perf_counter() - t0:.0f} s", flush=True)
        alarms.enqueue_alarms = lambda seconds: None  # the bench measures the database part
        now = datetime(2027, 1, 30, 2, 0, tzinfo=timezone.utc)
        spring = next(o for o in occasions_of_year(2027) if o.key == "spring_festival")
        stores = db.session.scalar(select(func.count()).select_from(Store))
        active = db.session.scalar(select(func.count()).select_from(Member).where(Member.status == "active"))
        mmdd = db.session.scalar(select(Member.birth_month_day).where(Member.status == "active")
                                 .group_by(Member.birth_month_day).order_by(func.count().desc()).limit(1))
        bday = date(2027, mmdd // 100, mmdd % 100)  # the busiest birthday of the filled data
        amd = db.session.scalar(select(MemberAnniversary.month_day).group_by(MemberAnniversary.month_day)
                                .order_by(func.count().desc()).limit(1))
        aday = date(2027, amd // 100, amd % 100)
        binds = {"now": now, "since": now - timedelta(days=180), "mds": list(birthday_month_days(bday))}

        def count_lines(process):
            return db.session.scalar(select(func.count()).select_from(CareLine)
                                     .join(Case, Case.id == CareLine.case_id).where(Case.process == process))

        def generate(occasion, month_days):
            t0 = time.perf_counter()
            cases = care._open(occasion, month_days, now)
            db.session.commit()
            return time.perf_counter() - t0, cases, count_lines("care_batch")

        def by_hand(statements):
            t0 = time.perf_counter()
            for statement in statements:
                db.session.execute(text(statement), binds)
            db.session.commit()
            return time.perf_counter() - t0, count_lines("hand_care")

        def clean():
            for statement in CLEAN_SQL:
                db.session.execute(text(statement))
            db.session.commit()
            # autovacuum may be off: the next run would write into fresh pages otherwise
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text('VACUUM ANALYZE care_line, "case", task, audit_event, case_timer'))

        clean()
        print(f"database: {db.engine.dialect.name}, members: {args.members:,} ({active:,} active), "
              f"stores: {stores}", flush=True)
        for run in range(1, args.runs + 1):
            load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "?"
            festival, opened, lines = generate(spring, ())
            limited = db.session.scalar(select(func.count()).select_from(CareLine)
                                        .where(CareLine.reason == "frequency"))
            hand, hand_lines = by_hand(HAND_SQL)
            clean()
            # the day's members read once before both (a cold read of their ~2,800 pages would
            # fall on whichever runs first)
            db.session.execute(text(f"SELECT sum(m.points) FROM member m WHERE {BIRTHDAY_MEMBERS}"), binds)
            birthdays, bday_cases, bday_lines = generate(Occasion("birthday", "生日", bday, BIRTHDAY),
                                                         birthday_month_days(bday))
            hand_bday, hand_bday_lines = by_hand(HAND_BIRTHDAY_SQL)
            clean()
            anniversaries, anniv_cases, anniv_lines = generate(
                Occasion("anniversary", "纪念日", aday, ANNIVERSARY), (amd,))
            clean()
            load_after = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else "?"
            print(f"run {run}, load average {' '.join(load)} before, {' '.join(load_after)} after")
            print(f"  Spring Festival batch: {opened:>5} cases, {lines:>9,} lines ({limited:,} frequency-"
                  f"limited) in {festival:6.2f} s; by hand {hand_lines:>9,} lines in {hand:6.2f} s; "
                  f"ratio {festival / hand:.2f}")
            print(f"  birthdays of {bday:%m-%d}:  {bday_cases:>5} cases, {bday_lines:>9,} lines in "
                  f"{birthdays:6.2f} s; by hand {hand_bday_lines:>9,} lines in {hand_bday:6.2f} s; "
                  f"ratio {birthdays / hand_bday:.2f}")
            print(f"  anniversaries of {aday:%m-%d}: {anniv_cases:>3} cases, {anniv_lines:>9,} lines in "
                  f"{anniversaries:6.2f} s", flush=True)

if __name__ == "__main__":
    main()
