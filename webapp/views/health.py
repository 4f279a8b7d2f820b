"""GET /healthz: database, Redis and workers, as JSON (200 when all are up, 503 otherwise).

It also reports the working-day calendar: the source of each year whose holidays must be known
by today (this year, and from 1 November the next) and the ones no source covers. A gap does
not make the service unhealthy (deadlines are still computed, Monday to Friday, and marked),
so it leaves the status code alone; monitoring reads `calendar.status`."""
from flask import Blueprint, current_app, jsonify

from ..services import health

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    state = health.state(queue_name=current_app.config["RQ_QUEUE"])
    return jsonify(state), 200 if state["status"] == "ok" else 503
