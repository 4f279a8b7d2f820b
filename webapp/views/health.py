"""GET /healthz: database, Redis, workers, the sweeper's last run and the oldest unfired due
deadline, as JSON (200 when all are well, 503 otherwise); GET /metrics: the same for Prometheus.

It also reports the working-day calendar: the source of each year whose holidays must be known
by today (this year, and from 1 November the next) and the ones no source covers. A gap does
not make the service unhealthy (deadlines are still computed, Monday to Friday, and marked),
so it leaves the status code alone; monitoring reads `calendar.status`."""
import time

from flask import Blueprint, Response, g, jsonify, request
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, Histogram,
                               generate_latest)

from ..services import health, monitoring

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    state, up = monitoring.health()
    state["calendar"] = health.calendar() if state["database"] == "ok" else "unknown"
    state["status"] = "ok" if up else "degraded"
    return jsonify(state), 200 if up else 503


@bp.route("/metrics")
def metrics():
    """Prometheus text: queue depth, failed jobs, sweeper lag, the oldest unfired due deadline,
    request latency (this process). Nothing personal; restrict it at the proxy all the same."""
    state, up = monitoring.health()
    figures = monitoring.queue_figures() if state["redis"] == "ok" else {"depth": -1, "failed": -1}
    registry = CollectorRegistry()
    for name, doc, value in (
            ("crm_up", "1 when /healthz reports healthy", 1 if up else 0),
            ("crm_queue_depth", "jobs waiting in the RQ queue", figures["depth"]),
            ("crm_job_failures", "jobs in the failed-job registry", figures["failed"]),
            ("crm_workers", "RQ workers on the queue", state["workers"]),
            ("crm_sweeper_lag_seconds", "seconds since the sweeper last ran (-1: never)",
             -1 if state["sweeper_last_run_age_s"] is None else state["sweeper_last_run_age_s"]),
            ("crm_oldest_unfired_due_seconds", "how late the oldest due, unfired deadline is",
             -1 if state["oldest_unfired_due_s"] is None else state["oldest_unfired_due_s"])):
        Gauge(name, doc, registry=registry).set(value)
    body = generate_latest(registry) + generate_latest(LATENCY_REGISTRY)
    return Response(body, mimetype=CONTENT_TYPE_LATEST)


LATENCY_REGISTRY = CollectorRegistry()
LATENCY = Histogram("crm_request_seconds", "request latency in this web process", ["method"],
                    registry=LATENCY_REGISTRY,
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


@bp.before_app_request
def _start_clock():
    g.request_started = time.perf_counter()


@bp.after_app_request
def _stop_clock(response):
    started = g.pop("request_started", None)
    if started is not None:
        LATENCY.labels(request.method).observe(time.perf_counter() - started)
    return response
