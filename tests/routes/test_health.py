"""GET /healthz: 200 only when database, Redis and an RQ worker on the app's queue are all up."""
from datetime import datetime, timezone

import pytest
import time_machine
from redis import Redis
from rq import Queue, Worker

import config
from webapp import create_app
from webapp.extensions import db
from webapp.services.monitoring import record_sweep


@pytest.fixture
def registered_worker(app, redis_url):
    """Register a real rq.Worker in the test Redis (no work loop), on the queue named by `name`."""
    started = []

    def _register(queue_name: str) -> Worker:
        conn = Redis.from_url(redis_url)
        worker = Worker([Queue(queue_name, connection=conn)], connection=conn)
        worker.register_birth()
        started.append(worker)
        if queue_name == app.config["RQ_QUEUE"]:  # a working worker: the sweeper ran just now
            with app.app_context():
                record_sweep()
        return worker

    yield _register
    for worker in started:
        worker.register_death()


def _services(report: dict) -> dict:
    """The report's services (the calendar is tested below, the heartbeat figures further down)."""
    return {k: v for k, v in report.items() if k in ("database", "redis", "workers", "status")}


def test_503_when_no_worker_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert _services(response.json) == {"database": "ok", "redis": "ok", "workers": 0,
                                        "status": "degraded"}


def test_200_when_a_worker_serves_the_queue(app, client, registered_worker):
    registered_worker(app.config["RQ_QUEUE"])
    response = client.get("/healthz")
    assert response.status_code == 200, response.json
    assert _services(response.json) == {"database": "ok", "redis": "ok", "workers": 1,
                                        "status": "ok"}


def test_a_worker_on_another_queue_does_not_count(app, client, registered_worker):
    registered_worker(app.config["RQ_QUEUE"] + "-other")
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json["workers"] == 0


def test_503_when_redis_is_down(app):
    """A second app on a closed port; the shared `app` fixture keeps its own Redis client."""
    class DeadRedisConfig(config.TestConfig):
        REDIS_URL = "redis://127.0.0.1:1/0"

    dead = create_app(DeadRedisConfig)
    try:
        response = dead.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json["redis"].startswith("error")
        assert response.json["database"] == "ok"
        assert response.json["workers"] == 0 and response.json["status"] == "degraded"
    finally:
        with dead.app_context():
            db.engine.dispose()


# --- the working-day calendar (issue #9) ------------------------------------------------------

def _at(y, m, d):
    return time_machine.travel(datetime(y, m, d, 4, 0, tzinfo=timezone.utc), tick=False)


def test_reports_next_year_uncovered_from_november_without_failing(app, client, registered_worker):
    with _at(2026, 11, 29):
        registered_worker(app.config["RQ_QUEUE"])  # and its sweeper ran just now, that day
        response = client.get("/healthz")
    assert response.status_code == 200  # deadlines still work: the gap is reported, not fatal
    assert response.json["calendar"] == {"status": "gap", "uncovered": [2027],
                                         "years": {"2026": "chinesecalendar", "2027": None}}


def test_calendar_ok_before_november_and_once_the_year_is_entered(org, client):
    from webapp.services.admin import save_holiday_year

    with _at(2026, 10, 31):
        assert client.get("/healthz").json["calendar"] == {
            "status": "ok", "uncovered": [], "years": {"2026": "chinesecalendar"}}
    with _at(2026, 11, 29):
        save_holiday_year(actor=org["admin"], year=2027, holidays="2027-01-01", workdays="")
        assert client.get("/healthz").json["calendar"]["years"] == {
            "2026": "chinesecalendar", "2027": "entered"}


# --- heartbeat, sweeper, overdue deadlines, metrics (issue #16 item 9) ---------------------------

def test_a_registered_worker_whose_sweeper_stopped_is_not_healthy(app, client, registered_worker):
    registered_worker(app.config["RQ_QUEUE"])
    with app.app_context():
        record_sweep(at=datetime.now(timezone.utc).timestamp() - 600)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert "sweeper not running" in response.json["problems"]
    assert response.json["sweeper_last_run_age_s"] >= 600


def test_an_overdue_deadline_not_fired_is_reported_until_it_fires(app, org, client, registered_worker):
    from tests.factories import member_data
    from webapp.models import Task
    from webapp.services.deadlines import process_due
    from webapp.services.registration import register

    registered_worker(app.config["RQ_QUEUE"])
    case = register(actor=org["assoc1"], store=org.stores[0], data=member_data(org["assoc1"]))
    task = db.session.query(Task).filter_by(case_id=case.id).one()
    with time_machine.travel(task.due_at.timestamp() + 900, tick=False):
        record_sweep()
        response = client.get("/healthz")
        assert response.status_code == 503 and "deadlines not firing" in response.json["problems"]
        assert 900 <= response.json["oldest_unfired_due_s"] < 960
        metrics = client.get("/metrics").get_data(as_text=True)
        assert "crm_oldest_unfired_due_seconds 9" in metrics and "crm_up 0.0" in metrics
        process_due()
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json["oldest_unfired_due_s"] == 0


def test_metrics_in_prometheus_text(app, client, registered_worker):
    registered_worker(app.config["RQ_QUEUE"])
    client.get("/login")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    for name in ("crm_up 1.0", "crm_queue_depth", "crm_job_failures", "crm_sweeper_lag_seconds",
                 "crm_oldest_unfired_due_seconds", "crm_request_seconds_bucket"):
        assert name in body, name
