"""GET /healthz: database, Redis and workers, as JSON (200 when all are up, 503 otherwise).

It also reports the working-day calendar: the source of each year whose holidays must be known
by today (this year, and from 1 November the next) and the ones no source covers. A gap does
not make the service unhealthy (deadlines are still computed, Monday to Friday, and marked),
so it leaves the status code alone; monitoring reads `calendar.status`."""
from flask import Blueprint, current_app, jsonify
from rq import Worker
from sqlalchemy import text

from ..extensions import db
from ..queue import redis_conn

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    state = {"database": _check(lambda: db.session.execute(text("SELECT 1")).scalar() == 1)}
    state["redis"] = _check(lambda: redis_conn().ping())
    workers = 0
    if state["redis"] == "ok":
        try:
            workers = len([w for w in Worker.all(connection=redis_conn())
                           if current_app.config["RQ_QUEUE"] in w.queue_names()])
        except Exception:  # noqa: BLE001 — health must answer, whatever broke
            workers = 0
    state["workers"] = workers
    state["calendar"] = _calendar() if state["database"] == "ok" else "unknown"
    up = state["database"] == "ok" and state["redis"] == "ok" and workers > 0
    state["status"] = "ok" if up else "degraded"
    return jsonify(state), 200 if up else 503


def _check(probe) -> str:
    try:
        return "ok" if probe() else "error"
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def _calendar() -> dict:
    """The needed years' sources and the uncovered ones ("gap" when there are any)."""
    from ..services.admin import calendar_coverage

    try:
        coverage = calendar_coverage()
    except Exception as exc:  # noqa: BLE001 — health must answer, whatever broke
        db.session.rollback()
        return {"status": f"error: {type(exc).__name__}"}
    sources = {str(r["year"]): r["source"] for r in coverage["rows"] if r["needed"]}
    return {"status": "gap" if coverage["uncovered"] else "ok", "years": sources,
            "uncovered": coverage["uncovered"]}
