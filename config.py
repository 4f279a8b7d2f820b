"""Settings classes; every value can be overridden from the environment."""
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", BASE_DIR / "instance"))


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        # psycopg 3 is the driver we ship; plain URLs from hosting panels name no driver.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url or f"sqlite:///{INSTANCE_DIR / 'crm.sqlite'}"


class Config:
    PRODUCTION = os.environ.get("CRM_ENV") == "production"
    SECRET_KEY = os.environ.get("SECRET_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    RQ_QUEUE = os.environ.get("RQ_QUEUE", "crm")
    MEMBER_DATA_KEY = os.environ.get("MEMBER_DATA_KEY", "")
    MEMBER_DATA_KEY_FILE = ""  # set when the key was read from instance/member.key
    MEMBER_KEY_CHECK = True  # refuse to start on a key the data is not under (services/member_key.py)
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")  # Flask-Babel: else webapp/
    LANGUAGES = ("zh_CN", "en")
    # Cookies: not readable by scripts, not sent on cross-site posts, HTTPS only in production.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = PRODUCTION
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = PRODUCTION
    SESSION_HOURS = int(os.environ.get("SESSION_HOURS", "12"))  # a login lasts at most this long
    SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "120"))  # and ends when idle
    PERMANENT_SESSION_LIFETIME = SESSION_HOURS * 3600
    # A form's CSRF token is tied to the session (Flask-WTF) and expires with the login.
    WTF_CSRF_TIME_LIMIT = SESSION_HOURS * 3600
    LOGIN_WINDOW_MINUTES = int(os.environ.get("LOGIN_WINDOW_MINUTES", "15"))  # failures counted
    # X-Forwarded-For is believed only from these peers (the reverse proxy), as gunicorn does.
    FORWARDED_ALLOW_IPS = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
    INBOX_PAGE_SIZE = 50
    BATCH_RETENTION_DAYS = int(os.environ.get("BATCH_RETENTION_DAYS", "30"))  # filing-batch PDFs
    # Request bodies: pages (the till file import is the largest) and the till API (1,000 sales).
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024
    API_MAX_CONTENT_LENGTH = int(os.environ.get("API_MAX_BODY_KB", "1024")) * 1024
    API_RATE_PER_MINUTE = int(os.environ.get("API_RATE_PER_MINUTE", "120"))  # per till token
    INSTANCE_DIR = str(INSTANCE_DIR)
    # Links in group-robot messages, digests and e-mails point here (the address staff open).
    APP_BASE_URL = os.environ.get("APP_BASE_URL", "http://localhost:5000").rstrip("/")


class TestConfig(Config):
    TESTING = True
    MEMBER_KEY_CHECK = False  # the test database is rebuilt after the app; tests call verify()
    # Tests move the clock by days between requests of one login; test_sessions sets its own.
    SESSION_HOURS = SESSION_IDLE_MINUTES = 10 * 365 * 24
    API_RATE_PER_MINUTE = 100_000  # schemathesis posts hundreds a minute; test_request_limits sets its own
    WTF_CSRF_ENABLED = os.environ.get("TEST_CSRF", "0") == "1"
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") and _database_url() or (
        f"sqlite:///{INSTANCE_DIR / 'test.sqlite'}")
