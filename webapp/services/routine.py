"""The weekly routine (SPEC §3.8; seed 000 §5): each associate memorises a few member profiles
a day (setting care_profiles_per_day, default 2) and reviews yesterday's.

The profiles of a day rotate through the associate's own assigned members first, then the
store's other active members, by member id: the same day always gives the same profiles, and
every member comes round in turn. (The Monday plan and Friday check are not built yet.)
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import select

from .. import clock, settings
from ..calendar import local_date
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import Member, Sale, User
from ..permissions import can


@dataclass(frozen=True)
class Profile:
    member: Member
    purchases: list  # the last sales: (local date, amount in fen, items)
    own: bool  # one of the associate's assigned members


def _pool(user: User) -> list[int]:
    own_first = sql_case((Member.associate_id == user.id, 0), else_=1)
    return db.session.scalars(select(Member.id).where(Member.store_id == user.store_id,
                                                      Member.status == "active")
                              .order_by(own_first, Member.id)).all()


def _of_day(pool: list[int], day: date, n: int) -> list[int]:
    if not pool or n <= 0:
        return []
    start = (day.toordinal() * n) % len(pool)
    return [pool[(start + i) % len(pool)] for i in range(min(n, len(pool)))]


def _profiles(user: User, ids: list[int]) -> list[Profile]:
    members = {m.id: m for m in db.session.scalars(select(Member).where(Member.id.in_(ids)))}
    out = []
    for member_id in ids:
        sales = db.session.execute(select(Sale.sold_at, Sale.amount_fen, Sale.items)
                                   .where(Sale.member_id == member_id)
                                   .order_by(Sale.sold_at.desc()).limit(3)).all()
        out.append(Profile(members[member_id],
                           [(local_date(s.sold_at), s.amount_fen, s.items) for s in sales],
                           members[member_id].associate_id == user.id))
    return out


def profiles_of_day(*, actor: User, now: datetime | None = None) -> dict:
    """Today's profiles to memorise and yesterday's to review, for an associate of a store."""
    if not can(actor, "care.profiles") or actor.store_id is None:
        raise Refusal(N_("只有门店导购和店长有每日记忆的会员档案"))
    today = local_date(now or clock.now())
    n = settings.get_int("care_profiles_per_day")
    pool = _pool(actor)
    return {"day": today, "today": _profiles(actor, _of_day(pool, today, n)),
            "yesterday": _profiles(actor, _of_day(pool, today - timedelta(days=1), n))}


