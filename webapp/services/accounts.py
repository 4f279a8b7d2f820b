"""Login with throttling, first-login password change, user deactivation."""
from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from .. import clock, crypto, passwords
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, LoginAttempt, Task, User
from ..queue import redis_conn

log = logging.getLogger("crm.auth")


class LoginRefused(Refusal):
    pass


def authenticate(*, username: str, password: str, ip: str, now: datetime | None = None) -> User:
    """Check credentials; too many failures lock the account for a while (logged)."""
    now = now or clock.now()
    user = db.session.scalars(select(User).where(User.username == username.strip())).first()
    if user and user.locked_until and user.locked_until > now:
        _record(username, ip, False, now)
        raise LoginRefused(N_("登录失败次数过多,账户已临时锁定,请稍后再试"))
    if user is None or not user.active or not user.check_password(password):
        if user:
            _fail(user, now)
        _record(username, ip, False, now)
        log.warning("failed login for %r from %s", loggable_username(username), ip)
        raise LoginRefused(N_("用户名或密码错误"))
    user.failed_logins, user.locked_until = 0, None
    if password == passwords.DEMO_PASSWORD and (
            current_app.config["PRODUCTION"] or user.username not in _demo_usernames()):
        user.must_change_password = True  # only the demo users keep "demo", only in a demo
    _record(username, ip, True, now)
    return user


def loggable_username(username: str) -> str:
    """A mobile typed into the username field (a member's, often) is masked before it is kept."""
    digits = re.sub(r"\D", "", username)
    return crypto.mask_mobile(digits) if len(digits) >= 7 else username


def _fail(user: User, now: datetime) -> None:
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_MAX_FAILURES"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        log.warning("account %s locked after repeated failures", user.username)


def _record(username: str, ip: str, ok: bool, now: datetime) -> None:
    db.session.add(LoginAttempt(username=loggable_username(username)[:60], ip=ip or "", ok=ok, at=now))
    db.session.commit()


class PasswordRefused(Refusal):
    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


def change_password(*, user: User, current: str, password: str) -> None:
    """A new password needs the current one and the policy (webapp/passwords.py); every other
    session of the user ends (a new session epoch)."""
    if not user.check_password(current):
        raise PasswordRefused(N_("当前密码不正确"), "current")
    broken = passwords.problem(password, username=user.username)
    if broken:
        raise PasswordRefused(broken, "password")
    if user.check_password(password):
        raise PasswordRefused(N_("新密码不能与当前密码相同"), "password")
    user.set_password(password)
    user.must_change_password = False
    user.session_epoch += 1
    db.session.commit()


def end_sessions(*, user: User) -> None:
    """Logout: this cookie and every copy of it, in any browser, log nobody in any more."""
    user.session_epoch += 1
    db.session.commit()


def deactivate(*, actor: User, user: User, now: datetime | None = None) -> int:
    """A leaver's open tasks go back to their role's pool in the same scope; returns how many."""
    now = now or clock.now()
    user.active = False
    handed = db.session.execute(
        update(Task).where(Task.assignee_id == user.id, Task.status == "open")
        .values(assignee_id=None).execution_options(synchronize_session=False)).rowcount
    db.session.add(AuditEvent(object_type="user", object_id=user.id, actor_id=actor.id, at=now,
                              action="deactivate", comment=f"{handed} 项待办退回角色收件箱",
                              data={"tasks_returned": handed}))
    db.session.commit()
    return handed


ISSUED_TTL = 600  # seconds an issued one-time password waits to be shown


def hold_issued_password(*, user_id: int, password: str) -> str:
    """Keep a one-time password server-side (encrypted, in Redis, for ten minutes) until it is
    shown once; the admin's session cookie carries only the returned ticket."""
    ticket = secrets.token_urlsafe(16)
    redis_conn().set(f"crm:issued:{ticket}", crypto.encrypt(f"{user_id}:{password}"), ex=ISSUED_TTL)
    return ticket


def take_issued_password(*, ticket: str | None, user_id: int) -> str | None:
    """The held password for this user, removed as it is read: a second look finds nothing."""
    if not ticket:
        return None
    held = redis_conn().getdel(f"crm:issued:{ticket}")
    owner, _, password = (crypto.decrypt(held.decode()) or "").partition(":") if held else ("", "", "")
    return password if owner == str(user_id) else None


def _demo_usernames() -> set[str]:
    from ..demo import DEMO_USERS

    return {u[0] for u in DEMO_USERS} | {"assoc_hz01", "assoc_sz01"}
