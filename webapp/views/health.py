"""GET /healthz: database, Redis and workers, as JSON (200 when all are up, 503 otherwise)."""
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
    up = state["database"] == "ok" and state["redis"] == "ok" and workers > 0
    state["status"] = "ok" if up else "degraded"
    return jsonify(state), 200 if up else 503


def _check(probe) -> str:
    try:
        return "ok" if probe() else "error"
    except Exception as exc:  # noqa: BLE001
        db.session.rollback()
        return f"error: {type(exc).__name__}"
