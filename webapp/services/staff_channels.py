"""Where staff messages go: group robots registered per store / area / HQ, outgoing webhooks,
and a user's choice to get the daily digest by e-mail. Validates, audits, commits.

Secrets (a robot's webhook URL carries its access token; DingTalk's signing secret; a webhook's
signing secret) are stored encrypted under the member-data key and never shown back: a page
shows the URL's host and the token's last four characters."""
from __future__ import annotations

import re
import secrets as random_secrets
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select

from .. import clock, permissions, robots, staff_alerts
from ..extensions import db
from ..calendar import to_local
from ..i18n_labels import N_, Refusal
from ..models import AREA_ROLES, COMPANY_ROLES, AuditEvent, GroupRobot, OutgoingWebhook, StaffPost, User
from . import staff_posts

EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


class ChannelRefused(Refusal):
    """A robot, webhook or preference was refused; str() is the message in the user's language."""


def _audit(actor: User, object_type: str, object_id: int, action: str, data: dict, now) -> None:
    db.session.add(AuditEvent(object_type=object_type, object_id=object_id, actor_id=actor.id,
                              at=now, action=action, data=data))


def hint(url: str) -> str:
    """The URL as a page may show it: host and the last four characters of the token."""
    parts = urlsplit(url)
    tail = re.sub(r"[^A-Za-z0-9]", "", parts.query or parts.path)[-4:]
    return f"{parts.scheme}://{parts.hostname}/…{tail}"[:80]


# ------------------------------------------------------------------ group robots

def robots_visible_to(user: User) -> list[GroupRobot]:
    rows = db.session.scalars(select(GroupRobot).where(GroupRobot.removed_at.is_(None))
                              .order_by(GroupRobot.id))
    return [r for r in rows if may_manage(user, r)]


def may_manage(user: User, robot: GroupRobot) -> bool:
    if not permissions.can(user, "robots.manage"):
        return False
    if robot.store_id is None and robot.area_id is None:
        return user.role in COMPANY_ROLES
    if robot.store_id is None:
        return user.role in COMPANY_ROLES or (
            user.role in AREA_ROLES and user.area_id == robot.area_id)
    return permissions.in_scope(user, robot.store_id, robot.area_id)


def add_robot(*, actor: User, scope: str, kind: str, name: str, url: str, secret: str = "",
              now: datetime | None = None) -> GroupRobot:
    now = now or clock.now()
    if not permissions.can(actor, "robots.manage"):
        raise ChannelRefused(N_("您没有权限管理工作群机器人"))
    try:
        where = permissions.parse_scope(actor, scope)
    except (ValueError, permissions.OutOfScope):
        raise ChannelRefused(N_("该范围不在您的权限范围内")) from None
    if kind not in robots.KINDS:
        raise ChannelRefused(N_("请选择企业微信或钉钉"))
    name, url, secret = (name or "").strip(), (url or "").strip(), (secret or "").strip()
    if not name:
        raise ChannelRefused(N_("请填写名称"))
    try:
        robots.check_url(url)
    except ValueError:
        raise ChannelRefused(N_("Webhook 地址须以 https:// 开头")) from None
    if kind == "dingtalk" and secret and not secret.startswith("SEC"):
        raise ChannelRefused(N_("钉钉加签密钥以 SEC 开头"))
    store_id = where.id if where.kind == "store" else None
    area_id = where.id if where.kind == "area" else None
    robot = GroupRobot(kind=kind, name=name[:60], store_id=store_id, area_id=area_id, url=url,
                       secret=secret or None, url_hint=hint(url), created_by_id=actor.id,
                       created_at=now)
    db.session.add(robot)
    db.session.flush()
    _audit(actor, "group_robot", robot.id, "robot_added",
           {"kind": kind, "scope": scope, "signed": bool(secret)}, now)
    staff_alerts.forget_robots()
    db.session.commit()
    return robot


def _robot(actor: User, robot_id: int) -> GroupRobot:
    robot = db.session.get(GroupRobot, robot_id)
    if robot is None or robot.removed_at is not None or not may_manage(actor, robot):
        raise LookupError(robot_id)
    return robot


def remove_robot(*, actor: User, robot_id: int, now: datetime | None = None) -> None:
    now = now or clock.now()
    robot = _robot(actor, robot_id)
    robot.removed_at = now
    robot.url, robot.secret = None, None  # nothing of the secret stays behind
    _audit(actor, "group_robot", robot.id, "robot_removed", {}, now)
    staff_alerts.forget_robots()
    db.session.commit()


def test_robot(*, actor: User, robot_id: int, now: datetime | None = None) -> StaffPost:
    """Post a test message now (a row like any other post, so a failure is listed too)."""
    now = now or clock.now()
    robot = _robot(actor, robot_id)
    key = f"test:{robot.id}:{clock.as_utc(now):%Y%m%dT%H%M%S.%f}"
    staff_alerts.queue([{"channel": "robot", "robot_id": robot.id, "store_id": robot.store_id,
                         "event": "test", "dedupe_key": key, "title": "测试",
                         "body": f"**CRM 测试消息**\n\n> {actor.display_name} 于 "
                                 f"{to_local(now):%m-%d %H:%M} "
                                 f"测试本群机器人：{robot.name}\n\n[打开 CRM]({staff_alerts.base_url()}/)"}])
    db.session.info.pop("staff_posts_pending", None)  # posted right here, not by the job
    db.session.commit()
    post_id = db.session.scalar(select(StaffPost.id).where(StaffPost.dedupe_key == key))
    staff_posts.deliver_one(post_id, now=now)
    return db.session.get(StaffPost, post_id)


# ------------------------------------------------------------------ outgoing webhooks

def webhooks() -> list[OutgoingWebhook]:
    return list(db.session.scalars(select(OutgoingWebhook).where(
        OutgoingWebhook.removed_at.is_(None)).order_by(OutgoingWebhook.id)))


def add_webhook(*, actor: User, name: str, url: str, events: list[str],
                now: datetime | None = None) -> tuple[OutgoingWebhook, str]:
    """Register an endpoint; returns it and its signing secret, shown once."""
    now = now or clock.now()
    if not permissions.can(actor, "admin.manage"):
        raise ChannelRefused(N_("您没有权限管理对外推送"))
    name, url = (name or "").strip(), (url or "").strip()
    if not name:
        raise ChannelRefused(N_("请填写名称"))
    try:
        robots.check_url(url)
    except ValueError:
        raise ChannelRefused(N_("Webhook 地址须以 https:// 开头")) from None
    if len(url) > 500:
        raise ChannelRefused(N_("地址太长"))
    events = [e for e in dict.fromkeys(events or []) if e in staff_alerts.EVENTS]
    if not events:
        raise ChannelRefused(N_("请至少选择一个事件"))
    secret = "whsec_" + random_secrets.token_urlsafe(32)
    hook = OutgoingWebhook(name=name[:60], url=url, secret=secret, events=events,
                           created_by_id=actor.id, created_at=now)
    db.session.add(hook)
    db.session.flush()
    _audit(actor, "outgoing_webhook", hook.id, "webhook_added", {"events": events}, now)
    db.session.commit()
    return hook, secret


def remove_webhook(*, actor: User, webhook_id: int, now: datetime | None = None) -> None:
    now = now or clock.now()
    hook = db.session.get(OutgoingWebhook, webhook_id)
    if hook is None or hook.removed_at is not None or not permissions.can(actor, "admin.manage"):
        raise LookupError(webhook_id)
    hook.removed_at, hook.secret = now, None
    _audit(actor, "outgoing_webhook", hook.id, "webhook_removed", {}, now)
    db.session.commit()


# ------------------------------------------------------------------ a user's digest by e-mail

def set_digest_mail(*, actor: User, email: str, by_mail: bool,
                    now: datetime | None = None) -> None:
    now = now or clock.now()
    email = (email or "").strip()
    if email and (len(email) > 200 or not EMAIL.match(email)):
        raise ChannelRefused(N_("电子邮箱格式不正确"))
    if by_mail and not email:
        raise ChannelRefused(N_("请填写电子邮箱后再选择邮件接收"))
    actor.email, actor.digest_by_mail = email or None, by_mail
    _audit(actor, "user", actor.id, "digest_mail", {"by_mail": by_mail}, now)
    db.session.commit()
