"""Benchmark the sales import: a 100,000-row till file checked (preview), written, and re-imported.

    .venv/bin/python bench/bench_import.py [--url postgresql://postgres@127.0.0.1:5432/bench_import]
                                           [--rows 100000] [--format csv|xlsx]

Builds its own database (real migrations; 20 stores, 50,000 members inserted set-based), writes a
till export with 70 % member lines (half by card number, half by mobile, matched through the keyed
hash) and times the same service calls the import page makes. Target: 100,000 rows in ≤ 30 s.
"""
from __future__ import annotations

import argparse
import csv
import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DEFAULT_REDIS, dialect, ensure_database, make_app, reset_schema  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_import"
STORES, MEMBERS = 20, 50_000
HEADER = ["门店编码", "销售单号", "销售时间", "会员卡号", "会员手机", "金额", "件数", "导购", "原单号"]


def setup(app) -> list[tuple[str, str]]:
    """Stores, an HQ user and members; returns (card number, mobile) per member."""
    from sqlalchemy import insert

    from webapp.crypto import lookup_hash
    from webapp.extensions import db
    from webapp.models import Area, Member, Role, Store, User

    reset_schema(app)
    with app.app_context():
        area = Area(name="片区")
        db.session.add(area)
        db.session.flush()
        db.session.add_all([Store(code=f"B{i:02d}", name=f"门店{i}", area_id=area.id)
                            for i in range(1, STORES + 1)])
        db.session.add(User(username="hq", display_name="总部", role=Role.HQ_SPECIALIST))
        db.session.flush()
        people = [(f"M{i:07d}", f"139{i:08d}") for i in range(1, MEMBERS + 1)]
        rows = [{"card_no": card, "status": "active", "store_id": 1 + i % STORES, "name": "会员",
                 "gender": "M", "birth_year": 1990, "mobile_hash": lookup_hash("+86" + mobile),
                 "occupation": "", "preferences": "", "heard_from": "", "applied_on": "2024-01-01",
                 "points": 0, "tier": "C", "card_type": "temporary"}
                for i, (card, mobile) in enumerate(people)]
        from datetime import date

        for r in rows:
            r["applied_on"] = date(2024, 1, 1)
        for i in range(0, len(rows), 10_000):
            db.session.execute(insert(Member), rows[i:i + 10_000])
        db.session.commit()
    return people


def till_file(people, n: int, fmt: str) -> bytes:
    rng = random.Random(3)
    lines = []
    for i in range(n):
        card, mobile = rng.choice(people)
        kind = rng.random()
        lines.append([f"B{1 + i % STORES:02d}", f"T{i:07d}",
                      f"2026-{1 + i % 12:02d}-{1 + i % 28:02d} {10 + i % 11}:{i % 60:02d}",
                      card if kind < 0.35 else "", mobile if 0.35 <= kind < 0.7 else "",
                      f"{rng.randint(50, 3000)}.{rng.randint(0, 99):02d}", 1 + i % 3, "", ""])
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        sheet.append(HEADER)
        for line in lines:
            sheet.append(line)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(lines)
    return ("\ufeff" + out.getvalue()).encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
    args = parser.parse_args()
    ensure_database(args.url)
    app = make_app(args.url, DEFAULT_REDIS)
    people = setup(app)
    data = till_file(people, args.rows, args.format)
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.models import User
    from webapp.models import Sale
    from webapp.services import sales, sales_import

    with app.test_request_context():
        hq = db.session.scalar(select(User).where(User.username == "hq"))
        start = time.perf_counter()
        rows = sales_import.read_rows(data, f"till.{args.format}")
        t_read = time.perf_counter() - start
        checked = sales.check(rows, actor=hq)
        t_check = time.perf_counter() - start
        assert checked.ok, checked.errors[:5]
        db.session.rollback()
        start = time.perf_counter()
        done = sales_import.import_file(actor=hq, data=data, filename=f"till.{args.format}")
        t_import = time.perf_counter() - start
        start = time.perf_counter()
        again = sales_import.import_file(actor=hq, data=data, filename=f"till.{args.format}")
        t_again = time.perf_counter() - start
        stored = db.session.scalar(select(func.count()).select_from(Sale))
    print(f"{dialect(args.url)} {args.format}: {args.rows:,} rows ({len(data) / 1e6:.1f} MB)\n"
          f"  read file          {t_read:6.2f} s\n"
          f"  preview (read+check, nothing written) {t_check:6.2f} s\n"
          f"  import (read+check+write+roll-ups)    {t_import:6.2f} s   new {len(done.new):,}\n"
          f"  re-import same file                   {t_again:6.2f} s   new {len(again.new):,}, "
          f"already there {len(again.existing):,}; sales stored {stored:,}\n"
          f"  target: 100,000 rows ≤ 30 s → {'met' if t_import <= 30 * args.rows / 100_000 else 'MISSED'}")


if __name__ == "__main__":
    main()
