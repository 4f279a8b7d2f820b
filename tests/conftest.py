"""Shared fixtures, and the conditions every test runs under.

Clock. No test reads the real date. An autouse fixture (`travel`) puts every test under
time-machine's clock, started at CRM_TEST_TODAY and ticking (tick=True): by default 2026-11-18
10:00 Asia/Shanghai, an ordinary Wednesday. CRM_TEST_TODAY takes `YYYY-MM-DD` (10:00 in
Shanghai), `YYYY-MM-DD HH:MM` (Shanghai) or an ISO time with its offset. A test that needs
another moment travels itself (`time_machine.travel(...)`, the `time_machine` fixture, or
`travel.move_to(...)`/`travel.shift(...)` on this fixture) or passes `now=`: travels nest. The
clock moves in every thread of the test process (the browser tests' live server too) but not in
other processes: Chromium and redis-server keep the real time. That is safe because nothing the
app hands them depends on the date (no cookie carries an expiry, CSRF tokens have no time limit,
the RQ scheduler decides in Python what is due). `make test-dates` (and CI) runs every test but
the slow ones (unless marked `dated`) again at other todays (month end, New Year's Eve, New
Year's Day just after midnight, a Spring Festival week, 29 February): a test that assumed a date
fails there.

Database. A SQLite file (per worker), or PostgreSQL when DATABASE_URL is set: under pytest-xdist
each worker gets its own database, `<name>_gw0`, `<name>_gw1`…, created when missing (so is the
database named in DATABASE_URL). The schema is built once per worker by the real migrations.
Each test runs inside one transaction that is rolled back at its end: every session of the test
thread (the test's own, each request's, an in-process RQ job's) shares one connection, and its
commits go to savepoints. Tests whose commits must really reach the database, because another
thread, another connection or the file itself reads them, are marked `commits` (using the
`live_server` fixture or the `postgres` marker implies it); the tables are emptied after those.
On PostgreSQL the sequences are reset after every test, so ids start at 1 either way.
Tests marked `postgres` need PostgreSQL: on SQLite they are skipped (CI runs the suite on
PostgreSQL too); with CI=true, a `postgres` test that skips on PostgreSQL fails.

Redis. REDIS_URL when given (each xdist worker uses the next database index: /0, /1, …), else a
private redis-server per worker on a free port; flushed after each test.

PDF fonts. PDF_FONT_DIR defaults to instance/fonts of this checkout, the subset `make setup`
builds (a build there is locked, so parallel workers wait for one another), instead of a
throw-away instance directory where each test process would spend ~10 s building it again.

Parallel. `make test` runs the suite with pytest-xdist (`-n auto`, see scripts/test.sh); plain
`python -m pytest` runs in one process.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, time as clock_time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import HealthCheck, settings as hypothesis_settings

# Property-based tests (tests/routes/test_form_properties.py): bounded and the same examples every
# run (a failure is a finding, never luck); the rolled-back transaction of the test spans all of
# its examples, which is what the function-scoped fixtures health check is about.
hypothesis_settings.register_profile(
    "crm", max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "20")), deadline=None,
    derandomize=True, database=None, print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large, HealthCheck.filter_too_much])
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "crm"))

ROOT = Path(__file__).resolve().parent.parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_TODAY = "2026-11-18 10:00"  # a Wednesday, a working day, mid-month, mid-morning
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"… under xdist, else ""
IN_CI = os.environ.get("CI", "").lower() == "true"

# Before any test module imports webapp.pdf (it reads this at import time).
os.environ.setdefault("PDF_FONT_DIR", str(ROOT / "instance" / "fonts"))


def parse_today(text: str) -> datetime:
    """CRM_TEST_TODAY as an aware datetime: a day (10:00 Shanghai), a Shanghai time, or ISO."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return datetime.combine(datetime.fromisoformat(text).date(), clock_time(10),
                                    tzinfo=SHANGHAI)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise pytest.UsageError(f"CRM_TEST_TODAY={text!r}: expected YYYY-MM-DD, "
                                "YYYY-MM-DD HH:MM (Asia/Shanghai) or an ISO time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


TODAY = parse_today(os.environ.get("CRM_TEST_TODAY") or DEFAULT_TODAY)


def pytest_collection_modifyitems(config, items):
    """`postgres` tests skip on SQLite, with the reason in the summary (-ra)."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL: DATABASE_URL=postgresql://… (CI runs it)")
    for item in items:
        if item.get_closest_marker("postgres"):
            item.add_marker(skip)


def pytest_report_header(config):
    return f"today (CRM_TEST_TODAY): {TODAY.isoformat()}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker_number() -> int:
    return int(WORKER[2:]) if WORKER.startswith("gw") else 0


# --------------------------------------------------------------------------- clock

@pytest.fixture(autouse=True)
def travel():
    """Every test starts at TODAY (CRM_TEST_TODAY) and the clock ticks from there; the
    time-machine Traveller is yielded, for tests that move it (`travel.shift(...)`)."""
    with time_machine.travel(TODAY, tick=True) as traveller:
        yield traveller


# --------------------------------------------------------------------------- signals

@pytest.fixture(autouse=True)
def _signal_handlers():
    """SIGINT and SIGTERM handled as before the test: an in-process RQ worker (SimpleWorker,
    burst) installs its own and leaves them, after which Ctrl-C or `timeout`'s SIGTERM only
    raised StopRequested in whatever test was running and the run went on (it could not be
    stopped)."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    yield
    for sig, handler in saved.items():
        if signal.getsignal(sig) is not handler:
            signal.signal(sig, handler)


# --------------------------------------------------------------------------- Redis

@pytest.fixture(scope="session")
def redis_url():
    """REDIS_URL when given (xdist worker N: database index + N), else a private
    redis-server started for this test process."""
    given = os.environ.get("REDIS_URL")
    if given:
        parts = urlsplit(given)
        index = int(parts.path.strip("/") or 0) + _worker_number()
        os.environ["REDIS_URL"] = urlunsplit(parts._replace(path=f"/{index}"))
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


# --------------------------------------------------------------------------- database

def _compile_catalog() -> None:
    """The .po is the source and the .mo is gitignored (`make` compiles it); compile it here
    when missing or stale so that `pytest` alone works on a fresh checkout."""
    po = ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    mo = po.with_suffix(".mo")
    if po.exists() and (not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime):
        subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile",
                        "-d", str(ROOT / "translations")], check=True, cwd=ROOT)


def _postgres_database(url: str) -> str:
    """This worker's database on the server of DATABASE_URL (`<name>_gwN` under xdist),
    created when missing."""
    import psycopg
    from psycopg import conninfo, sql

    url = "postgresql://" + url.split("://", 1)[1]
    parts = urlsplit(url)
    name = (parts.path.strip("/") or "test") + (f"_{WORKER}" if WORKER else "")
    url = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            raise pytest.UsageError(f"cannot connect to DATABASE_URL: {exc}") from None
        with psycopg.connect(conninfo.make_conninfo(url, dbname="postgres"), autocommit=True,
                             connect_timeout=5) as conn:
            # Two workers creating their databases from template1 at once may collide.
            conn.execute("SELECT pg_advisory_lock(4242)")
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.DuplicateDatabase:
                pass
    return url


@pytest.fixture(scope="session")
def app(redis_url, tmp_path_factory):
    """The app on the test database, schema built by the real migrations."""
    _compile_catalog()
    os.environ.setdefault("INSTANCE_DIR", str(tmp_path_factory.mktemp("instance")))
    import config

    config.TestConfig.REDIS_URL = redis_url
    config.TestConfig.INSTANCE_DIR = os.environ["INSTANCE_DIR"]
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        os.environ["DATABASE_URL"] = _postgres_database(os.environ["DATABASE_URL"])
        config.TestConfig.SQLALCHEMY_DATABASE_URI = config._database_url()
        # A commit need not wait for the disk: nothing survives a test anyway.
        config.TestConfig.SQLALCHEMY_ENGINE_OPTIONS = {
            **config.Config.SQLALCHEMY_ENGINE_OPTIONS,
            "connect_args": {"options": "-c synchronous_commit=off"}}
    elif not os.environ.get("DATABASE_URL"):
        name = f"test-{WORKER}.sqlite" if WORKER else "test.sqlite"
        config.TestConfig.SQLALCHEMY_DATABASE_URI = (
            f"sqlite:///{Path(os.environ['INSTANCE_DIR']) / name}")
    from flask_migrate import upgrade
    from sqlalchemy import text

    from webapp import create_app
    from webapp.extensions import db

    app = create_app(config.TestConfig)
    # A session bound to the per-test connection (below) commits to a savepoint of its
    # transaction; bound to the engine, as in production, this option does nothing.
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            # whatever revision the database was at: drop_all orders the drops by today's
            # foreign keys, which an older schema may not match (care_line had some)
            db.session.execute(text("DROP SCHEMA public CASCADE"))
            db.session.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
            db.session.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.session.commit()
        upgrade()
        app.extensions["test_sequences"] = _sequences()
    yield app


def _sequences() -> list[str]:
    """PostgreSQL's sequences of the schema (ids), to reset after each test."""
    from sqlalchemy import text

    from webapp.extensions import db

    if db.engine.dialect.name != "postgresql":
        return []
    return list(db.session.scalars(text(
        "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = current_schema()")))


def needs_commits(request) -> bool:
    node = request.node
    return bool(node.get_closest_marker("commits") or node.get_closest_marker("postgres")
                or "live_server" in request.fixturenames)


@pytest.fixture(autouse=True)
def _database(request, travel):
    """Each test that uses the app runs in a transaction rolled back at its end (or, marked
    `commits`, is followed by emptying every table); Redis is flushed after it."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    try:
        if needs_commits(request):
            yield
            _empty_tables(app)
        else:
            with _rolled_back(app):
                yield
    finally:
        with app.app_context():
            from webapp.queue import redis_conn

            redis_conn().flushdb()


@contextmanager
def _rolled_back(app):
    """Every session of the test binds to one connection inside a transaction that is rolled
    back at the end; sessions commit to savepoints (join_transaction_mode, see `app`)."""
    from flask_sqlalchemy.session import Session
    from sqlalchemy import text

    from webapp.extensions import db

    with app.app_context():
        connection = db.engine.connect()
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # pysqlite begins transactions itself, and a RELEASE of the outermost savepoint would
        # commit: hand it the transaction control (SQLAlchemy's documented recipe).
        raw = connection.connection.driver_connection
        raw.isolation_level = None
    outer = connection.begin()
    if sqlite:
        connection.exec_driver_sql("BEGIN")
    original = Session.get_bind
    Session.get_bind = (lambda self, mapper=None, clause=None, bind=None, **kw:
                        connection if bind is None else bind)
    try:
        yield
    finally:
        Session.get_bind = original  # the sessions are gone: app contexts pop, and remove theirs
        outer.rollback()
        if sqlite:
            raw.isolation_level = ""
        connection.close()
        sequences = app.extensions["test_sequences"]
        if sequences:
            with app.app_context(), db.engine.connect() as conn:
                conn.execute(text("SELECT " + ", ".join(f"setval('{s}', 1, false)"
                                                        for s in sequences)))
                conn.commit()


def _empty_tables(app) -> None:
    from sqlalchemy import text

    from webapp.extensions import db

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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """With CI=true, a `postgres` test may not skip while the database is PostgreSQL."""
    report = yield
    if (IN_CI and report.skipped and item.get_closest_marker("postgres")
            and os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))):
        report.outcome = "failed"
        report.longrepr = f"CI=true: a postgres test skipped on PostgreSQL: {report.longrepr}"
    return report


# --------------------------------------------------------------------------- app fixtures

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
def in_process_jobs(app, monkeypatch):
    """RQ jobs (jobs/__init__.py) build their app lazily with the default Config; here they run
    in the test app, so a worker started in the test (rq.SimpleWorker, burst) sees its data."""
    import jobs

    monkeypatch.setattr(jobs, "app", lambda: app)


@pytest.fixture
def login(client):
    """login('hq') logs the test client in as that user (password 'pw')."""
    def _login(username: str, password: str = "pw"):
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.data.decode()[:500]
        return client
    return _login


@pytest.fixture
def redis_down(app):
    """Point the app's queue at a port where nothing listens, for the duration of a test."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    saved_url, saved_client = app.config["REDIS_URL"], app.extensions.pop("redis", None)
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{port}/0"
    yield
    app.config["REDIS_URL"] = saved_url
    app.extensions.pop("redis", None)
    if saved_client is not None:
        app.extensions["redis"] = saved_client


@pytest.fixture
def receiver():
    """A WeCom / DingTalk / webhook receiver on a local port (tests/messaging/receivers.py)."""
    from tests.messaging.receivers import Receiver

    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def mailbox(monkeypatch):
    """A local SMTP server, with the SMTP_* environment pointing at it."""
    from tests.messaging.receivers import Mailbox

    box = Mailbox()
    for key, value in box.environ().items():
        monkeypatch.setenv(key, value)
    yield box
    box.close()
