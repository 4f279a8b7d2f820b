"""Login with throttling, first-login password change, user deactivation."""
from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from .. import clock, crypto, passwords
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, LoginAttempt, Task, User
from ..queue import redis_conn

log = logging.getLogger("crm.auth")


class LoginRefused(Refusal):
    pass


# Growing delays instead of a lock (a lock is a denial of service anyone can cause): after `free`
# failures in the window, each further try waits 2, 4, 8 … seconds up to `cap` after the last
# failure. Counted per name and address (a guesser at one account), per address (one guesser,
# many names) and per name from every address: that one gently, so that someone failing at
# another's account from elsewhere costs the real user a minute at most, never 15.
THROTTLES = {"pair": (5, 900), "address": (20, 900), "account": (10, 60)}


def _throttle_keys(username: str, ip: str) -> dict[str, str]:
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:24]
    return {"pair": f"{name}:{ip}", "address": ip, "account": name}


def _wait(username: str, ip: str, now: float) -> int:
    """Seconds this name and address must still wait before a try is heard (0: go ahead)."""
    try:
        pipe = redis_conn().pipeline()
        keys = _throttle_keys(username, ip)
        for kind, key in keys.items():
            pipe.hmget(f"crm:login:{kind}:{key}", "n", "last")
        found = pipe.execute()
    except RedisError as exc:  # no Redis: no throttle rather than no logins
        log.warning("login throttle unavailable: %s", exc)
        return 0
    wait = 0.0
    for (kind, _key), (n, last) in zip(keys.items(), found):
        free, cap = THROTTLES[kind]
        if n is not None and int(n) >= free:
            wait = max(wait, float(last) + min(cap, 2 ** (int(n) - free + 1)) - now)
    return max(0, math.ceil(wait))


def _count_failure(username: str, ip: str, now: float) -> None:
    window = current_app.config["LOGIN_WINDOW_MINUTES"] * 60
    try:
        pipe = redis_conn().pipeline()
        for kind, key in _throttle_keys(username, ip).items():
            pipe.hincrby(f"crm:login:{kind}:{key}", "n", 1)
            pipe.hset(f"crm:login:{kind}:{key}", "last", now)
            pipe.expire(f"crm:login:{kind}:{key}", window)
        pipe.execute()
    except RedisError as exc:
        log.warning("login throttle unavailable: %s", exc)


def _clear_pair(username: str, ip: str) -> None:
    try:
        redis_conn().delete(f"crm:login:pair:{_throttle_keys(username, ip)['pair']}")
    except RedisError:
        pass


_DUMMY_HASH: list[str] = []


def _same_cost_as_a_password_check(password: str) -> None:
    """An unknown or inactive name costs the same hash as a real one: timing tells nothing."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(8)))
    check_password_hash(_DUMMY_HASH[0], password)


def authenticate(*, username: str, password: str, ip: str, now: datetime | None = None) -> User:
    """Check credentials; failures slow further tries down (THROTTLES), every failure reads the
    same and takes the same time whether the name exists or not (logged, mobiles masked)."""
    now = now or clock.now()
    wait = _wait(username, ip, now.timestamp())
    if wait:
        _record(username, ip, False, now)
        raise LoginRefused(N_("登录尝试过于频繁，请%(n)s秒后再试"), n=wait)
    user = db.session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None or not user.active:
        _same_cost_as_a_password_check(password)
    if user is None or not user.active or not user.check_password(password):
        _count_failure(username, ip, now.timestamp())
        _record(username, ip, False, now)
        log.warning("failed login for %r from %s", loggable_username(username), ip)
        raise LoginRefused(N_("用户名或密码错误"))
    _clear_pair(username, ip)
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
