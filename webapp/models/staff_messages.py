"""Messages to staff and to other systems: group robots (WeCom / DingTalk), outgoing webhooks,
and one row per post (robot message, digest e-mail, webhook call) with its delivery state."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..crypto import Encrypted
from ..extensions import db
from .base import TZDateTime


class GroupRobot(db.Model):
    """A group robot's webhook registered by a store (store_id), an area (area_id) or HQ (neither).
    The URL (its access token) and DingTalk's signing secret are encrypted; pages show `url_hint`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(db.String(10))  # wecom | dingtalk
    name: Mapped[str] = mapped_column(db.String(60))
    store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(db.ForeignKey("area.id"), index=True)
    url = mapped_column(Encrypted)
    secret = mapped_column(Encrypted)
    url_hint: Mapped[str] = mapped_column(db.String(80))
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    removed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    store = relationship("Store")
    area = relationship("Area")


class OutgoingWebhook(db.Model):
    """Another system's endpoint: JSON posts of the chosen events, signed with `secret`."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(db.String(60))
    url: Mapped[str] = mapped_column(db.String(500))
    secret = mapped_column(Encrypted)
    events: Mapped[list] = mapped_column(JSON, default=list)
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    removed_at: Mapped[datetime | None] = mapped_column(TZDateTime)


class StaffPost(db.Model):
    """One message leaving for staff or another system: a robot post, a digest e-mail, a webhook
    call. queued → sending (claimed) → sent / failed; a temporary failure returns to queued with
    a back-off; a row left in "sending" becomes "unknown" and is never posted again.
    `dedupe_key` makes each post exactly one row however often it is queued."""

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(db.String(10))  # robot | email | webhook
    robot_id: Mapped[int | None] = mapped_column(db.ForeignKey("group_robot.id"))
    webhook_id: Mapped[int | None] = mapped_column(db.ForeignKey("outgoing_webhook.id"))
    user_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    recipient = mapped_column(Encrypted)  # the e-mail address, as it was when queued
    store_id: Mapped[int | None] = mapped_column(db.ForeignKey("store.id"))
    event: Mapped[str] = mapped_column(db.String(40))
    dedupe_key: Mapped[str] = mapped_column(db.String(160), unique=True)
    title: Mapped[str] = mapped_column(db.String(200), default="")
    body: Mapped[str] = mapped_column(db.Text, default="")
    payload: Mapped[dict | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(db.String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    error: Mapped[str | None] = mapped_column(db.String(200))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    robot = relationship("GroupRobot")
    webhook = relationship("OutgoingWebhook")
    user = relationship("User")
    __table_args__ = (Index("ix_staff_post_due", "status", "next_attempt_at"),)
