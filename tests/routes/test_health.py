"""GET /healthz: 200 only when database, Redis and an RQ worker on the app's queue are all up."""
from datetime import datetime, timezone

import pytest
import time_machine
from redis import Redis
from rq import Queue, Worker

import config
from webapp import create_app
from webapp.extensions import db


@pytest.fixture
def registered_worker(app, redis_url):
    """Register a real rq.Worker in the test Redis (no work loop), on the queue named by `name`."""
    started = []

    def _register(queue_name: str) -> Worker:
        conn = Redis.from_url(redis_url)
        worker = Worker([Queue(queue_name, connection=conn)], connection=conn)
        worker.register_birth()
        started.append(worker)
        return worker

    yield _register
    for worker in started:
        worker.register_death()


def _services(report: dict) -> dict:
    """The report without its calendar part (tested below, under a controlled clock)."""
    return {k: v for k, v in report.items() if k != "calendar"}


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
    registered_worker(app.config["RQ_QUEUE"])
    with _at(2026, 11, 29):
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
