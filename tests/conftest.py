"""Shared fixtures: a real database (SQLite file, or PostgreSQL via DATABASE_URL) migrated once,
emptied after each test; a real Redis (REDIS_URL, or a private redis-server on a free port)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url():
    """REDIS_URL when given, else a private redis-server started for this test session."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    port, workdir = _free_port(), tempfile.mkdtemp(prefix="crm-redis-")
    proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port),
                             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    yield os.environ["REDIS_URL"]
    proc.terminate()
    proc.wait(5)
    shutil.rmtree(workdir, ignore_errors=True)


def _compile_catalog() -> None:
    """The .po is the source and the .mo is gitignored (`make` compiles it); compile it here
    when missing or stale so that `pytest` alone works on a fresh checkout."""
    po = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile",
                        "-d", str(ROOT / "translations")], check=True, cwd=ROOT)


@pytest.fixture(scope="session")
def app(redis_url, tmp_path_factory):
    """The app on the test database, schema built by the real migrations."""
    _compile_catalog()
    os.environ.setdefault("INSTANCE_DIR", str(tmp_path_factory.mktemp("instance")))
    import config

    config.TestConfig.REDIS_URL = redis_url
    config.TestConfig.INSTANCE_DIR = os.environ["INSTANCE_DIR"]
    if not os.environ.get("DATABASE_URL"):
        config.TestConfig.SQLALCHEMY_DATABASE_URI = (
            f"sqlite:///{Path(os.environ['INSTANCE_DIR']) / 'test.sqlite'}")
    from flask_migrate import upgrade
    from sqlalchemy import text

    from webapp import create_app
    from webapp.extensions import db

    app = create_app(config.TestConfig)
    with app.app_context():
        db.drop_all()
        db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
    yield app


@pytest.fixture(autouse=True)
def _clean(request):
    """Empty every table and flush Redis after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    from sqlalchemy import text

    from webapp.extensions import db
    from webapp.queue import redis_conn

    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables)
                                    + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                db.session.execute(text(f'DELETE FROM "{table}"'))
        db.session.commit()
        redis_conn().flushdb()


@pytest.fixture
def ctx(app):
    """An app context with a clean session for service-level tests."""
    from webapp.extensions import db

    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def org(ctx):
    """The small organisation every test starts from (see tests/factories.py)."""
    from tests.factories import make_org

    return make_org()


@pytest.fixture
def login(client):
    """login('hq') logs the test client in as that user (password 'pw')."""
    def _login(username: str, password: str = "pw"):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.data.decode()[:500]
        return client
    return _login
