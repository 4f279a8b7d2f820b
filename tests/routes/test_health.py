"""GET /healthz: 200 only when database, Redis and an RQ worker on the app's queue are all up."""
import pytest
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


def test_503_when_no_worker_runs(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"database": "ok", "redis": "ok", "workers": 0, "status": "degraded"}


def test_200_when_a_worker_serves_the_queue(app, client, registered_worker):
    registered_worker(app.config["RQ_QUEUE"])
    response = client.get("/healthz")
    assert response.status_code == 200, response.json
    assert response.json == {"database": "ok", "redis": "ok", "workers": 1, "status": "ok"}


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
