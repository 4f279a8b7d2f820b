"""Posting what staff_alerts queued: group robots, digest e-mails, outgoing webhooks.

Each `StaffPost` row is a small state machine like an SMS (services/sending.py): a conditional
UPDATE claims it (committed before the network is touched), the answer is recorded and
committed; a temporary failure (5xx, throttled, timeout) goes back to queued with a back-off,
after MAX_ATTEMPTS it is failed; a row left in "sending" by a killed worker becomes "unknown"
and is never posted again (a second post is worse than a missing one). Quiet hours do not apply:
these are staff alerts, not marketing. Failures are listed for the administrator
(`failures`).
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from .. import clock, mail, robots, staff_alerts, webhooks
from ..extensions import db
from ..models import StaffPost
from ..sms import Result

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
MAX_ATTEMPTS = 5
STALE = timedelta(minutes=10)


def _timeout() -> float:
    return float(os.environ.get("OUTGOING_TIMEOUT_SECONDS") or 5)


def settle_stale(*, now: datetime) -> int:
    count = db.session.execute(
        update(StaffPost).where(StaffPost.status == "sending", StaffPost.claimed_at < now - STALE)
        .values(status="unknown", error="发送结果未知（发送过程中断），为避免重复不再重发")).rowcount
    db.session.commit()
    return count


ROBOT_PER_MINUTE = 20  # WeCom's and DingTalk's documented limit per group robot


def _robot_rate_ok(robot_id: int, now: datetime) -> bool:
    """At most ROBOT_PER_MINUTE posts per robot per minute, across workers (Redis); a Redis that
    does not answer lets the post go (the robot's own "too many" answer is a retry)."""
    from redis.exceptions import RedisError

    from ..queue import redis_conn

    key = f"robot-rate:{robot_id}:{int(now.timestamp()) // 60}"
    try:
        with redis_conn().pipeline() as pipe:
            count, _ = pipe.incr(key).expire(key, 120).execute()
    except RedisError:
        return True
    return count <= ROBOT_PER_MINUTE


def _claim(post_id: int, now: datetime) -> bool:
    taken = db.session.execute(
        update(StaffPost).where(StaffPost.id == post_id, StaffPost.status == "queued")
        .values(status="sending", claimed_at=now)).rowcount
    db.session.commit()
    return taken == 1


def deliver_due(*, now: datetime | None = None, limit: int = 200,
                timeout: float | None = None) -> int:
    """Post what is due; how many went out. Harmless when run twice at once."""
    now = clock.as_utc(now) if now else clock.now()
    settle_stale(now=now)
    due = db.session.scalars(
        select(StaffPost.id).where(
            StaffPost.status == "queued",
            or_(StaffPost.next_attempt_at.is_(None), StaffPost.next_attempt_at <= now))
        .order_by(StaffPost.id).limit(limit)).all()
    return sum(deliver_one(post_id, now=now, timeout=timeout) == "sent" for post_id in due)


def deliver_one(post_id: int, *, now: datetime | None = None,
                timeout: float | None = None) -> str | None:
    """Claim and post one row; its new status, or None when another worker had it."""
    now = clock.as_utc(now) if now else clock.now()
    if not _claim(post_id, now):
        return None
    post = db.session.get(StaffPost, post_id)
    if post.channel == "robot" and not _robot_rate_ok(post.robot_id, now):
        post.status = "queued"  # not an attempt: the next minute
        post.next_attempt_at = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        db.session.commit()
        return post.status
    result = _send(post, now, timeout if timeout is not None else _timeout())
    _record(post, result, now)
    db.session.commit()
    return post.status


def _send(post: StaffPost, now: datetime, timeout: float) -> Result:
    if post.channel == "robot":
        robot = post.robot
        if robot is None or robot.removed_at is not None:
            return Result("failed", error="机器人已删除")
        try:
            return robots.post(kind=robot.kind, url=robot.url or "", text=post.body,
                               title=post.title, secret=robot.secret or "",
                               timestamp_ms=int(now.timestamp() * 1000), timeout=timeout)
        except ValueError as exc:
            return Result("failed", error=str(exc)[:200])
    if post.channel == "email":
        if not post.recipient:
            return Result("failed", error="没有电子邮箱")
        return mail.send(to=post.recipient, subject=post.title, text=post.body,
                         message_id=f"<staff-post-{post.id}@crm>", timeout=max(timeout, 5))
    if post.channel == "webhook":
        hook = post.webhook
        if hook is None or hook.removed_at is not None:
            return Result("failed", error="webhook 已删除")
        return webhooks.post(url=hook.url, secret=hook.secret or "", event=post.event,
                             delivery_id=f"crm-{post.id}", payload=post.payload or {},
                             timestamp=int(now.timestamp()), timeout=timeout)
    return Result("failed", error=f"unknown channel {post.channel}")


def _record(post: StaffPost, result: Result, now: datetime) -> None:
    post.attempts += 1
    post.error = result.error or None
    if result.outcome == "sent":
        post.status, post.sent_at = "sent", now
    elif result.outcome == "retry" and post.attempts < MAX_ATTEMPTS:
        post.status = "queued"
        post.next_attempt_at = now + BACKOFF[min(post.attempts, len(BACKOFF)) - 1]
    else:
        post.status = "failed"


def failures(*, limit: int = 200) -> list[StaffPost]:
    """What the administrator should look at: failed, unknown, or waiting after an error."""
    return list(db.session.scalars(
        select(StaffPost).where(or_(StaffPost.status.in_(("failed", "unknown")),
                                    (StaffPost.status == "queued") & StaffPost.error.is_not(None)))
        .order_by(StaffPost.id.desc()).limit(limit)))


def recent(*, limit: int = 50) -> list[StaffPost]:
    return list(db.session.scalars(select(StaffPost).order_by(StaffPost.id.desc()).limit(limit)))


def retry(*, post_id: int, now: datetime | None = None) -> bool:
    """The administrator sends a failed post again (after fixing the webhook)."""
    now = clock.as_utc(now) if now else clock.now()
    done = db.session.execute(
        update(StaffPost).where(StaffPost.id == post_id, StaffPost.status == "failed")
        .values(status="queued", attempts=0, next_attempt_at=now)).rowcount
    staff_alerts.post_after_commit()
    db.session.commit()
    return done == 1
