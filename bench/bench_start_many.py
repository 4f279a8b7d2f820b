"""engine.start_many: 100,000 cases with their first task, start audit and timer, beside one
hand-written INSERT … SELECT per table doing the same rows, in the same run.

    .venv/bin/python bench/bench_start_many.py                     # PostgreSQL `bench`
    .venv/bin/python bench/bench_start_many.py --members 20000 --db sqlite:////tmp/bench-sm.sqlite

The bench fills N members (bench/fill.py), declares a day-3-call-like process (a call task for
the member's associate, due at the end of the day, and a timer), and starts one case per member
three times: through start_many (timed), again through start_many (every dedupe key exists:
nothing opens, timed), and through hand-written SQL writing the same cases, audits, tasks and
timers (timed per statement; deleted at the start of the next run). On PostgreSQL each timed
part starts after a CHECKPOINT (and the first after a VACUUM ANALYZE of the clean-up), so
neither pays for writing out what the step before it dirtied. Target (issue #10): start_many
and the hand SQL ≤ 10 s for 100,000 on PostgreSQL (a quiet machine; on a shared one read the
ratio and the per-statement split).

Where the time goes (EXPLAIN (ANALYZE, BUFFERS, WAL) of each INSERT, rolled back): with foreign
keys, about half was their per-row triggers ("Trigger for constraint …: calls=100000", eleven per
case, four of them on NULL columns that still fire); the rest is heap and index writes (a case row
has 6 indexes, a task 6 written at creation, a start audit 2, a timer 3). Migration a5aab2a92c56
took two checks and four index writes off each task; migration c4e1d7a9b352 turned the eleven
keys into one statement-level check per table over the inserted rows on PostgreSQL
(webapp/models/references.py).

SQLite (2026-11-30, shared 2-core machine): start_many ran the source again for every new case
(the task INSERT joined the new cases to the source as a subquery on dedupe_key, which SQLite
inlined: a scan of member ⋈ store per case). 2,000 members: 0.81–2.17 s against the hand SQL's
0.02–0.11 s; 20,000: 82 s (load 0.4 → 2.4) and 154 s (load 5.7 → 6.2) against 0.7 s. Now the
source is read once into an indexed TEMP table: 2,000 0.12–0.35 s (the SQL itself ~25 ms, most
of the rest the first import of `holidays` in the process; hand 0.03–0.10 s), 20,000
0.37–0.94 s (hand 0.46–0.68 s, ratio 0.8–2.0), at load 3.6–7.7.
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_PG, DEFAULT_REDIS, ensure_database, make_app, reset_schema  # noqa: E402


def declare():
    from webapp.models import Role
    from webapp.workflows import engine
    from webapp.workflows.engine import Process, TaskSpec, Timer, Transition

    return engine.register(Process(
        name="bench_call", label="三天回访", states={"call": "待致电", "late": "未按时", "done": "完成"},
        initial="call", start_roles=frozenset(),
        transitions=(Transition("done", "完成", ("call", "late"), "done",
                                frozenset({Role.ASSOCIATE})),
                     Transition("mark_late", "逾期", ("call",), "late", frozenset(), system=True)),
        tasks={"call": TaskSpec("call", "三天回访", Role.ASSOCIATE, due_setting="mailbox_check_due",
                                remind_setting="mailbox_check_remind_hours",
                                escalate_to=Role.STORE_MANAGER)},
        timers={"call": (Timer("mark_late", due_setting="registration_completion_due"),)},
        final=frozenset({"done"})))


def source():
    from sqlalchemy import String, literal, select

    from webapp.models import Member, Store

    return (select((literal("三天回访 ") + Member.card_no).label("title"),
                   Member.store_id.label("store_id"), Store.area_id.label("area_id"),
                   Member.id.label("member_id"),
                   (literal("bench_call:") + Member.id.cast(String)).label("dedupe_key"),
                   Member.associate_id.label("assignee_id"))
            .join(Store, Store.id == Member.store_id))


HAND_SQL = [
    """INSERT INTO "case" (process, state, version, title, store_id, area_id, member_id,
                          created_at, updated_at, data, dedupe_key)
       SELECT 'hand_call', 'call', 1, '三天回访 ' || m.card_no, m.store_id, s.area_id, m.id,
              :now, :now, '{}', 'hand_call:' || m.id
       FROM member m JOIN store s ON s.id = m.store_id""",
    """INSERT INTO audit_event (case_id, object_type, object_id, at, action, to_state, comment, data)
       SELECT c.id, 'case', c.id, :now, 'start', 'call', '', '{}' FROM "case" c
       WHERE c.process = 'hand_call'""",
    """INSERT INTO task (case_id, name, role, store_id, area_id, assignee_id, status, due_at,
                        remind_at, escalate_to, created_at)
       SELECT c.id, 'call', 'ASSOCIATE', c.store_id, c.area_id, m.associate_id, 'open', :now, :now,
              'STORE_MANAGER', :now
       FROM "case" c JOIN member m ON m.id = c.member_id WHERE c.process = 'hand_call'""",
    """INSERT INTO case_timer (case_id, state, transition, case_version, due_at)
       SELECT c.id, 'call', 'mark_late', 1, :now FROM "case" c WHERE c.process = 'hand_call'""",
]


BENCH_CASES = """(SELECT id FROM "case" WHERE process IN ('bench_call', 'hand_call'))"""
CLEAN_SQL = [f"DELETE FROM {table} WHERE case_id IN {BENCH_CASES}"
             for table in ("audit_event", "case_timer")] + [
    f"DELETE FROM notification WHERE task_id IN (SELECT id FROM task WHERE case_id IN {BENCH_CASES})",
    f"DELETE FROM task WHERE case_id IN {BENCH_CASES}",
    """DELETE FROM "case" WHERE process IN ('bench_call', 'hand_call')"""]


def configure_robots(db, every: int) -> int:
    """A group robot for every `every`-th store (0: none), so start_many pays for its summaries;
    the previous run's robots and posts go first."""
    from sqlalchemy import delete, select

    from webapp.models import GroupRobot, StaffPost, Store

    db.session.execute(delete(StaffPost))
    db.session.execute(delete(GroupRobot))
    stores = db.session.scalars(select(Store.id).order_by(Store.id)).all() if every else []
    db.session.add_all(GroupRobot(kind="wecom", name=f"bench {store_id}", store_id=store_id,
                                  url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=bench",
                                  url_hint="bench")
                       for store_id in stores[::every])
    db.session.commit()
    return len(stores[::every])


def settle(db, *, vacuum: bool = False) -> None:
    """PostgreSQL: each timed part starts from written-out buffers (a CHECKPOINT), so neither
    pays for writing what the previous step dirtied (the clean-up's deletes, the other way's
    rows); after the clean-up, VACUUM ANALYZE first (dead rows out of the indexes)."""
    if db.engine.dialect.name != "postgresql":
        return
    from sqlalchemy import text

    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if vacuum:
            conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default=DEFAULT_PG)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--robot-every", type=int, default=4,
                        help="a group robot for every N-th store (0: none)")
    args = parser.parse_args()
    ensure_database(args.db)
    app = make_app(args.db, args.redis)
    from sqlalchemy import func, select, text

    from webapp.extensions import db
    from webapp.models import Case, Task
    from webapp import alarms
    from webapp.workflows import engine

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from fill import fill

    with app.app_context():
        from webapp.models import Member
        try:
            reuse = db.session.scalar(select(func.count()).select_from(Member)) == args.members
        except Exception:  # noqa: BLE001 - no schema yet
            db.session.rollback()
            reuse = False
    if reuse:  # the filled members of a previous run: only this bench's cases go
        with app.app_context():
            if db.engine.dialect.name == "postgresql":  # statistics of the rows to delete (the
                # last ANALYZE saw none: a nested loop over 200,000 audits took minutes)
                db.session.execute(text('ANALYZE "case", task, audit_event, case_timer'))
            for statement in CLEAN_SQL:
                db.session.execute(text(statement))
            db.session.commit()
    else:
        reset_schema(app)
    with app.app_context():
        if not reuse:
            fill(args.members, log=lambda *a: None)
            db.session.commit()
        robots = configure_robots(db, args.robot_every)
        settle(db, vacuum=True)
        process = declare()
        alarms.enqueue_alarms = lambda seconds: None  # the bench measures the database part
        now = datetime.now(timezone.utc)

        t0 = time.perf_counter()
        ids = engine.start_many(process, source(), now=now)
        db.session.commit()
        first = time.perf_counter() - t0
        tasks = db.session.scalar(select(func.count()).select_from(Task)
                                  .join(Case, Case.id == Task.case_id)
                                  .where(Case.process == "bench_call"))
        t0 = time.perf_counter()
        again = engine.start_many(process, source(), now=now)
        db.session.commit()
        second = time.perf_counter() - t0

        settle(db)
        t0, parts = time.perf_counter(), []
        for statement in HAND_SQL:
            t1 = time.perf_counter()
            db.session.execute(text(statement), {"now": now})
            parts.append(time.perf_counter() - t1)
        t1 = time.perf_counter()
        db.session.commit()
        parts.append(time.perf_counter() - t1)
        hand = time.perf_counter() - t0
        dialect = db.engine.dialect.name

    print(f"database: {dialect}, members: {args.members:,}, group robots: {robots}")
    print(f"start_many:           {len(ids):>8,} cases, {tasks:,} tasks in {first:6.2f} s")
    print(f"start_many again:     {len(again):>8,} cases opened     in {second:6.2f} s (all keys exist)")
    print(f"hand INSERT … SELECT: {args.members:>8,} cases           in {hand:6.2f} s")
    print("  of which " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in zip(
        ("cases", "audits", "tasks", "timers", "commit"), parts)))
    print(f"ratio start_many / hand: {first / hand:.2f}")


if __name__ == "__main__":
    main()
