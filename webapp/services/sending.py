"""Sending the outbox: each SMS row a small state machine, claimed once, sent once.

queued → sending (a conditional UPDATE claims it, committed before the provider is called)
→ sent (the provider's id) → delivered / failed (its receipt). A temporary failure (throttled,
5xx, network) returns the row to queued with a back-off; after MAX_ATTEMPTS it is failed.
A row left in "sending" (the worker died between the provider's answer and the commit) becomes
"unknown" and is never sent again: a second SMS is worse than a missing one.
Marketing templates wait for 08:00–21:00 local time and skip members who opted out; dead
numbers get nothing.

E-mail rows of the outbox (a care batch's points e-mail, a complaint reply to an address) go
the same way through SMTP (mail.py, configured by the environment) when it is configured, in
the same job: claimed once, a 4xx or a network error retried with the back-off, a 5xx failed.
Neither quiet hours nor the SMS opt-out nor a dead number hold an e-mail.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, time, timedelta

from redis.exceptions import RedisError
from sqlalchemy import or_, select, update

from .. import clock, mail, outbox, settings, sms
from ..calendar import TZ
from ..extensions import db
from ..models import AuditEvent, Member, OutboxMessage, User
from .registration import InvalidMobile, find_by_mobile

log = logging.getLogger(__name__)
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
MAX_ATTEMPTS = 5
STALE = timedelta(minutes=10)
QUIET_START, QUIET_END = time(21, 0), time(8, 0)   # marketing waits outside 08:00–21:00
OPT_OUT_WORDS = {"TD", "T", "N", "退订", "退订短信", "取消", "UNSUBSCRIBE"}


def _now(now: datetime | None) -> datetime:
    return clock.as_utc(now) if now else clock.now()


def next_allowed(*, now: datetime) -> datetime | None:
    """None inside 08:00–21:00 local time, else the next 08:00 (local) as UTC."""
    local = now.astimezone(TZ)
    if QUIET_END <= local.time() < QUIET_START:
        return None
    day = local.date() + (timedelta(days=1) if local.time() >= QUIET_START else timedelta())
    return datetime.combine(day, QUIET_END, tzinfo=TZ).astimezone(now.tzinfo)


def _rate_ok(provider: str, now: datetime) -> bool:
    """At most SMS_RATE_PER_SECOND sends per provider per second, across workers (Redis)."""
    from ..queue import redis_conn

    limit = int(os.environ.get("SMS_RATE_PER_SECOND") or 20)
    key = f"sms-rate:{provider}:{int(now.timestamp())}"
    try:
        with redis_conn().pipeline() as pipe:
            count, _ = pipe.incr(key).expire(key, 5).execute()
    except RedisError:
        return True  # the provider throttles too; its answer is a retry
    return count <= limit


def _claim(message_id: int, now: datetime) -> bool:
    """Take one queued row for this worker; False when another took it first."""
    taken = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "queued")
        .values(status="sending", claimed_at=now)).rowcount
    db.session.commit()
    return taken == 1


def settle_stale(*, now: datetime | None = None) -> int:
    """Rows claimed long ago and never finished: their outcome is unknown; never sent again."""
    now = _now(now)
    count = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "sending",
                                    OutboxMessage.claimed_at < now - STALE)
        .values(status="unknown", error="发送结果未知（发送过程中断），为避免重复不再重发")).rowcount
    db.session.commit()
    return count


def _hold(message: OutboxMessage, now: datetime) -> str | None:
    """Why this message must not go (a failure), or "" to wait, or None to send now."""
    member = message.member
    if member is not None and member.mobile_dead_at is not None:
        return "号码已停用（空号/停机），不发送"
    if message.template in outbox.MARKETING:
        if member is not None and member.sms_opt_out_at is not None:
            return "会员已退订营销短信，不发送"
        later = next_allowed(now=now)
        if later is not None:
            message.next_attempt_at = later
            return ""
    return None


def _due(channel: str, now: datetime, limit: int) -> list[int]:
    return db.session.scalars(
        select(OutboxMessage.id).where(
            OutboxMessage.channel == channel, OutboxMessage.status == "queued",
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
        .order_by(OutboxMessage.id).limit(limit)).all()


def send_queued_mail(*, now: datetime | None = None, limit: int = 200) -> int:
    """Send the due e-mail rows through SMTP; how many went out (none while SMTP is not set:
    the rows stay queued, as recorded)."""
    now = _now(now)
    if not mail.configured():
        return 0
    sent = 0
    for message_id in _due("email", now, limit):
        if not _claim(message_id, now):
            continue
        message = db.session.get(OutboxMessage, message_id)
        subject = (message.params or {}).get("subject") or (
            f"{settings.get('brand_name')} {outbox.TEMPLATES.get(message.template, ('',))[0]}".strip())
        result = mail.send(to=message.recipient or "", subject=subject, text=message.body,
                           message_id=f"<outbox-{message.id}@crm>")
        _record(message, result, "smtp", now)
        db.session.commit()
        sent += result.outcome == "sent"
    return sent


def send_queued(*, now: datetime | None = None, limit: int = 200, sender=None) -> int:
    """Send the SMS that are due with the configured provider, and the e-mails through SMTP;
    how many went out. Nothing leaves with the outbox-only default (the rows stay queued, as
    recorded)."""
    now = _now(now)
    settle_stale(now=now)
    mailed = send_queued_mail(now=now, limit=limit)
    sender = sender or sms.sender()
    if sender is None:
        return mailed
    return mailed + _send_sms(sender, now, limit)


def _send_sms(sender, now: datetime, limit: int) -> int:
    due = _due("sms", now, limit)
    sent = 0
    for message_id in due:
        if not _claim(message_id, now):
            continue
        message = db.session.get(OutboxMessage, message_id)
        reason = _hold(message, now)
        if reason is not None:
            message.status = "queued" if reason == "" else "failed"
            message.error = reason or None
            db.session.commit()
            continue
        if not _rate_ok(sender.name, now):
            message.status, message.next_attempt_at = "queued", now + timedelta(seconds=1)
            db.session.commit()
            break
        result = sender.send(sms.Outgoing(key=f"crm-{message.id}", mobile=message.recipient or "",
                                          template=message.template, text=message.body,
                                          params=message.params or {}))
        _record(message, result, sender.name, now)
        db.session.commit()
        sent += result.outcome == "sent"
    return sent


def _record(message: OutboxMessage, result: sms.Result, provider: str, now: datetime) -> None:
    message.provider, message.attempts = provider, message.attempts + 1
    message.error = result.error or None
    if result.outcome == "sent":
        message.status, message.provider_message_id, message.sent_at = "sent", result.provider_id, now
    elif result.outcome == "retry" and message.attempts < MAX_ATTEMPTS:
        message.status = "queued"
        message.next_attempt_at = now + BACKOFF[min(message.attempts, len(BACKOFF)) - 1]
    else:
        message.status = "failed"


# ------------------------------------------------------------------ provider callbacks

def record_receipts(*, provider: str, reports: list[dict], now: datetime | None = None) -> int:
    """Delivery receipts (Aliyun's and Tencent's push shapes): sent → delivered / failed."""
    now = _now(now)
    done = 0
    for report in reports:
        if not isinstance(report, dict):
            continue
        if provider == "aliyun":
            key, provider_id = report.get("out_id"), report.get("biz_id")
            ok, error = report.get("success") in (True, "true"), report.get("err_code")
        else:
            key, provider_id = report.get("session_context") or report.get("ext"), report.get("sid")
            ok, error = report.get("report_status") == "SUCCESS", report.get("errmsg")
        message = _by_key(key) or (db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.provider_message_id == str(provider_id))) if provider_id else None)
        if message is None or message.status not in ("sent", "unknown", "sending"):
            continue
        message.status = "delivered" if ok else "failed"
        message.delivered_at = now if ok else None
        message.error = None if ok else f"回执：{error}"[:200]
        done += 1
    db.session.commit()
    return done


def _by_key(key) -> OutboxMessage | None:
    if not isinstance(key, str) or not key.startswith("crm-") or not key[4:].isdigit():
        return None
    return db.session.get(OutboxMessage, int(key[4:]))


def record_uplinks(*, replies: list[dict], now: datetime | None = None) -> int:
    """Members' replies (uplink): "TD"/"退订" opts the member out of marketing SMS."""
    now = _now(now)
    done = 0
    for reply in replies:
        if not isinstance(reply, dict):
            continue
        text = str(reply.get("content") or reply.get("text") or "").strip().upper()
        mobile = str(reply.get("phone_number") or reply.get("mobile") or "")
        if text not in OPT_OUT_WORDS:
            continue
        try:
            member = find_by_mobile(mobile)
        except InvalidMobile:
            continue
        if member is not None and member.sms_opt_out_at is None:
            member.sms_opt_out_at = now
            done += 1
    db.session.commit()
    return done


def set_opt_out(*, actor: User, member: Member, opted_out: bool,
                now: datetime | None = None) -> None:
    """Staff mark a member as opted out of marketing SMS (or back in), audited."""
    now = _now(now)
    if (member.sms_opt_out_at is not None) == opted_out:
        return
    member.sms_opt_out_at = now if opted_out else None
    db.session.add(AuditEvent(object_type="member", object_id=member.id, actor_id=actor.id, at=now,
                              action="sms_opt_out" if opted_out else "sms_opt_in", data={}))
    db.session.commit()
