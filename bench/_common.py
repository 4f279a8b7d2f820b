"""Helpers shared by the benchmarks: a bench app on its own database, schema reset, percentiles."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/bench"
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


def make_app(db_url: str, redis_url: str, queue_name: str = "bench",
             instance_dir: str | None = None, **extra):
    """The real app on the bench database (config subclass, nothing monkeypatched)."""
    instance_dir = instance_dir or tempfile.mkdtemp(prefix="crm-bench-")
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
