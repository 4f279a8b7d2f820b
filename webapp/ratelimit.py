"""Fixed-window counters in Redis: how many times a key was hit in the current window.

Shared by every web process (the counters live in Redis, not in a process). When Redis does not
answer, the caller decides: the till API lets sales through (the database is the truth), the
login throttle does too, since refusing every login while Redis is down is the outage itself.
"""
from __future__ import annotations

import logging
import time

from redis.exceptions import RedisError

from .queue import redis_conn

log = logging.getLogger("crm.ratelimit")


def hit(name: str, key: str, *, window: int, now: float | None = None) -> int:
    """Count one hit of `key` in this `window`-second window; the count so far (0: Redis down)."""
    now = time.time() if now is None else now
    slot = int(now // window)
    redis_key = f"crm:rl:{name}:{key}:{slot}"
    try:
        pipe = redis_conn().pipeline()
        pipe.incr(redis_key)
        pipe.expire(redis_key, window * 2)
        return int(pipe.execute()[0])
    except RedisError as exc:
        log.warning("rate limit %s not counted, Redis: %s", name, exc)
        return 0


def retry_after(window: int, now: float | None = None) -> int:
    """Seconds until the current window ends (for Retry-After)."""
    now = time.time() if now is None else now
    return max(1, int(window - now % window))
