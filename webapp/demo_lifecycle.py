"""Demo data for the member lifecycle (issue 11), after the sales (demo_sales credits their
points through the ledger, so points agree with purchases):

- tiers by the points rule, applied; three members of 上海南京路店 qualify for a higher tier than
  the one applied: their upgrade proposals wait in the store manager's inbox (王店长);
- two recent members of that store reach the formal threshold with a till sale (the real path:
  points, welcome SMS, the formal-card case); HQ has made and sent both cards; one waits for its
  day-5 call by 张导购, the other is held at the store (the customer comes later);
- today's day-3 calls for everyone who bought two days ago (their tickets name what they bought).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from . import clock, settings
from .calendar import local_date, local_midnight_utc
from .extensions import db
from .models import Case, Member, Role, Store, User
from .services import aftersale, sales, tiers
from .workflows import engine
from .workflows.tier_change import tier_change

UPGRADES = 3  # members of the first store whose upgrade waits for the manager


def load() -> None:
    now = clock.now()
    store = db.session.scalar(select(Store).order_by(Store.id).limit(1))
    _tiers(store, now)
    _formal_cards(store, now)
    aftersale.start_due_calls(now=now)  # commits


def _tiers(store: Store, now) -> None:
    tiers.recompute()
    db.session.execute(update(Member).where(Member.qualifying_tier.is_not(None))
                       .values(tier=Member.qualifying_tier).execution_options(synchronize_session=False))
    risen = db.session.execute(select(Member.id, Member.qualifying_tier).where(
        Member.store_id == store.id, Member.status == "active",
        Member.qualifying_tier.in_(["A", "B"])).order_by(Member.id.desc()).limit(UPGRADES)).all()
    for member_id, qualifying in risen:  # their points crossed the line since the last review
        db.session.execute(update(Member).where(Member.id == member_id)
                           .values(tier="B" if qualifying == "A" else "C"))
    engine.start_many(tier_change, tiers.proposal_source(now).where(
        Member.id.in_([i for i, _ in risen])), now=now)
    db.session.commit()


def _formal_cards(store: Store, now) -> None:
    hq = db.session.scalar(select(User).where(User.role == Role.HQ_SPECIALIST).order_by(User.id).limit(1))
    associate = db.session.scalar(select(User).where(User.username == "associate"))
    members = db.session.scalars(select(Member).where(
        Member.store_id == store.id, Member.status == "active", Member.card_type == "temporary",
        Member.associate_id == associate.id, Member.points > 0).order_by(Member.id).limit(2)).all()
    threshold, rate = (settings.get_int("formal_points_threshold"),
                       max(1, settings.get_int("points_per_yuan")))
    today = local_date(now)
    for n, member in enumerate(members):
        sold = min(local_midnight_utc(today - timedelta(days=1)) + timedelta(hours=15 + n),
                   now - timedelta(minutes=5))
        yuan = (threshold - member.points) // rate + 300
        sales.record(rows=[{"store_code": store.code, "sale_no": f"{store.code}-F{member.id}",
                            "sold_at": sold.isoformat(), "amount": f"{yuan}.00", "items": 1,
                            "member_card": member.card_no, "associate": associate.username,
                            "category": "羊绒大衣"}], actor=hq, source="till")  # commits
        case = db.session.scalar(select(Case).where(Case.process == "formal_card",
                                                    Case.member_id == member.id))
        engine.fire(case, "card_sent", hq, version=case.version, now=now)
        engine.fire(case, "start_call", None, version=case.version, now=now)  # day 5 (shown today)
        if n == 1:
            engine.fire(case, "coming_later", associate, version=case.version, now=now,
                        comment="顾客周末来店领卡")
        db.session.commit()
