"""Redis connection and the RQ queue, created lazily from the app config."""
from flask import current_app
from redis import Redis
from rq import Queue


def redis_conn() -> Redis:
    """One Redis client per app (thread-safe connection pool)."""
    ext = current_app.extensions
    if "redis" not in ext:
        ext["redis"] = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=5,
                                      socket_connect_timeout=2)
    return ext["redis"]


def queue() -> Queue:
    return Queue(current_app.config["RQ_QUEUE"], connection=redis_conn())
