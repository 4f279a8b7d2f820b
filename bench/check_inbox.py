"""Check, on a filled bench database, that the UNION-based inbox returns exactly what the
plain definition (one query with permissions.inbox_filter's OR) returns, for every user.

    .venv/bin/python bench/check_inbox.py [--db URL] [--pages 3]

Compares page by page (ids and order) with and without the process filter, and the counts
(exact, and capped at the badge limit).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_PG, DEFAULT_REDIS, make_app  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default=os.environ.get("DATABASE_URL", DEFAULT_PG))
    ap.add_argument("--pages", type=int, default=3)
    args = ap.parse_args()

    import bench_inbox
    from sqlalchemy import func, select

    from webapp import permissions
    from webapp.extensions import db
    from webapp.models import Case, Task, User
    from webapp.services import inbox

    app = make_app(args.db, DEFAULT_REDIS, "bench-inbox", bench_inbox.instance_dir(args.db))
    checked = mismatches = 0
    with app.app_context():
        users = db.session.scalars(select(User).order_by(User.id)).all()
        for user in users:
            exact = db.session.scalar(select(func.count(Task.id)).where(permissions.inbox_filter(user)))
            got = inbox.inbox_count(user)
            capped = inbox.inbox_count(user, cap=inbox.NAV_CAP)
            problems = []
            if got != exact or capped != min(exact, inbox.NAV_CAP):
                problems.append(f"count {got}/{capped} != {exact}")
            for process in (None, "registration"):
                for page in range(args.pages):
                    ref = (select(Task.id).where(permissions.inbox_filter(user))
                           .order_by(Task.due_at.asc().nulls_last(), Task.id)
                           .limit(50).offset(page * 50))
                    if process:
                        ref = ref.join(Case, Case.id == Task.case_id).where(Case.process == process)
                    want = db.session.scalars(ref).all()
                    have = [t.id for t in inbox.inbox_tasks(user, limit=50, offset=page * 50,
                                                            process=process)]
                    if want != have:
                        problems.append(f"page {page + 1} process={process}: {len(have)} rows "
                                        f"differ from {len(want)}")
            checked += 1
            if problems:
                mismatches += 1
                print(f"{user.username} ({user.role.value}): " + "; ".join(problems))
            db.session.expunge_all()
    print(f"checked {checked} users, {args.pages} pages each (with/without process filter): "
          f"{'all identical' if not mismatches else f'{mismatches} users differ'}")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
