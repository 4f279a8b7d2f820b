"""Points (SPEC §2, seed 000 §(二)): credited with each sale, taken back with each return,
turned into cash back, announced by SMS within a day.

- A sale of N yuan earns floor(N × points_per_yuan) points; a return takes back the points of
  its amount the same way. Points move two counters: `Member.points`, the accumulated points
  (tiers, the formal-membership threshold), and `Member.points_balance`, what can still become
  cash back or gifts. Every full `cashback_points` of the balance is worth `cashback_yuan` yuan off
  the next purchase.
- A return after the points were spent: both counters go down, never below zero; the cash back
  already used is not reclaimed here (the till settles the refund), and the ledger line keeps
  the full amount taken back.
- Crediting is set-based, in the transaction that writes the sales (page, file import, till API):
  one INSERT … SELECT of ledger lines and one UPDATE of the members touched.
- The points SMS: once a member's sales day is over (local time), one SMS per member and day,
  with that day's total, the store and the points now — several sales on one day, one SMS.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, and_, case, cast, func, literal, select, update

from .. import clock, settings
from ..calendar import local_date, local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, Member, PointsEntry, TZDateTime, User
from ..models import Sale
from ..models.base import insert_ignoring_duplicates
from ..workflows.engine import ids_in
from ..outbox import queue_sms


class PointsRefused(Refusal):
    """A points change was refused; str() is the message in the user's language."""


def _points_of(amount_fen):
    """SQL: floor(|yuan| × rate) with the amount's sign (integer arithmetic, never float)."""
    rate = settings.get_int("points_per_yuan")
    return case((amount_fen >= 0, amount_fen * rate // 100),
                else_=-((-amount_fen) * rate // 100))


def credit_sales(*, created_at: datetime | None, source: str,
                 notified_at: datetime | None = None) -> None:
    """Credit the points of the member sales written at `created_at` from `source` (the
    batch just inserted), and move the members' counters; no commit. `created_at` None credits
    every sale of `source` not credited yet, each line dated by its sale (the demo's history;
    with `notified_at` its points SMS count as sent)."""
    batch = and_(Sale.source == source, Sale.member_id.is_not(None))
    if created_at is not None:
        batch = and_(batch, Sale.created_at == created_at)
    points = cast(_points_of(Sale.amount_fen), Integer)
    # A sale credited already is skipped by the unique sale_id (not by NOT EXISTS, which made
    # PostgreSQL rescan the lines this statement wrote: 290 s for a 100,000-row import).
    ids = db.session.execute(insert_ignoring_duplicates(PointsEntry.__table__).from_select(
        ["member_id", "kind", "points", "balance_points", "sale_id", "note", "created_at",
         "notified_at"],
        select(Sale.member_id, case((Sale.return_of_id.is_(None), "sale"), else_="return"),
               points, points, Sale.id, literal(""),
               literal(created_at, TZDateTime) if created_at is not None else Sale.sold_at,
               literal(notified_at, TZDateTime))
        .where(batch)).returning(PointsEntry.__table__.c.id)).scalars().all()
    if ids:
        _apply(ids_in(PointsEntry.id, ids))


def _apply(*entries) -> None:
    """Add the given ledger lines to their members' counters, floored at zero: one aggregate of
    the lines per member, joined once (UPDATE … FROM), so 100,000 lines are one pass."""
    agg = (select(PointsEntry.member_id.label("member_id"),
                  func.sum(PointsEntry.points).label("points"),
                  func.sum(PointsEntry.balance_points).label("balance"))
           .where(*entries).group_by(PointsEntry.member_id).subquery())
    floor = func.greatest if db.session.get_bind().dialect.name == "postgresql" else func.max
    db.session.execute(update(Member).where(Member.id == agg.c.member_id).values(
        points=floor(Member.points + agg.c.points, 0),
        points_balance=floor(Member.points_balance + agg.c.balance, 0))
        .execution_options(synchronize_session=False))


def cashback_available(member: Member) -> int:
    """Cash back the member can use on the next purchase, in fen."""
    per = settings.get_int("cashback_points")
    return (member.points_balance // per) * settings.get_int("cashback_yuan") * 100 if per else 0


def adjust(*, actor: User, member: Member, kind: str, points: int, note: str,
           now: datetime | None = None) -> PointsEntry:
    """Cash back used, a gift exchange (both spend the balance) or a correction with a reason;
    audited; commits."""
    now = now or clock.now()
    if kind not in ("cashback", "exchange", "correction"):
        raise PointsRefused(N_("未知的积分变动类型"))
    if kind == "correction" and not note.strip():
        raise PointsRefused(N_("手工调整积分须填写原因"))
    if kind != "correction" and not 0 < points <= member.points_balance:
        raise PointsRefused(N_("可用积分不足"))
    spend = kind != "correction"
    entry = PointsEntry(member_id=member.id, kind=kind, points=0 if spend else points,
                        balance_points=-points if spend else points, note=note.strip()[:200],
                        created_by_id=actor.id, created_at=now, notified_at=now)
    db.session.add(entry)
    db.session.flush()
    _apply(PointsEntry.id == entry.id)
    db.session.add(AuditEvent(object_type="member", object_id=member.id, actor_id=actor.id, at=now,
                              action=f"points_{kind}", data={"points": points}))
    db.session.commit()
    db.session.refresh(member)
    return entry


def ledger(member: Member, *, limit: int = 50) -> list[PointsEntry]:
    return db.session.scalars(select(PointsEntry).where(PointsEntry.member_id == member.id)
                              .order_by(PointsEntry.id.desc()).limit(limit)).all()


def queue_points_sms(*, now: datetime | None = None) -> int:
    """One points SMS per member per finished local day of sales (the seed's "售后1天短信告知积分");
    idempotent: the day's ledger lines are marked notified with the SMS. Commits."""
    now = now or clock.now()
    today_start = local_midnight_utc(local_date(now))
    rows = db.session.execute(
        select(PointsEntry.id, PointsEntry.member_id, PointsEntry.created_at, Sale.amount_fen,
               Sale.store_id, Sale.sold_at)
        .join(Sale, Sale.id == PointsEntry.sale_id)
        .where(PointsEntry.notified_at.is_(None), PointsEntry.kind == "sale",
               Sale.sold_at < today_start)
        .order_by(PointsEntry.member_id, Sale.sold_at)).all()
    days: dict[tuple[int, object], list] = {}
    for row in rows:
        days.setdefault((row.member_id, local_date(row.sold_at)), []).append(row)
    sent = 0
    for (member_id, day), lines in days.items():
        member = db.session.get(Member, member_id)
        if member.status == "active" and member.mobile_dead_at is None:
            queue_sms(member, "points_formal" if member.card_type == "formal" else "points_temporary",
                      extra={"date": f"{day.month}月{day.day}日",
                             "amount": _yuan(sum(r.amount_fen for r in lines)),
                             "sale_store": _store_name(lines[-1].store_id)})
            sent += 1
        db.session.execute(update(PointsEntry).where(PointsEntry.id.in_([r.id for r in lines]))
                           .values(notified_at=now).execution_options(synchronize_session=False))
    db.session.commit()
    return sent


def _yuan(fen: int) -> str:
    whole, cents = divmod(fen, 100)
    return f"{whole}" if not cents else f"{whole}.{cents:02d}"


def _store_name(store_id: int) -> str:
    from ..models import Store

    return db.session.get(Store, store_id).name
