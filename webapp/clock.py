"""The one source of "now" (UTC, aware); tests move it with time-machine."""
from datetime import datetime, timezone


def now() -> datetime:
    """Current time as an aware UTC datetime."""
    return datetime.now(timezone.utc)


def as_utc(dt: datetime | None) -> datetime | None:
    """Treat naive datetimes read back from SQLite as UTC; an aware one becomes UTC (SQLite
    stores the wall-clock digits as they are, so a Shanghai time compared as text is 8 h off)."""
    if dt is None:
        return dt
    if dt.tzinfo is not None:
        return dt.astimezone(timezone.utc)
    return dt.replace(tzinfo=timezone.utc)
