"""What /healthz reports: database, Redis, workers on the queue, and the working-day calendar.

A failed probe ends its transaction here (the service owns it), so the view only renders."""
from __future__ import annotations

from rq import Worker
from sqlalchemy import text

from ..extensions import db
from ..queue import redis_conn


def state(*, queue_name: str) -> dict:
    """The health report; "status" is "ok" when the database, Redis and a worker are up."""
    report = {"database": _check(lambda: db.session.execute(text("SELECT 1")).scalar() == 1)}
    report["redis"] = _check(lambda: redis_conn().ping())
    workers = 0
    if report["redis"] == "ok":
        try:
            workers = len([w for w in Worker.all(connection=redis_conn())
                           if queue_name in w.queue_names()])
        except Exception:  # noqa: BLE001 — health must answer, whatever broke
            workers = 0
    report["workers"] = workers
    report["calendar"] = _calendar() if report["database"] == "ok" else "unknown"
    up = report["database"] == "ok" and report["redis"] == "ok" and workers > 0
    report["status"] = "ok" if up else "degraded"
    return report


def _check(probe) -> str:
    try:
        return "ok" if probe() else "error"
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def _calendar() -> dict:
    """The needed years' sources and the uncovered ones ("gap" when there are any)."""
    from .admin import calendar_coverage

    try:
        coverage = calendar_coverage()
    except Exception as exc:  # noqa: BLE001 — health must answer, whatever broke
        db.session.rollback()
        return {"status": f"error: {type(exc).__name__}"}
    sources = {str(r["year"]): r["source"] for r in coverage["rows"] if r["needed"]}
    return {"status": "gap" if coverage["uncovered"] else "ok", "years": sources,
            "uncovered": coverage["uncovered"]}
