"""SMS/e-mail templates from the seeds, with their blanks turned into named placeholders."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from string import Formatter

from sqlalchemy import func, select

from .. import permissions, settings
from ..calendar import local_midnight_utc
from ..crypto import mask_mobile, mask_text
from ..extensions import db
from ..i18n_labels import N_
from ..models import Member, OutboxMessage, Store, User

TEMPLATES: dict[str, tuple[str, str]] = {
    # Seed 000 §二4 (temporary member points notice), addressed at approval of the registration.
    "welcome_temporary": ("临时会员入会欢迎短信",
                          "{salutation},诚挚感谢您选择{brand},您已成为{brand}{store}临时会员"
                          "(卡号{card_no}),您目前的积分是{points}分,当您的积分达到{threshold}分时,"
                          "您将会成为我们的正式会员,我们将为您送出标准会员卡,并建立会籍资料,感谢您的支持!"),
    # Seed 000 §二6 通知入会短信模板.
    "welcome_formal": ("正式会员通知短信",
                       "{salutation},恭喜您成为{brand}正式会员,您目前的积分是{points}分,请您在5天来店"
                       "领取您的会员卡!{brand}全体同仁感谢您的支持与厚爱!"),
    # Seed 000 §(二)1 "售后1天短信告知积分": temporary members (with the threshold) and formal members.
    "points_temporary": ("积分通知短信（临时会员）",
                         "{salutation}，诚挚感谢您选择{brand}，您在{date}在{brand}{sale_store}消费共计{amount}元，"
                         "您目前的积分是{points}分，当您的积分达到{threshold}分时，您将会成为我们的正式会员，"
                         "我们将为您送出标准会员卡，并建立会籍资料，感谢您的支持！"),
    "points_formal": ("积分通知短信（正式会员）",
                      "{salutation}，诚挚感谢您选择{brand}，您在{date}在{brand}{sale_store}消费共计{amount}元，"
                      "您目前的积分是{points}分，感谢您的支持！"),
    # Complaints (seed 004 §6.2): the reply (greeting once, the reply's own greeting is dropped),
    # and the notice that the agreed solution was carried out, spoken to the customer.
    "complaint_reply": ("投诉回复", "{salutation}您好，关于您反映的问题，{brand}客服回复如下：{reply}"
                        "如有疑问请致电{hotline}。"),
    "complaint_solution": ("投诉方案执行通知", "{salutation}您好，您同意的解决方案我们已经办理完毕，"
                           "感谢您的理解与支持。{brand}客服将在一周内回访您，如有疑问请致电{hotline}。"),
}


def salutation(member: Member) -> str:
    """'王先生' / '李女士' — the seeds' "_ _先生/女士"."""
    return member.name[:1] + ("先生" if member.gender == "M" else "女士")


def member_context(member: Member) -> dict:
    return {"salutation": salutation(member), "brand": settings.get("brand_name"),
            "store": member.store.name, "card_no": member.card_no, "points": member.points,
            "threshold": settings.get_int("formal_points_threshold"),
            "hotline": settings.get("hotline")}


def render(template: str, context: dict) -> str:
    """Fill a template; a missing placeholder is an error, never a silent blank."""
    text = TEMPLATES[template][1]
    missing = {f for _, f, _, _ in Formatter().parse(text) if f} - context.keys()
    if missing:
        raise KeyError(f"template {template} lacks {sorted(missing)}")
    return text.format_map(context)


def queue_sms(member: Member, template: str, *, extra: dict | None = None) -> OutboxMessage:
    """Put an SMS for a member in the outbox (caller commits); `extra` fills the template's
    other placeholders (a sale's date and amount…)."""
    msg = OutboxMessage(channel="sms", member_id=member.id, store_id=member.store_id,
                        recipient=member.mobile, recipient_name=member.name, template=template,
                        body=render(template, member_context(member) | (extra or {})))
    db.session.add(msg)
    return msg


# ------------------------------------------------------------------ the outbox page

# What the outbox calls each template (the filter's choices); a template missing here shows its key.
KINDS = {"welcome_temporary": N_("临时会员欢迎短信"), "welcome_formal": N_("正式会员通知短信"),
         "points_temporary": N_("积分通知短信（临时会员）"), "points_formal": N_("积分通知短信（正式会员）"),
         "complaint_reply": N_("投诉回复"), "complaint_solution": N_("投诉方案执行通知")}
STATUSES = {"queued": N_("待发送"), "sent": N_("已发送"), "failed": N_("发送失败")}


@dataclass(frozen=True)
class OutboxFilter:
    """The outbox page's filters; empty values filter nothing, days are local and inclusive."""
    store_id: int | None = None
    template: str = ""
    status: str = ""
    first_day: date | None = None
    last_day: date | None = None


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
        query = query.where(OutboxMessage.created_at >= local_midnight_utc(filters.first_day))
    if filters.last_day:
        query = query.where(OutboxMessage.created_at
                            < local_midnight_utc(filters.last_day + timedelta(days=1)))
    return query


def outbox_page(*, user: User, filters: OutboxFilter, limit: int = 50,
                offset: int = 0) -> tuple[list[OutboxRow], int]:
    """A page of the user's outbox, newest first, and how many messages match in all."""
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
    total = db.session.scalar(select(func.count()).select_from(
        _outbox_query(user, filters).subquery()))
    return rows, total


def _masked(channel: str, recipient: str | None) -> str:
    """The list shows every recipient masked, for every role: the full number stays behind the
    member page's audited reveal."""
    if not recipient:
        return ""
    return mask_text(recipient, keep=2) if channel == "email" else mask_mobile(recipient)
