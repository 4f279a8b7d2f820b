"""Messages to members and customers: the seeds' SMS templates with their blanks turned into
named placeholders, and the outbox rows they become (sent by a gateway, or recorded instead).

Below the workflows: a process's effect (approval, a complaint reply) queues its message here.
"""
from __future__ import annotations

from string import Formatter

from . import settings
from .extensions import db
from .models import Member, OutboxMessage

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


def queue_sms(member: Member, template: str, *, extra: dict | None = None) -> OutboxMessage | None:
    """Put an SMS for a member in the outbox (caller commits); `extra` fills the template's
    other placeholders (a sale's date and amount…). None for a number flagged dead (空号/停机):
    nothing is planned to it until staff correct it."""
    if member.mobile_dead_at is not None:
        return None
    msg = OutboxMessage(channel="sms", member_id=member.id, store_id=member.store_id,
                        recipient=member.mobile, recipient_name=member.name, template=template,
                        body=render(template, member_context(member) | (extra or {})))
    db.session.add(msg)
    return msg


# Call scripts shown with a call task (seed 000 §二 5–8), filled like the SMS templates.
SCRIPTS: dict[str, tuple[str, str]] = {
    "tell_formal": ("告知成为正式会员（消费时）",
                    "{salutation}，您好！您在{brand}的消费已经达到了{threshold}分了，恭喜您成为{brand}的正式会员，"
                    "我们会将您的资料寄回总公司为您申办会员卡，您可以在5天之后到咱们店来取卡。\n"
                    "若顾客表示5天后没有时间：如果您太忙不方便过来，我给您寄到您家/单位里，地址您核对一下，是这样的吗？\n"
                    "若顾客过几天就不在本地：等您回来之后，您到咱们店里来，我们再根据消费记录为您补办，请您谅解。"),
    "pickup_call": ("第5天致电邀请领卡",
                    "{salutation}，您好，我是{store}的{associate}，您在我们店里消费积分已经超过{threshold}分，"
                    "今天刚好是第5天了，您可以来店里领取您的正式会员卡，请问您大概几点过来呢？\n"
                    "若顾客说下午/晚上/一会就过去：好的，那我就在店里恭候您了！\n"
                    "若顾客要过两天再过去：没关系，那我先帮您保存几天，等您过来的时候我拿给您！\n"
                    "若顾客最近都没时间：如果您太忙不方便过来，我给您寄到您家/单位里，地址您核对一下，是这样吗？"),
    "hand_over": ("顾客到店领卡",
                  "{salutation}，您好，很高兴又见到您了。这是您的会员卡，您可以仔细阅读一下折页上的会员卡使用说明、"
                  "会员卡须知和会员积分说明。恭喜您成为{brand}尊贵的会员！另外，您已经获得积分返现{cashback}元的优惠，"
                  "现在买衣服就可以直接抵用了。"),
    # Seed 000 §(二)1 (2) 售后3天电话回访. The till sends no item category, so the script names the
    # purchase by its day ("那件衣服"); the associate fills in the category from the ticket.
    "aftersale_call": ("售后第3天电话回访",
                       "满意度询问：{salutation}，您好！我是{brand}{store}的{associate}，您在{sale_date}在我们店里买的"
                       "那件衣服感觉挺好的吧？\n"
                       "洗涤保养小常识告知与洗衣需求询问：还有，清洗的时候一定要按照我上次和您说的洗涤保养方法，"
                       "如果您工作比较忙的话，可以拿到店里，我们来帮您洗。\n"
                       "其他内容告知（适当时选用）：节日问候、促销信息、新品信息、积分信息（您目前的积分是{points}分）。\n"
                       "询问意见及建议：简单询问；顾客提出的意见和问题须在三天内处理并回复。"),
}


def script_text(key: str, member: Member, extra: dict | None = None) -> str:
    """A call script filled for this member (their associate, store, points) and the case's
    own values (`extra`: the case data, e.g. the sale day of an after-sale call)."""
    per = settings.get_int("cashback_points")
    context = (extra or {}) | member_context(member) | {
        "associate": member.associate.display_name if member.associate else "",
        "cashback": (member.points_balance // per) * settings.get_int("cashback_yuan") if per else 0}
    text = SCRIPTS[key][1]
    return text.format_map(context)
