"""The visit plan's HQ consolidation page (200 stores) and the area summary's pre-fill at 1 M
members (issue #13; target ≤ 1 s each), beside the same figures as ONE hand SQL query each.

    .venv/bin/python bench/bench_visits.py                                   # 1 M members
    .venv/bin/python bench/bench_visits.py --members 100000 --sales 1000000  # smaller

Data: the shared members-and-sales setup (`_common.fill_sales`: 200 stores in 20 areas; reused
when the database already holds it, as bench_analyses and bench_expiry leave it), plus, each run
from scratch: a manager and an associate per store, a supervisor per area, HQ; the plan cases the
product opens on the 1st (`recurring.open_process`) for November and December 2026, in mixed
states; `--items` set plan items per store for each month, drawn from the store's members; for
November, a visit record for 90 % of the items (some after their date) plus 10 % unplanned, and
a spot-check sample of 5 per store, checked.

Timed (median of `--repeat`, after one warm-up):
1. HQ's consolidation page (GET /visits/hq?month=2026-12, rendered, logged in as HQ), and the
   service alone (`visit_plan.consolidation`), against the hand query;
2. the area summary page (GET /visits/area-summary, the supervisor's area, pre-filled with each
   store's figures), the pre-fill alone (`visit_plan.area_figures`), against the hand query;
and checks that the app's figures equal the hand query's.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (AREAS, DEFAULT_REDIS, SALES_PG, STORES, ensure_database,  # noqa: E402
                     ensure_sales, make_app)

from sqlalchemy import text  # noqa: E402

OCT_1 = datetime(2026, 9, 30, 16, 5, tzinfo=timezone.utc)  # 1 Oct 00:05 Shanghai
NOV_1 = datetime(2026, 10, 31, 16, 5, tzinfo=timezone.utc)
AREA = 1

CLEAN = [
    "DELETE FROM visit_record", "DELETE FROM plan_item", "DELETE FROM store_visit_score",
    """DELETE FROM notification WHERE task_id IN (SELECT t.id FROM task t JOIN "case" c
       ON c.id = t.case_id WHERE c.process LIKE 'visit%')""",
    """DELETE FROM task WHERE case_id IN (SELECT id FROM "case" WHERE process LIKE 'visit%')""",
    """DELETE FROM case_timer WHERE case_id IN (SELECT id FROM "case" WHERE process LIKE 'visit%')""",
    """DELETE FROM audit_event WHERE case_id IN (SELECT id FROM "case" WHERE process LIKE 'visit%')""",
    """DELETE FROM "case" WHERE process LIKE 'visit%'""",
]

HAND_CONSOLIDATION = """
SELECT s.id, s.code, s.name, s.area_id, c.id AS case_id, c.state, c.version, coalesce(i.n, 0) AS items
FROM store s
LEFT JOIN "case" c ON c.dedupe_key = 'visit_plan:' || :prev || ':' || s.id
LEFT JOIN (SELECT store_id, count(*) AS n FROM plan_item WHERE ym = :ym GROUP BY store_id) i
  ON i.store_id = s.id
ORDER BY s.code
"""

HAND_AREA = """
SELECT s.id, coalesce(p.planned, 0), coalesce(p.done, 0), coalesce(k.sampled, 0),
       coalesce(k.checked, 0), coalesce(k.confirmed, 0), coalesce(p.on_time, 0)
FROM store s
LEFT JOIN (SELECT pi.store_id, count(*) AS planned, count(v.id) AS done,
                  count(*) FILTER (WHERE (v.visited_at AT TIME ZONE 'Asia/Shanghai')::date
                                         <= pi.planned_on) AS on_time
           FROM plan_item pi LEFT JOIN visit_record v ON v.plan_item_id = pi.id
           WHERE pi.ym = :ym AND pi.status = 'set'
             AND pi.store_id IN (SELECT id FROM store WHERE area_id = :area)
           GROUP BY pi.store_id) p ON p.store_id = s.id
LEFT JOIN (SELECT store_id, count(sampled_at) AS sampled, count(checked_at) AS checked,
                  count(*) FILTER (WHERE check_confirmed) AS confirmed
           FROM visit_record WHERE ym = :ym AND store_id IN (SELECT id FROM store WHERE area_id = :area)
           GROUP BY store_id) k ON k.store_id = s.id
WHERE s.area_id = :area
ORDER BY s.code
"""


def setup(app, items: int, members: int) -> dict:
    """Users, plan cases, items, visits and a checked sample; returns what was made."""
    from werkzeug.security import generate_password_hash

    from webapp.extensions import db
    from webapp.models import Role, User
    from webapp.services import recurring

    with app.app_context():
        for statement in CLEAN:
            db.session.execute(text(statement))
        if not db.session.scalar(text("SELECT count(*) FROM \"user\" WHERE username = 'hq'")):
            pw = generate_password_hash("pw")
            users = [User(username="hq", display_name="总部客服", role=Role.HQ_SPECIALIST, password_hash=pw)]
            users += [User(username=f"supervisor{a}", display_name=f"督导{a}", role=Role.AREA_SUPERVISOR,
                           area_id=a, password_hash=pw) for a in range(1, AREAS + 1)]
            for s in range(1, STORES + 1):
                users += [User(username=f"manager{s}", display_name=f"店长{s}", role=Role.STORE_MANAGER,
                               store_id=s, password_hash=pw),
                          User(username=f"assoc{s}", display_name=f"导购{s}", role=Role.ASSOCIATE,
                               store_id=s, password_hash=pw)]
            db.session.add_all(users)
        db.session.commit()
        opened = recurring.open_process("visit_plan", now=OCT_1)  # plans November
        opened += recurring.open_process("visit_plan", now=NOV_1)  # plans December
        db.session.commit()
        # mixed states for the December plans: a fifth each drafting … archived
        db.session.execute(text("""
            UPDATE "case" SET state = (ARRAY['drafting','reporting','review','approved','archived'])
                                      [1 + store_id % 5]
            WHERE process = 'visit_plan' AND dedupe_key LIKE 'visit_plan:2026-11:%'"""))
        db.session.execute(text("UPDATE \"case\" SET state = 'archived' WHERE process = 'visit_plan' "
                                "AND dedupe_key LIKE 'visit_plan:2026-10:%'"))
        # the items: member g of store s is g ≡ s - 1 (mod STORES); days 1–28
        per_store = max(1, members // STORES - 1)
        for ym, plans in ((202611, "2026-10"), (202612, "2026-11")):
            db.session.execute(text(f"""
                INSERT INTO plan_item (plan_case_id, store_id, ym, member_id, occasion, method,
                                       associate_id, planned_on, status, frequency_flag,
                                       proposed_by_id, created_at)
                SELECT c.id, c.store_id, {ym}, m.id, '例行回访',
                       (ARRAY['call','sms','visit','mail'])[1 + n % 4], a.id,
                       make_date({ym // 100}, {ym % 100}, 1 + n % 28), 'set', false, a.id, now()
                FROM "case" c
                JOIN "user" a ON a.username = 'assoc' || c.store_id
                CROSS JOIN LATERAL generate_series(0, {items - 1}) n
                JOIN member m ON m.id = (c.store_id - 1) + {STORES} * (1 + (n * 37) % {per_store})
                WHERE c.process = 'visit_plan' AND c.dedupe_key LIKE 'visit_plan:{plans}:%'"""))
        # November's visits: 90 % of the items (every tenth missed), one in seven a day late;
        # then 10 % unplanned visits
        db.session.execute(text("""
            INSERT INTO visit_record (store_id, ym, member_id, associate_id, plan_item_id, method,
                                      visited_at, result, feedback, follow_up, points_at_visit,
                                      created_at, check_note)
            SELECT pi.store_id, pi.ym, pi.member_id, pi.associate_id, pi.id, pi.method,
                   (pi.planned_on + CASE WHEN pi.id % 7 = 0 THEN 1 ELSE 0 END + time '15:00')
                       AT TIME ZONE 'Asia/Shanghai', '已回访', '', false, 0, now(), ''
            FROM plan_item pi WHERE pi.ym = 202611 AND pi.id % 10 <> 0"""))
        db.session.execute(text("""
            INSERT INTO visit_record (store_id, ym, member_id, associate_id, plan_item_id, method,
                                      visited_at, result, feedback, follow_up, points_at_visit,
                                      created_at, check_note)
            SELECT pi.store_id, pi.ym, pi.member_id, pi.associate_id, NULL, 'call',
                   (pi.planned_on + time '11:00') AT TIME ZONE 'Asia/Shanghai', '计划外回访', '',
                   false, 0, now(), ''
            FROM plan_item pi WHERE pi.ym = 202611 AND pi.id % 10 = 0"""))
        # HQ's sample: 5 per store, checked, four in five confirmed
        db.session.execute(text("""
            UPDATE visit_record v SET sampled_at = now(), checked_at = now(),
                   check_confirmed = (v.id % 5 <> 0)
            FROM (SELECT id, row_number() OVER (PARTITION BY store_id ORDER BY id) AS k
                  FROM visit_record WHERE ym = 202611) r
            WHERE r.id = v.id AND r.k <= 5"""))
        db.session.commit()
        counts = {name: db.session.scalar(text(sql)) for name, sql in (
            ("plan cases", "SELECT count(*) FROM \"case\" WHERE process = 'visit_plan'"),
            ("plan items", "SELECT count(*) FROM plan_item"),
            ("visit records", "SELECT count(*) FROM visit_record"))}
        counts["opened"] = opened
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE plan_item"))
            conn.execute(text("ANALYZE visit_record"))
            conn.execute(text('ANALYZE "case"'))
    return counts


def timed(fn, repeat: int) -> tuple[float, object]:
    """Median seconds of `repeat` calls after one warm-up, and the last result."""
    result = fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=SALES_PG)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--sales", type=int, default=10_000_000)
    parser.add_argument("--items", type=int, default=100, help="set plan items per store and month")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--refill", action="store_true")
    parser.add_argument("--keep", action="store_true", help="time the visit data already there")
    args = parser.parse_args()
    ensure_database(args.url)
    app = make_app(args.url, DEFAULT_REDIS, WTF_CSRF_ENABLED=False)
    ensure_sales(app, args.members, args.sales, refill=args.refill, rollups=False)
    from webapp import alarms
    from webapp.extensions import db
    from webapp.models import User
    from webapp.periods import Month
    from webapp.services import visit_plan as vp

    alarms.enqueue_alarms = lambda seconds: None  # the bench measures the database part
    t0 = time.perf_counter()
    if args.keep:
        with app.app_context():
            made = {"plan items": db.session.scalar(text("SELECT count(*) FROM plan_item")),
                    "visit records": db.session.scalar(text("SELECT count(*) FROM visit_record"))}
            db.session.remove()
    else:
        made = setup(app, args.items, args.members)
    print(f"visit data: {made} in {time.perf_counter() - t0:.1f} s", flush=True)

    dec, nov = Month(2026, 12), Month(2026, 11)
    results = {}
    for username, page in (("hq", f"/visits/hq?month={dec.key}"),
                           (f"supervisor{AREA}", f"/visits/area-summary?area={AREA}&month={nov.key}")):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": "pw"})
        assert response.status_code == 302, response.data[:300]

        def get(page=page, client=client):
            r = client.get(page)
            assert r.status_code == 200, (r.status_code, r.data[:300])
            return r
        results[page] = timed(get, args.repeat)[0]

    with app.app_context():
        hq = db.session.scalar(db.select(User).where(User.username == "hq"))
        supervisor = db.session.scalar(db.select(User).where(User.username == f"supervisor{AREA}"))
        cons_s, cons = timed(lambda: vp.consolidation(user=hq, month=dec), args.repeat)
        hand_cons_s, hand_cons = timed(lambda: db.session.execute(
            text(HAND_CONSOLIDATION), {"prev": nov.key, "ym": dec.ym}).all(), args.repeat)
        area_s, area = timed(lambda: vp.area_figures(user=supervisor, area_id=AREA, month=nov), args.repeat)
        hq_area_s, _ = timed(lambda: vp.area_figures(user=hq, area_id=AREA, month=nov), args.repeat)
        hand_area_s, hand_area = timed(lambda: db.session.execute(
            text(HAND_AREA), {"ym": nov.ym, "area": AREA}).all(), args.repeat)
        cons_agree = [tuple(r) for r in cons] == [tuple(r) for r in hand_cons]
        area_agree = [(r["store_id"], r["planned"], r["done"], r["sampled"], r["checked"],
                       r["confirmed"], r["on_time"]) for r in area] == [tuple(r) for r in hand_area]
        members = db.session.scalar(text("SELECT count(*) FROM member"))
        dialect = db.engine.dialect.name
    print(f"database: {dialect}, members {members:,}, stores {len(cons)}, "
          f"{made['plan items']:,} plan items, {made['visit records']:,} visit records")
    hq_page, area_page = results.values()
    print(f"HQ consolidation page (GET, rendered):  {hq_page:6.3f} s  (target ≤ 1 s)")
    print(f"  consolidation service:                {cons_s:6.3f} s")
    print(f"  one hand SQL query:                   {hand_cons_s:6.3f} s  ratio {cons_s / hand_cons_s:5.1f}  "
          f"{'agree' if cons_agree else 'DISAGREE'}")
    print(f"area summary page (GET, pre-filled):    {area_page:6.3f} s  (target ≤ 1 s)")
    print(f"  pre-fill (area_figures), supervisor:  {area_s:6.3f} s; as HQ {hq_area_s:6.3f} s")
    print(f"  one hand SQL query:                   {hand_area_s:6.3f} s  ratio {area_s / hand_area_s:5.1f}  "
          f"{'agree' if area_agree else 'DISAGREE'}")


if __name__ == "__main__":
    main()
