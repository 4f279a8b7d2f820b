"""The outbox page: the messages the system wrote, in the user's scope (templates: webapp/outbox.py)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import case, func, or_, select

from .. import permissions
from ..periods import Year, day_window
from ..crypto import mask_mobile, mask_text
from ..extensions import db
from ..i18n_labels import N_
from ..models import Member, OutboxMessage, Store, User
from ..spreadsheet import append, print_setup
from . import tiers

# ------------------------------------------------------------------ the outbox page

# What the outbox calls each template (the filter's choices); a template missing here shows its key.
KINDS = {"welcome_temporary": N_("临时会员欢迎短信"), "welcome_formal": N_("正式会员通知短信"),
         "points_temporary": N_("积分通知短信（临时会员）"), "points_formal": N_("积分通知短信（正式会员）"),
         "complaint_reply": N_("投诉回复"), "complaint_solution": N_("投诉方案执行通知"),
         # care batches (SPEC §3.4)
         "care_spring_festival": N_("春节祝福短信（会员）"),
         "care_spring_festival_contact": N_("春节祝福短信（非会员）"),
         "care_dragon_boat": N_("端午祝福短信"), "care_mid_autumn": N_("中秋祝福短信"),
         "care_holiday": N_("节日祝福短信（公司统一）"), "care_season": N_("新品上市短信"),
         "care_birthday": N_("生日祝福短信"),
         "season_launch": N_("新品上市通知"), "card_renewed": N_("会员卡免费续期短信")}
STATUSES = {"queued": N_("待发送"), "sending": N_("发送中"), "sent": N_("已发送"),
            "delivered": N_("已送达"), "failed": N_("发送失败"), "unknown": N_("结果未知")}


@dataclass(frozen=True)
class OutboxFilter:
    """The outbox page's filters; empty values filter nothing, days are local and inclusive."""
    store_id: int | None = None
    template: str = ""
    status: str = ""
    first_day: date | None = None
    last_day: date | None = None
    tier: str = ""  # messages to members of this tier (A/B/C)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message as the outbox lists it: the recipient's number or address masked."""
    created_at: datetime
    channel: str
    template: str
    status: str
    store_name: str
    name: str
    masked_recipient: str
    body: str


def _outbox_query(user: User, filters: OutboxFilter):
    query = select(OutboxMessage).where(
        permissions.store_area_filter(user, OutboxMessage.store_id))
    if filters.store_id:
        query = query.where(OutboxMessage.store_id == filters.store_id)
    if filters.template:
        query = query.where(OutboxMessage.template == filters.template)
    if filters.status:
        query = query.where(OutboxMessage.status == filters.status)
    if filters.first_day:
        query = query.where(OutboxMessage.created_at >= day_window(filters.first_day)[0])
    if filters.last_day:
        query = query.where(OutboxMessage.created_at
                            < day_window(filters.last_day)[1])
    return tiers.only_tier(query, OutboxMessage.member_id, filters.tier)


COUNT_CAP = 10_000


def outbox_page(*, user: User, filters: OutboxFilter, limit: int = 50,
                offset: int = 0) -> tuple[list[OutboxRow], int]:
    """A page of the user's outbox, newest first, and how many messages match in all (at most
    COUNT_CAP + 1: more than COUNT_CAP is all the page says then)."""
    page = (_outbox_query(user, filters).order_by(OutboxMessage.created_at.desc(),
                                                  OutboxMessage.id.desc())
            .limit(limit).offset(offset).subquery())
    query = (select(OutboxMessage, Store.name, Member.name)
             .join(page, page.c.id == OutboxMessage.id)
             .outerjoin(Store, Store.id == OutboxMessage.store_id)
             .outerjoin(Member, Member.id == OutboxMessage.member_id)
             .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()))
    rows = [OutboxRow(created_at=m.created_at, channel=m.channel, template=m.template,
                      status=m.status, store_name=store or "",
                      name=m.recipient_name or member or "",
                      masked_recipient=_masked(m.channel, m.recipient), body=m.body)
            for m, store, member in db.session.execute(query)]
    # counted up to COUNT_CAP + 1: past that the page says "10,000+" (counting two million
    # rows cost HQ's page 0.1-0.5 s, for a number nobody pages through; the statistics page
    # has the exact counts per store and month)
    matching = _outbox_query(user, filters).with_only_columns(OutboxMessage.id).limit(COUNT_CAP + 1)
    total = db.session.scalar(select(func.count()).select_from(matching.subquery()))
    return rows, total


def _masked(channel: str, recipient: str | None) -> str:
    """The list shows every recipient masked, for every role: the full number stays behind the
    member page's audited reveal."""
    if not recipient:
        return ""
    return mask_text(recipient, keep=2) if channel == "email" else mask_mobile(recipient)


# ------------------------------------------------------------------ per store and month

@dataclass(frozen=True, slots=True)
class MonthRow:
    """One store's SMS in one local month: what left, arrived, failed, and the billed parts."""
    month: int
    store_name: str
    sent: int
    delivered: int
    failed: int
    segments: int


def monthly_stats(*, user: User, year: int) -> list[MonthRow]:
    """SMS per store and local month of `year` in the user's scope. "sent" counts every message
    that reached the provider (delivered or not); the cost is its parts (segments)."""
    left = or_(OutboxMessage.sent_at.is_not(None), OutboxMessage.status == "unknown")
    rows = []
    for period in Year(year).months:
        month = period.month
        start, end = period.window()
        query = (select(Store.name,
                        func.sum(case((left, 1), else_=0)),
                        func.sum(case((OutboxMessage.status == "delivered", 1), else_=0)),
                        func.sum(case((OutboxMessage.status == "failed", 1), else_=0)),
                        func.sum(case((left, OutboxMessage.segments), else_=0)))
                 .join(Store, Store.id == OutboxMessage.store_id)
                 .where(OutboxMessage.channel == "sms", OutboxMessage.created_at >= start,
                        OutboxMessage.created_at < end,
                        permissions.store_area_filter(user, OutboxMessage.store_id))
                 .group_by(Store.code, Store.name).order_by(Store.code))
        rows += [MonthRow(month, name, int(s or 0), int(d or 0), int(f or 0), int(g or 0))
                 for name, s, d, f, g in db.session.execute(query)]
    return rows


def monthly_stats_xlsx(*, rows: list[MonthRow], year: int) -> bytes:
    """The same table as an xlsx (text stays text, A4)."""
    book = Workbook()
    sheet = book.active
    sheet.title = str(year)
    append(sheet, [_("月份"), _("门店"), _("已发送"), _("已送达"), _("发送失败"), _("计费条数")])
    for r in rows:
        append(sheet, [f"{year}-{r.month:02d}", r.store_name, r.sent, r.delivered, r.failed, r.segments])
    print_setup(sheet, header_row=1, last_column="F", last_row=len(rows) + 1)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
