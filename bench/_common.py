"""Helpers shared by the benchmarks: a bench app on its own database, schema reset, percentiles."""
from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench"
# The members-and-sales setup (fill_sales): one database the analyses, expiry and visit benches share.
SALES_PG = "postgresql://postgres@127.0.0.1:5432/bench_sales"
STORES, AREAS = 200, 20
FIRST_DAY, DAYS = date(2025, 1, 1), 730  # two years of sales: 2025 and 2026
DEFAULT_REDIS = "redis://127.0.0.1:6379/5"


def sqlalchemy_url(url: str) -> str:
    """The URL as config.py would normalise it (psycopg 3 for PostgreSQL)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database named in the URL when it does not exist yet."""
    url = sqlalchemy_url(url)
    if not url.startswith("postgresql"):
        Path(url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    target = make_url(url)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                           {"n": target.database}):
            conn.execute(text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()


def bench_env(db_url: str, redis_url: str, queue_name: str, instance_dir: str) -> dict:
    """Environment for a worker subprocess: the default Config reads everything from here."""
    env = dict(os.environ)
    env.update(DATABASE_URL=db_url, REDIS_URL=redis_url, RQ_QUEUE=queue_name,
               INSTANCE_DIR=instance_dir, PYTHONPATH=str(ROOT))
    return env


def stable_instance_dir(db_url: str) -> str:
    """An instance folder per bench database: the member-data key stays next to the data it
    encrypted (the app refuses to start on data recorded under another key), across runs."""
    import re

    name = re.sub(r"[^A-Za-z0-9]+", "_", db_url.split("@")[-1])[-60:]
    path = Path(os.environ.get("BENCH_INSTANCE_ROOT", tempfile.gettempdir() + "/crm-bench")) / name
    path.mkdir(parents=True, exist_ok=True)
    return str(path)


def make_app(db_url: str, redis_url: str, queue_name: str = "bench",
             instance_dir: str | None = None, **extra):
    """The real app on the bench database (config subclass, nothing monkeypatched)."""
    instance_dir = instance_dir or stable_instance_dir(db_url)
    os.environ.setdefault("INSTANCE_DIR", instance_dir)
    import config
    from webapp import create_app

    attrs = dict(SQLALCHEMY_DATABASE_URI=sqlalchemy_url(db_url), REDIS_URL=redis_url,
                 RQ_QUEUE=queue_name, INSTANCE_DIR=instance_dir)
    attrs.update(extra)
    cfg = type("BenchConfig", (config.Config,), attrs)
    return create_app(cfg)


def reset_schema(app) -> None:
    """Drop everything and rebuild the schema with the real migrations."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from webapp.extensions import db

    with app.app_context():
        if db.engine.dialect.name == "postgresql":  # whatever the schema's revision was
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        db.session.remove()


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-p * len(ordered) // 100))))
    return ordered[rank - 1]


def dialect(url: str) -> str:
    return "postgresql" if sqlalchemy_url(url).startswith("postgresql") else "sqlite"


# ------------------------------------------------------------------ members and sales (shared)

def fill_sales(app, members: int, lines: int) -> dict:
    """Areas, stores, members and sales generated in SQL; roll-ups rebuilt; statistics updated.

    The shared setup of the benches that need members with sales (analyses, card expiry, visit
    plan): 200 stores in 20 areas; member g belongs to store 1 + g % 200, 2 % still pending,
    cards valid 1–3 years; two years of sales (2025, 2026), 70 % member lines, 90 % of them at
    the member's home store. Seeded: the same arguments give the same rows."""
    from sqlalchemy import text

    from webapp.extensions import db
    from webapp.services import sales

    timings = {}
    with app.app_context():
        reset_schema(app)
        session = db.session
        session.execute(text("SET synchronous_commit = off"))
        # The generated rows are consistent by construction: skip the per-row foreign-key
        # triggers (at 10 M lines checking them took longer than writing the rows).
        session.execute(text("SET session_replication_role = replica"))
        session.execute(text("SELECT setseed(0.42)"))
        start = time.perf_counter()
        session.execute(text(
            f"INSERT INTO area (id, name) SELECT g, '片区' || g FROM generate_series(1, {AREAS}) g"))
        session.execute(text(
            f"INSERT INTO store (id, code, name, area_id) SELECT g, 'B' || lpad(g::text, 3, '0'), "
            f"'门店' || g, 1 + (g - 1) % {AREAS} FROM generate_series(1, {STORES}) g"))
        # Member g belongs to store 1 + g % STORES; 2 % still pending; cards valid 1–3 years.
        session.execute(text(f"""
            INSERT INTO member (id, card_no, card_type, status, store_id, name, gender, birth_year,
                                mobile_hash, occupation, preferences, heard_from, applied_on,
                                points, tier, card_expires_on, created_at)
            SELECT g, 'M' || g, 'temporary', CASE WHEN g % 50 = 0 THEN 'pending' ELSE 'active' END,
                   1 + g % {STORES}, '会员', CASE WHEN g % 3 = 0 THEN 'F' ELSE 'M' END,
                   1955 + (g::bigint * 7919) % 52, md5(g::text) || md5('m' || g), '', '', '', a.day, 0, 'C',
                   a.day + (365 * (1 + g % 3)), now()
            FROM generate_series(1, {members}) g
            CROSS JOIN LATERAL (SELECT date '2022-06-01' + ((g::bigint * 104729) % 1400)::int AS day) a"""))
        session.execute(text(f"SELECT setval(pg_get_serial_sequence('member', 'id'), {members})"))
        session.commit()
        timings["members"] = time.perf_counter() - start
        start = time.perf_counter()
        # 70 % member lines, 90 % of them at the member's home store.
        session.execute(text(f"""
            INSERT INTO sale (store_id, sale_no, member_id, sold_at, ym, amount_fen, items,
                              ticket_delta, source, created_at)
            SELECT st, 'N' || g, mid,
                   (day + make_interval(hours => 10 + (g % 12), mins => g % 60))
                       AT TIME ZONE 'Asia/Shanghai',
                   extract(year FROM day)::int * 100 + extract(month FROM day)::int,
                   (50 + floor(random() * 1500)::int) * 100, 1 + g % 3, 1, 'bench', now()
            FROM (
              SELECT g, x.mid, x.day,
                     CASE WHEN x.mid IS NOT NULL AND random() < 0.9 THEN 1 + x.mid % {STORES}
                          ELSE 1 + floor(random() * {STORES})::int END AS st
              FROM generate_series(1, {lines}) g
              CROSS JOIN LATERAL (
                SELECT CASE WHEN random() < 0.7 THEN 1 + floor(random() * {members})::int END AS mid,
                       date '{FIRST_DAY}' + floor(random() * {DAYS})::int AS day, g AS dummy) x
            ) s"""))
        session.commit()
        session.execute(text("RESET session_replication_role"))  # the pooled connection lives on
        session.commit()
        timings["sales"] = time.perf_counter() - start
        start = time.perf_counter()
        sales.rebuild_rollups()
        timings["rollups"] = time.perf_counter() - start
        db.session.remove()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            start = time.perf_counter()
            conn.execute(text("VACUUM ANALYZE"))
            timings["vacuum_analyze"] = time.perf_counter() - start
    return timings


def filled_sizes(app) -> tuple[int, int, bool]:
    """(members, sales lines, roll-ups built) already in the bench database; (0, 0, False)
    before any schema."""
    from sqlalchemy import text

    from webapp.extensions import db

    with app.app_context():
        try:
            return (db.session.execute(text("SELECT count(*) FROM member")).scalar(),
                    db.session.execute(text("SELECT count(*) FROM sale WHERE source = 'bench'")).scalar(),
                    db.session.execute(text("SELECT EXISTS (SELECT 1 FROM member_month)")).scalar())
        except Exception:  # noqa: BLE001 - no schema yet
            db.session.rollback()
            return 0, 0, False
        finally:
            db.session.remove()


def ensure_sales(app, members: int, lines: int, *, refill: bool = False,
                 rollups: bool = True) -> None:
    """Reuse the shared members-and-sales setup when it has this size (and its roll-ups, when
    the bench reads them: the analyses do, the expiry and visit benches read the raw lines);
    fill it otherwise."""
    have_members, have_lines, have_rollups = filled_sizes(app)
    if not refill and (have_members, have_lines) == (members, lines) and (have_rollups or not rollups):
        print(f"reusing the filled {members:,} members and {lines:,} sales lines", flush=True)
        return
    print(f"filling {members:,} members and {lines:,} sales lines …", flush=True)
    for step, seconds in fill_sales(app, members, lines).items():
        print(f"  {step:15} {seconds:7.1f} s", flush=True)
