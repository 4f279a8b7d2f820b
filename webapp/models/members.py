"""Members (personal data encrypted at rest) and their points ledger."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index, text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .. import clock
from ..crypto import Encrypted, mask_mobile
from ..extensions import db
from ..i18n_labels import N_
from .base import TZDateTime


VALIDITY_LABELS = {"pending": N_("待审核"), "valid": N_("有效"), "expiring": N_("即将到期"),
                   "expired": N_("已过期")}


class Member(db.Model):
    """A (temporary or formal) member; personal data columns are encrypted at rest."""

    id: Mapped[int] = mapped_column(primary_key=True)
    card_no: Mapped[str] = mapped_column(db.String(20), unique=True)
    card_type: Mapped[str] = mapped_column(db.String(12), default="temporary")
    status: Mapped[str] = mapped_column(db.String(12), default="pending")
    store_id: Mapped[int] = mapped_column(db.ForeignKey("store.id"), index=True)
    associate_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(60))
    gender: Mapped[str] = mapped_column(db.String(1))
    # Birth year and month-day (MMDD, e.g. 1201) stay clear: ages in whole years at a day are
    # computed in SQL for the age-band analysis (SPEC §4), and birthday greetings need month and
    # day. The full date is personal data, encrypted; both are set where it is saved.
    birth_year: Mapped[int | None] = mapped_column()
    birth_month_day: Mapped[int | None] = mapped_column(db.SmallInteger, index=True)  # a day's birthdays
    birth_date = mapped_column(Encrypted)
    mobile = mapped_column(Encrypted)
    mobile_hash: Mapped[str] = mapped_column(db.String(64), unique=True)
    # The last four digits in clear: staff find a member by them (the counter's "尾号") without
    # decrypting every member; four digits of eleven identify no one. Kept in step by `_last4`.
    mobile_last4: Mapped[str | None] = mapped_column(db.String(4), index=True)
    address = mapped_column(Encrypted)
    work_address = mapped_column(Encrypted)
    email = mapped_column(Encrypted)
    occupation: Mapped[str] = mapped_column(db.String(20), default="")
    # Preferences as the seed lists them (000 §二2, SPEC §3.9): sizes, styles, colours; clear
    # text like the rest of the profile an associate memorises. `preferences` holds anything else
    # (其他喜好) — and the single text of before the split, which no rule can split reliably.
    pref_sizes: Mapped[str] = mapped_column(db.String(100), default="", server_default="")
    pref_styles: Mapped[str] = mapped_column(db.String(200), default="", server_default="")
    pref_colours: Mapped[str] = mapped_column(db.String(100), default="", server_default="")
    preferences: Mapped[str] = mapped_column(db.Text, default="")
    heard_from: Mapped[str] = mapped_column(db.String(60), default="")
    applied_on: Mapped[date] = mapped_column(db.Date)
    points: Mapped[int] = mapped_column(default=0)  # accumulated (tiers, formal threshold)
    points_balance: Mapped[int] = mapped_column(default=0)  # not yet turned into cash back or gifts
    tier: Mapped[str] = mapped_column(db.String(1), default="C")  # the applied tier
    # The tier the member qualifies for by the tier rule (services/tiers.recompute, nightly and
    # on demand); a difference with `tier` is proposed to the store manager, never applied.
    qualifying_tier: Mapped[str | None] = mapped_column(db.String(1))
    card_expires_on: Mapped[date | None] = mapped_column(db.Date)
    card_issued_on: Mapped[date | None] = mapped_column(db.Date)  # the formal card handed over / mailed
    # The temporary card's number once the formal card replaced it: it still finds the member.
    previous_card_no: Mapped[str | None] = mapped_column(db.String(20))
    # A number known to be empty or out of service (空号/停机): no call, no SMS until corrected.
    mobile_dead_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    # Opted out of marketing SMS (uplink "TD" or marked by staff); service messages still go.
    sms_opt_out_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    store = relationship("Store")
    associate = relationship("User")
    anniversaries = relationship("MemberAnniversary", order_by="MemberAnniversary.id",
                                 cascade="all, delete-orphan", back_populates="member")
    # Partial where most members sit outside the index (active, tier C, no previous card): a
    # look-up for the few still finds them, and a write to the many (a month's renewals, the
    # nightly tiers) maintains three indexes fewer.
    __table_args__ = (
        Index("ix_member_status", "status", postgresql_where=text("status <> 'active'"),
              sqlite_where=text("status <> 'active'")),
        Index("ix_member_tier", "tier", postgresql_where=text("tier <> 'C'"),
              sqlite_where=text("tier <> 'C'")),
        Index("ix_member_previous_card_no", "previous_card_no",
              postgresql_where=text("previous_card_no IS NOT NULL"),
              sqlite_where=text("previous_card_no IS NOT NULL")))

    @property
    def anniversary(self) -> str:
        """The anniversaries as one line ("结婚纪念日 05-20；入会纪念日 09-01"): the member page,
        the printed form and the reveal show it (masked: the days as **-**)."""
        return "；".join(f"{a.name} {a.month_day // 100:02d}-{a.month_day % 100:02d}"
                        for a in self.anniversaries)

    def validity(self, today: date) -> str:
        """The card's standing on `today`: pending, valid, expiring (this month or the next),
        expired (past its date or lapsed); a label key of VALIDITY_LABELS."""
        if self.status == "pending":
            return "pending"
        if self.status == "lapsed" or (self.card_expires_on and self.card_expires_on < today):
            return "expired"
        if self.card_expires_on and (self.card_expires_on.year * 12 + self.card_expires_on.month
                                     <= today.year * 12 + today.month + 1):
            return "expiring"
        return "valid"

    @validates("mobile")
    def _last4(self, _key, value):
        self.mobile_last4 = str(value)[-4:] if value else None
        return value

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


class MemberAnniversary(db.Model):
    """One of a member's anniversaries (seed 000 §(二)2 "结婚纪念日及其他重要纪念日"), greeted
    on the day like a birthday: a name and the month-day (MMDD) in clear, as birth_month_day is
    (the care batch selects a day's anniversaries in SQL; a month and day identify no one)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), index=True)
    name: Mapped[str] = mapped_column(db.String(20))
    month_day: Mapped[int] = mapped_column(db.SmallInteger, index=True)
    member = relationship("Member", back_populates="anniversaries")


class PointsEntry(db.Model):
    """One line of a member's points ledger: a sale, a return, cash back used, a gift exchange
    or a manual correction. `points` moves the accumulated points (tiers, formal threshold);
    `balance_points` moves what can still be turned into cash back or gifts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(db.ForeignKey("member.id"), index=True)
    kind: Mapped[str] = mapped_column(db.String(12))  # sale | return | cashback | exchange | correction
    points: Mapped[int] = mapped_column(default=0)
    balance_points: Mapped[int] = mapped_column(default=0)
    sale_id: Mapped[int | None] = mapped_column(db.ForeignKey("sale.id"), unique=True)
    note: Mapped[str] = mapped_column(db.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(db.ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(TZDateTime, default=clock.now)
    # The points SMS of the day this entry belongs to (one per member per day of sales).
    notified_at: Mapped[datetime | None] = mapped_column(TZDateTime)
    member = relationship("Member")
    __table_args__ = (Index("ix_points_entry_unnotified", "notified_at", "kind"),)
