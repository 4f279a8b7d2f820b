"""Stand-ins while away: a user (or their manager) names a colleague of the same role and scope
for a period; the away user's assigned tasks show in the stand-in's inbox, what the stand-in does
is audited as "B for A" (engine), and the period ends by itself (every query compares with now).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from .. import clock
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, Role, StandIn, User

# Who may name a stand-in for someone else: their store's manager, their area's supervisor
# (for store managers), the HQ manager (for HQ specialists), and the administrator.
_MANAGES = {Role.STORE_MANAGER: {Role.ASSOCIATE}, Role.AREA_SUPERVISOR: {Role.STORE_MANAGER},
            Role.HQ_MANAGER: {Role.HQ_SPECIALIST}}


class StandInRefused(Refusal):
    """The stand-in was refused; str() is the message in the user's language."""


def may_arrange_for(actor: User, user: User) -> bool:
    """May `actor` name a stand-in for `user`?"""
    if actor.id == user.id or actor.role == Role.ADMIN:
        return True
    if user.role not in _MANAGES.get(actor.role, set()):
        return False
    if user.role == Role.STORE_MANAGER:
        return user.scope_area_id == actor.area_id
    return actor.store_id is None or actor.store_id == user.store_id


def candidates(user: User) -> list[User]:
    """Colleagues who could stand in for `user`: same role, same store and area, active."""
    return db.session.scalars(select(User).where(
        User.role == user.role, User.id != user.id, User.active.is_(True),
        User.store_id.is_not_distinct_from(user.store_id),
        User.area_id.is_not_distinct_from(user.area_id)).order_by(User.display_name)).all()


def arrange(*, actor: User, user: User, stand_in: User, starts_at: datetime, ends_at: datetime,
            now: datetime | None = None) -> StandIn:
    """Name `stand_in` for `user` from `starts_at` to `ends_at`; audited; commits."""
    now = now or clock.now()
    if not may_arrange_for(actor, user):
        raise StandInRefused(N_("您不能为该同事安排代班"))
    if stand_in.id not in {u.id for u in candidates(user)}:
        raise StandInRefused(N_("代班人须是同一岗位、同一门店或片区的在职同事"))
    if ends_at <= starts_at or ends_at <= now:
        raise StandInRefused(N_("代班结束时间须晚于开始时间和当前时间"))
    overlapping = db.session.scalar(select(StandIn.id).where(
        StandIn.user_id == user.id, StandIn.cancelled_at.is_(None),
        StandIn.starts_at < ends_at, StandIn.ends_at > starts_at).limit(1))
    if overlapping:
        raise StandInRefused(N_("该时段已安排代班，请先取消原安排"))
    row = StandIn(user_id=user.id, stand_in_id=stand_in.id, starts_at=starts_at, ends_at=ends_at,
                  created_by_id=actor.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    db.session.add(AuditEvent(object_type="stand_in", object_id=row.id, actor_id=actor.id, at=now,
                              action="arrange", data={"user_id": user.id, "stand_in_id": stand_in.id,
                                                      "starts_at": starts_at.isoformat(),
                                                      "ends_at": ends_at.isoformat()}))
    db.session.commit()
    return row


def cancel(*, actor: User, stand_in_id: int, now: datetime | None = None) -> None:
    """End an arrangement early (or withdraw a future one); audited; commits."""
    now = now or clock.now()
    row = db.session.get(StandIn, stand_in_id)
    if row is None or row.cancelled_at is not None or not may_arrange_for(actor, row.user):
        raise StandInRefused(N_("找不到可取消的代班安排"))
    row.cancelled_at = now
    db.session.add(AuditEvent(object_type="stand_in", object_id=row.id, actor_id=actor.id, at=now,
                              action="cancel", data={}))
    db.session.commit()


def visible_to(user: User, *, now: datetime | None = None) -> list[StandIn]:
    """Arrangements not yet over that concern `user` (as the away one, the stand-in, or the
    one who arranged them)."""
    now = now or clock.now()
    return db.session.scalars(select(StandIn).where(
        StandIn.cancelled_at.is_(None), StandIn.ends_at > now,
        or_(StandIn.user_id == user.id, StandIn.stand_in_id == user.id,
            StandIn.created_by_id == user.id)).order_by(StandIn.starts_at)).all()

