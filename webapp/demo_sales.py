"""Demo sales: two years of till tickets for the demo stores, shaped like a clothing store's —
20–40 tickets a day (more at weekends, in the gift and sale seasons), a few hundred yuan a
ticket, about three tickets in five from members, a few per cent growth a year — a few returns,
and monthly targets. Called by demo.load().

Written set-based (one multi-row insert, then the roll-ups rebuilt from the sales), not through
the import's row-by-row checks: 70,000 generated rows need no validation and the import path
took most of the demo's load time.
"""
from __future__ import annotations

import itertools
import random
from collections import defaultdict
from datetime import date, timedelta

from sqlalchemy import select, update

from . import clock, settings
from .calendar import add_months, local_date, local_midnight_utc
from .extensions import db
from .models import Member, Role, Store, User
from .models import Sale, SalesTarget
from .services import points, sales

# Price of one piece, yuan: tees and knits to coats.
PRICES = [59, 89, 129, 159, 199, 239, 269, 299, 359, 399, 459, 599, 799, 1199]
PRICE_WEIGHTS = [4, 8, 10, 10, 12, 10, 8, 8, 6, 5, 4, 3, 2, 1]
ITEMS = {"member": [1, 1, 1, 2, 2, 3], "walk_in": [1, 1, 1, 1, 2]}
# Tickets on an ordinary weekday, per store.
BASE_TICKETS = {"SH01": 30, "HZ01": 19, "GZ01": 26, "SZ01": 22}
# Month factor: Spring Festival shopping in January, quiet summer, National Day, Double 11, winter.
SEASON = {1: 1.25, 2: 0.95, 3: 0.85, 4: 0.9, 5: 1.0, 6: 0.9, 7: 0.8, 8: 0.85, 9: 0.95, 10: 1.15,
          11: 1.15, 12: 1.2}
GROWTH = 0.07            # a year, in tickets and in the member share below
MEMBER_SHARE = 0.57      # of tickets today; a year ago 0.57 - 0.04
HOURS = list(range(10, 22))
HOUR_WEIGHTS = [2, 3, 4, 5, 5, 5, 6, 7, 8, 8, 6, 3]
RETURNS = 1 / 80         # tickets brought back whole a few days later
RECENT = 45              # days: members who joined since are the workflow's recent registrations
# What a ticket's first piece is (the till's category; the day-3 call names it), by price band.
CATEGORIES = {59: ["丝光棉T恤", "纯棉T恤"], 89: ["POLO衫", "纯棉T恤"], 129: ["纯棉衬衫", "POLO衫"],
              159: ["纯棉衬衫", "休闲裤"], 199: ["休闲裤", "牛仔裤"], 239: ["牛仔裤", "针织衫"],
              269: ["针织衫", "真丝衬衫"], 299: ["真丝衬衫", "卫衣"], 359: ["羊毛衫", "夹克"],
              399: ["夹克", "风衣"], 459: ["风衣", "休闲西装"], 599: ["休闲西装", "羽绒服"],
              799: ["羊绒大衣", "羽绒服"], 1199: ["羊绒大衣", "西服套装"]}


def load(seed: int = 11, days: int = 730) -> None:
    """Write the sales, rebuild the roll-ups, then the members' points and the targets."""
    rng = random.Random(seed)
    today = local_date(clock.now())
    rows = []
    for store in db.session.scalars(select(Store).order_by(Store.id)):
        rows += _store_sales(rng, store, today, days)
    kinds = random.Random(seed + 1)  # its own stream: the tickets above stay as they were
    for r in rows:
        r["category"] = kinds.choice(CATEGORIES[max(p for p in PRICES if p * 100 <= r["amount_fen"])])
    for i in range(0, len(rows), 5000):
        db.session.execute(Sale.__table__.insert(), rows[i:i + 5000])
    _returns(rng, rows, today)
    sales.rebuild_rollups()  # commits
    _points(rows, today)
    _targets(rng, rows)
    db.session.commit()


def _pool(rng: random.Random, store: Store, today: date) -> list[tuple[int, date, date, float]]:
    """(member id, joined, last day they buy, how often) for the store's members with a history.
    One in five stopped coming some time ago; their card was not renewed (it ran out a year
    after it was last renewed), so they count as lapsed, then as no longer valid."""
    out = []
    members = db.session.execute(select(Member.id, Member.applied_on).where(
        Member.store_id == store.id, Member.status == "active",
        Member.applied_on < today - timedelta(days=RECENT)).order_by(Member.id)).all()
    lapsed = []
    for member_id, joined in members:
        last = date.max  # still buying
        if rng.random() < 0.2 and (today - joined).days > 200:
            last = joined + timedelta(days=rng.randint(90, (today - joined).days - 100))
            expires = add_months(joined, 12)
            while expires < last:
                expires = add_months(expires, 12)
            lapsed.append({"id": member_id, "card_expires_on": expires})
        out.append((member_id, joined, last, rng.choice([0.5, 1, 1, 1, 1.5, 2, 3])))
    if lapsed:
        db.session.execute(update(Member), lapsed)
    return out


def _store_sales(rng: random.Random, store: Store, today: date, days: int) -> list[dict]:
    pool = _pool(rng, store, today)
    staff = list(db.session.scalars(select(User.id).where(
        User.store_id == store.id, User.role.in_([Role.ASSOCIATE, Role.STORE_MANAGER]))))
    now = clock.now()
    out, buyers, weights = [], [], []
    for offset in range(days, 0, -1):  # up to yesterday: today's hours are not all past yet
        day = today - timedelta(days=offset)
        years_ago = offset / 365
        if offset == days or day.weekday() == 0:
            # Who may buy this week: re-chosen weekly, cheaper than daily and just as plausible.
            week = [m for m in pool if m[1] <= day and day + timedelta(days=6) <= m[2]]
            buyers = [m[0] for m in week]
            weights = list(itertools.accumulate(m[3] for m in week))
        factor = SEASON[day.month] * (1.45 if day.weekday() >= 5 else 1) * (1 - GROWTH * years_ago)
        tickets = max(3, round(BASE_TICKETS[store.code] * factor * rng.uniform(0.8, 1.2)))
        share = MEMBER_SHARE - 0.04 * years_ago
        midnight = local_midnight_utc(day)
        ym = day.year * 100 + day.month
        times = sorted(timedelta(hours=h, minutes=rng.randint(0, 59), seconds=rng.randint(0, 59))
                       for h in rng.choices(HOURS, HOUR_WEIGHTS, k=tickets))
        for i, at in enumerate(times, start=1):
            member = rng.choices(buyers, cum_weights=weights)[0] if (
                buyers and rng.random() < share) else None
            items = rng.choice(ITEMS["member" if member else "walk_in"])
            fen = sum(rng.choices(PRICES, PRICE_WEIGHTS, k=items)) * 100
            out.append({"store_id": store.id, "sale_no": f"{store.code}-{day:%Y%m%d}-{i:03d}",
                        "member_id": member, "sold_at": midnight + at, "ym": ym,
                        "amount_fen": fen, "items": items, "ticket_delta": 1,
                        "associate_id": rng.choice(staff) if staff else None,
                        "return_of_id": None, "source": "demo", "created_at": now})
    return out


def _returns(rng: random.Random, rows: list[dict], today: date) -> None:
    """About one ticket in 80 comes back whole a few days later (the ticket no longer counts)."""
    picked = [r for r in rows if rng.random() < RETURNS]
    picked = [(r, local_date(r["sold_at"]) + timedelta(days=rng.randint(1, 6))) for r in picked]
    picked = [(r, day) for r, day in picked if day < today]
    ids = dict(((s, n), i) for i, s, n in db.session.execute(
        select(Sale.id, Sale.store_id, Sale.sale_no).where(Sale.ticket_delta == 1)))
    now = clock.now()
    back = [{"store_id": r["store_id"], "sale_no": r["sale_no"] + "-R", "member_id": r["member_id"],
             "sold_at": local_midnight_utc(day) + timedelta(hours=15), "ym": day.year * 100 + day.month,
             "amount_fen": -r["amount_fen"], "items": -r["items"], "ticket_delta": -1,
             "associate_id": r["associate_id"], "return_of_id": ids[(r["store_id"], r["sale_no"])],
             "source": "demo", "created_at": now, "category": r["category"]} for r, day in picked]
    if back:
        db.session.execute(Sale.__table__.insert(), back)
    rows.extend(back)


def _points(rows: list[dict], today: date) -> None:
    """The points ledger from the sales, as the till's tickets are credited (one line per ticket,
    dated by it, its SMS long sent): the members' points are its sums, so they agree with their
    sales. A member whose points reached the threshold holds a formal card (its number moved
    from the T… to the F… series); the tiers follow the points (demo_lifecycle)."""
    points.credit_sales(created_at=None, source="demo", notified_at=clock.now())
    threshold = settings.get_int("formal_points_threshold")
    codes = dict(db.session.execute(select(Store.id, Store.code)).all())
    changes = []
    for member_id, store_id, card_no, got in db.session.execute(select(
            Member.id, Member.store_id, Member.card_no, Member.points).where(
            Member.card_type == "temporary", Member.card_no.like("T%"))):
        if got >= threshold:
            changes.append({"id": member_id, "card_type": "formal", "previous_card_no": card_no,
                            "card_no": "F" + card_no[1:]})
    if changes:
        db.session.execute(update(Member), changes)


def _targets(rng: random.Random, rows: list[dict]) -> None:
    """Each month's target near what the store sold that month (for the first and the current
    month, what it sold a day times the month's days), rounded to 10,000 yuan."""
    monthly, days = defaultdict(int), defaultdict(set)
    for r in rows:
        monthly[(r["store_id"], r["ym"])] += r["amount_fen"]
        days[(r["store_id"], r["ym"])].add(local_date(r["sold_at"]))
    admin = db.session.scalar(select(User.id).where(User.username == "admin"))
    for (store_id, ym), fen in sorted(monthly.items()):
        month_days = (add_months(date(ym // 100, ym % 100, 1), 1) - timedelta(days=1)).day
        fen = fen * month_days // len(days[(store_id, ym)])
        goal = fen * rng.choice([90, 95, 100, 105, 110]) // 100 // 100_00_00 * 100_00_00 or 100_00_00
        db.session.add(SalesTarget(store_id=store_id, ym=ym, amount_fen=goal, updated_by_id=admin))
