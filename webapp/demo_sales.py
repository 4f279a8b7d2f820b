"""Demo sales: two years of till tickets for the demo stores (walk-ins and members), a few returns,
and monthly targets — enough for every analysis page to show something. Called by demo.load()."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import select

from . import clock
from .calendar import local_date
from .extensions import db
from .models import Member, Store, User
from .sales_models import SalesTarget
from .services import sales

PRICES = [79, 129, 199, 259, 299, 399, 499, 699, 899, 1299, 1899, 2599]


def load(seed: int = 11, days: int = 730) -> None:
    """Write the demo sales through the sales service (roll-ups included) and the targets."""
    rng = random.Random(seed)
    today = local_date(clock.now())
    rows, monthly = [], {}
    for store in db.session.scalars(select(Store).order_by(Store.id)):
        members = list(db.session.scalars(select(Member).where(Member.store_id == store.id,
                                                               Member.status == "active")))
        rows += _store_sales(rng, store, members, today, days, monthly)
    sales.record(rows=rows, source="demo")
    _returns(rng, rows)
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    for (store_id, ym), fen in monthly.items():
        goal = fen * rng.choice([90, 95, 100, 105, 110]) // 100 // 100_00 * 100_00 or 100_00
        db.session.add(SalesTarget(store_id=store_id, ym=ym, amount_fen=goal,
                                   updated_by_id=admin.id if admin else None))
    db.session.commit()


def _store_sales(rng, store: Store, members, today: date, days: int, monthly: dict) -> list[dict]:
    out = []
    # Each member buys every few weeks until, for some, a day they stop coming (churn).
    stops = {m.id: today - timedelta(days=rng.choice([0, 0, 0, 60, 120, 200])) for m in members}
    for offset in range(days, 0, -1):  # up to yesterday: today's hours are not all past yet
        day = today - timedelta(days=offset)
        buyers = [m for m in members if m.applied_on <= day <= stops[m.id] and rng.random() < 0.04]
        for i in range(rng.randint(2, 6) + len(buyers)):
            member = buyers[i] if i < len(buyers) else None
            price = rng.choice(PRICES)
            items = rng.choice([1, 1, 1, 2, 2, 3])
            amount = price * items
            out.append({"store_code": store.code, "sale_no": f"{store.code}-{day:%Y%m%d}-{i:03d}",
                        "sold_at": f"{day.isoformat()} {rng.randint(10, 21):02d}:{rng.randint(0, 59):02d}",
                        "member_card": member.card_no if member else "", "amount": str(amount),
                        "items": str(items)})
            ym = day.year * 100 + day.month
            monthly[(store.id, ym)] = monthly.get((store.id, ym), 0) + amount * 100
    return out


def _returns(rng, rows: list[dict]) -> None:
    """About one ticket in 80 comes back a few days later, whole."""
    back = []
    for row in rows:
        if rng.random() < 1 / 80:
            day = date.fromisoformat(row["sold_at"][:10]) + timedelta(days=rng.randint(1, 6))
            if day >= local_date(clock.now()):
                continue
            back.append({"store_code": row["store_code"], "sale_no": row["sale_no"] + "-R",
                         "sold_at": f"{day.isoformat()} 15:00", "amount": row["amount"],
                         "items": row["items"], "return_of": row["sale_no"]})
    if back:
        sales.record(rows=back, source="demo")
