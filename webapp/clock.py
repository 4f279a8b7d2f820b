"""The one source of "now" (UTC, aware); tests move it with time-machine."""
from datetime import datetime, timezone


def now() -> datetime:
    """Current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def as_utc(dt: datetime | None) -> datetime | None:
    """Treat naive datetimes read back from SQLite as UTC."""
    if dt is None or dt.tzinfo is not None:
        return dt
    return dt.replace(tzinfo=timezone.utc)
