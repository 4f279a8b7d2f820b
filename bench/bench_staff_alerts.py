"""What group robots cost the deadline sweep: N tasks overdue at once, `process_due` timed
without any robot registered and with one (the overdue posts are written in the same
transaction as the escalations), and how many posts that makes.

    .venv/bin/python bench/bench_staff_alerts.py                       # PostgreSQL `bench_robots`
    .venv/bin/python bench/bench_staff_alerts.py --db sqlite:////tmp/bench-robots.sqlite -n 10000
"""
from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, ensure_database, make_app, reset_schema  # noqa: E402
from bench_deadlines import create_tasks  # noqa: E402


def run(app, n: int, with_robot: bool) -> tuple[float, int, int]:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import GroupRobot, StaffPost, Store, Task
    from webapp.services.deadlines import process_due

    reset_schema(app)
    with app.app_context():
        create_tasks(n, datetime.now(timezone.utc) - timedelta(hours=1), 60)
        if with_robot:
            store = db.session.scalar(select(Store))
            db.session.add(GroupRobot(kind="wecom", name="bench", store_id=store.id,
                                      url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x",
                                      url_hint="bench"))
            db.session.commit()
        started = time.perf_counter()
        counts = process_due()
        elapsed = time.perf_counter() - started
        escalated = db.session.scalar(select(func.count()).select_from(Task)
                                      .where(Task.escalated_at.is_not(None)))
        posts = db.session.scalar(select(func.count()).select_from(StaffPost))
        assert counts["escalate"] == escalated == n
        db.session.remove()
    return elapsed, escalated, posts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="postgresql://postgres@127.0.0.1:5432/bench_robots")
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()
    ensure_database(args.db)
    app = make_app(args.db, DEFAULT_REDIS)
    for with_robot in (False, True):
        elapsed, escalated, posts = run(app, args.n, with_robot)
        print(f"{'with a store robot' if with_robot else 'no robot          '}: {escalated} tasks "
              f"escalated in {elapsed:.2f} s, {posts} group posts")


if __name__ == "__main__":
    main()
