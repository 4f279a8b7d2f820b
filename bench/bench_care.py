"""Care batches (SPEC §3.4): the Spring Festival batch of every store (a case per store, a line
per member, method by tier) and a day's birthdays, beside hand-written INSERT … SELECT doing the
same rows, in the same run.

    .venv/bin/python bench/bench_care.py                          # PostgreSQL `bench_care`
    .venv/bin/python bench/bench_care.py --members 20000 --db sqlite:////tmp/bench-care.sqlite

Fills N members (bench/fill.py; tiers A/B/C by id, 1 % dead numbers), then times
services.care's generation for 春节 2027 and for the birthdays of the busiest day of the filled data (each committed),
and the hand SQL writing the same batch cases and lines. Targets (issue #14): Spring Festival
for 1 M members and 200 stores ≤ 10 s, a day's birthdays ≤ 1 s.
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

HAND_SQL = [
    """INSERT INTO "case" (process, state, version, title, store_id, area_id, created_at,
                          updated_at, data, dedupe_key)
       SELECT 'hand_care', 'review', 1, '2027-02-06 ' || s.name || ' 关怀名单', s.id, s.area_id,
              :now, :now, '{}', 'hand_care:' || s.id
       FROM store s WHERE EXISTS (SELECT 1 FROM member m WHERE m.store_id = s.id
                                  AND m.status = 'active')""",
    """INSERT INTO care_line (case_id, member_id, store_id, tier, method, status, reason, note)
       SELECT c.id, m.id, m.store_id, m.tier,
              CASE WHEN m.points <= 0 THEN 'contact_sms' WHEN m.tier = 'A' THEN 'phone_gift_home'
                   WHEN m.tier = 'B' THEN 'sms_gift_store' ELSE 'sms_card_mail' END,
              CASE WHEN m.mobile_dead_at IS NOT NULL THEN 'excluded'
                   WHEN f.member_id IS NOT NULL THEN 'excluded' ELSE 'planned' END,
              CASE WHEN m.mobile_dead_at IS NOT NULL THEN 'dead_number'
                   WHEN f.member_id IS NOT NULL THEN 'frequency' ELSE '' END, ''
       FROM "case" c JOIN member m ON m.store_id = c.store_id
       LEFT JOIN (SELECT member_id, min(points_at_visit) AS p0 FROM visit_record
                  WHERE visited_at >= :since GROUP BY member_id HAVING count(*) >= 3) f
              ON f.member_id = m.id AND m.points <= f.p0
       WHERE c.process = 'hand_care' AND m.status = 'active'""",
]
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
       SELECT id, '结婚纪念日', ((id * 7) % 12 + 1) * 100 + (id % 28) + 1 FROM member WHERE id % 3 = 0""",
]

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
    args = parser.parse_args()
    ensure_database(args.db)
    app = make_app(args.db, args.redis)
    from sqlalchemy import func, select, text

    from webapp import alarms
    from webapp.extensions import db
    from webapp.models import CareLine, Case, Member, MemberAnniversary, Store
    from webapp.occasions import ANNIVERSARY, BIRTHDAY, Occasion, birthday_month_days, occasions_of_year
    from webapp.services import care

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fill import fill

    reset_schema(app)
    with app.app_context():
        fill(args.members, log=lambda *a: None)
        db.session.execute(text("UPDATE member SET tier = CASE id % 3 WHEN 0 THEN 'A' WHEN 1 THEN 'B' "
                                "ELSE 'C' END, points = 1000 + id % 5000"))
        db.session.execute(text("UPDATE member SET mobile_dead_at = :now WHERE id % 100 = 7"),
                           {"now": datetime.now(timezone.utc)})
        for statement in DATA_SQL:
            db.session.execute(text(statement), {"visited": datetime(2026, 12, 20, tzinfo=timezone.utc),
                                                 "false": False})
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        alarms.enqueue_alarms = lambda seconds: None  # the bench measures the database part
        now = datetime(2027, 1, 30, 2, 0, tzinfo=timezone.utc)
        spring = next(o for o in occasions_of_year(2027) if o.key == "spring_festival")
        stores = db.session.scalar(select(func.count()).select_from(Store))

        t0 = time.perf_counter()
        opened = care._open(spring, (), now)
        db.session.commit()
        festival = time.perf_counter() - t0
        lines = db.session.scalar(select(func.count()).select_from(CareLine))

        mmdd = db.session.scalar(select(Member.birth_month_day).where(Member.status == "active")
                                 .group_by(Member.birth_month_day).order_by(func.count().desc()).limit(1))
        day = date(2027, mmdd // 100, mmdd % 100)  # the busiest birthday of the filled data
        t0 = time.perf_counter()
        bday_cases = care._open(Occasion("birthday", "生日", day, BIRTHDAY), birthday_month_days(day), now)
        db.session.commit()
        birthdays = time.perf_counter() - t0
        bday_lines = db.session.scalar(select(func.count()).select_from(CareLine)) - lines

        mmdd = db.session.scalar(select(MemberAnniversary.month_day).group_by(MemberAnniversary.month_day)
                                 .order_by(func.count().desc()).limit(1))
        day = date(2027, mmdd // 100, mmdd % 100)
        before = db.session.scalar(select(func.count()).select_from(CareLine))
        t0 = time.perf_counter()
        anniv_cases = care._open(Occasion("anniversary", "纪念日", day, ANNIVERSARY), (mmdd,), now)
        db.session.commit()
        anniversaries = time.perf_counter() - t0
        anniv_lines = db.session.scalar(select(func.count()).select_from(CareLine)) - before
        limited = db.session.scalar(select(func.count()).select_from(CareLine)
                                    .where(CareLine.reason == "frequency"))

        t0 = time.perf_counter()
        for statement in HAND_SQL:
            db.session.execute(text(statement), {"now": now, "since": now - timedelta(days=180)})
        db.session.commit()
        hand = time.perf_counter() - t0
        hand_lines = db.session.scalar(select(func.count()).select_from(CareLine)
                                       .join(Case, Case.id == CareLine.case_id)
                                       .where(Case.process == "hand_care"))
        active = db.session.scalar(select(func.count()).select_from(Member)
                                   .where(Member.status == "active"))
        for statement in CLEAN_SQL:
            db.session.execute(text(statement))
        db.session.commit()
        dialect = db.engine.dialect.name

    print(f"database: {dialect}, members: {args.members:,} ({active:,} active), stores: {stores}")
    print(f"Spring Festival batch: {opened:>5} cases, {lines:>9,} lines in {festival:6.2f} s")
    print(f"birthdays of a day:    {bday_cases:>5} cases, {bday_lines:>9,} lines in {birthdays:6.2f} s")
    print(f"anniversaries of a day: {anniv_cases:>4} cases, {anniv_lines:>9,} lines in {anniversaries:6.2f} s")
    print(f"frequency-limited lines (all batches): {limited:,}")
    print(f"hand INSERT … SELECT:  {hand_lines:>9,} lines (festival)        in {hand:6.2f} s")
    print(f"ratio generation / hand: {festival / hand:.2f}")


if __name__ == "__main__":
    main()
