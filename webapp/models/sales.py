"""Sales data: till tickets and returns, monthly targets, till API tokens, monthly roll-ups.

Money is integer fen. `ym` is the Asia/Shanghai month of a sale as yyyymm (202610), so periods
are ranges of one indexed integer column. The two roll-up tables are kept by the sales service
in the same transaction as the sales (webapp/services/sales.py) and can be rebuilt from `sale`.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..extensions import db
from .base import TZDateTime

__all__ = ["Sale", "SalesTarget", "ApiToken", "MemberMonth", "StoreMonth"]


class Sale(db.Model):
    """One till ticket; a return (return_of_id set) carries negative amount and items."""

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"))
    sale_no: Mapped[str] = mapped_column(db.String(40))
    member_id: Mapped[int | None] = mapped_column(db.ForeignKey("member.id"))
    sold_at: Mapped[datetime] = mapped_column(TZDateTime)
    ym: Mapped[int] = mapped_column()
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    items: Mapped[int] = mapped_column()
    # +1 for a sale, -1 for a return that reverses its whole sale, 0 for a partial return:
    # ticket counts are then a plain SUM.
    ticket_delta: Mapped[int] = mapped_column(db.SmallInteger)
    associate_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    return_of_id: Mapped[int | None] = mapped_column(db.ForeignKey("sale.id"), index=True)
    source: Mapped[str] = mapped_column(db.String(10), default="import")
    # What was bought, as the till names it ("丝光棉T恤"); optional (the day-3 call names it).
    category: Mapped[str | None] = mapped_column(db.String(40))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    store = relationship("Store")
    member = relationship("Member")
    associate = relationship("User")
    __table_args__ = (UniqueConstraint("store_id", "sale_no", name="uq_sale_store_no"),
                      Index("ix_sale_store_ym", "store_id", "ym"),
                      # A member's sales in time order; on PostgreSQL it also carries what the
                      # card-expiry waiver sums, so that selection reads the index alone.
                      Index("ix_sale_member_sold", "member_id", "sold_at",
                            postgresql_include=["ticket_delta", "amount_fen"]))


class SalesTarget(db.Model):
    """A store's sales target for one month."""

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"))
    ym: Mapped[int] = mapped_column()
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    updated_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    store = relationship("Store")
    __table_args__ = (UniqueConstraint("store_id", "ym", name="uq_sales_target_store_ym"),)


class ApiToken(db.Model):
    """A till system's key for one store; only a hash of the secret is kept."""

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(60))
    prefix: Mapped[str] = mapped_column(db.String(12))
    token_hash: Mapped[str] = mapped_column(db.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    store = relationship("Store")


class MemberMonth(db.Model):
    """Roll-up: one member's net spend, tickets and items at one store in one month."""

    ym: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    tickets: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(default=0)
    # A store's or an area's months (the analyses at store scope, the monthly pack's 200 stores):
    # the primary key leads with ym, so without this every store scanned the whole company's months.
    # The figures are included so PostgreSQL answers from the index alone.
    # A member's months; with the store and tickets included, the churn's per-member months
    # (analyses.lapsed_series) come from the index alone, in member order.
    __table_args__ = (Index("ix_member_month_member", "member_id", "ym",
                            postgresql_include=["store_id", "tickets"]),
                      Index("ix_member_month_store_ym", "store_id", "ym", "member_id",
                            postgresql_include=["amount_fen", "tickets"]))


class StoreMonth(db.Model):
    """Roll-up: a store's month in totals, all tickets and member tickets apart."""

    ym: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    tickets: Mapped[int] = mapped_column(default=0)
    items: Mapped[int] = mapped_column(default=0)
    member_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    member_tickets: Mapped[int] = mapped_column(default=0)
    member_items: Mapped[int] = mapped_column(default=0)
