"""Messages to members and customers: the seeds' SMS templates with their blanks turned into
named placeholders, and the outbox rows they become (sent by a gateway, or recorded instead).

Below the workflows: a process's effect (approval, a complaint reply) queues its message here.
"""
from __future__ import annotations

import math
import re
from string import Formatter

from sqlalchemy import LargeBinary, String, Text, case, cast, func, insert, literal, select, type_coerce

from . import clock, mail, settings, sms
from .extensions import db
from .i18n_labels import N_
from .models import Member, MessageTemplateVersion, OutboxMessage, TZDateTime

TEMPLATES: dict[str, tuple[str, str]] = {
    # Seed 000 §二4 (temporary member points notice), addressed at approval of the registration.
    "welcome_temporary": (N_("临时会员入会欢迎短信"),
                          "{salutation}，诚挚感谢您选择{brand}，您已成为{brand}{store}临时会员"
                          "（卡号{card_no}），您目前的积分是{points}分，当您的积分达到{threshold}分时，"
                          "您将会成为我们的正式会员，我们将为您送出标准会员卡，并建立会籍资料，感谢您的支持！"),
    # Seed 000 §二6 通知入会短信模板.
    "welcome_formal": (N_("正式会员通知短信"),
                       "{salutation}，恭喜您成为{brand}正式会员，您目前的积分是{points}分，请您在5天后来店"
                       "领取您的会员卡！{brand}全体同仁感谢您的支持与厚爱！"),
    # Seed 000 §(二)1 "售后1天短信告知积分": temporary members (with the threshold) and formal members.
    "points_temporary": (N_("积分通知短信（临时会员）"),
                         "{salutation}，诚挚感谢您选择{brand}，您在{date}在{brand}{sale_store}消费共计{amount}元，"
                         "您目前的积分是{points}分，当您的积分达到{threshold}分时，您将会成为我们的正式会员，"
                         "我们将为您送出标准会员卡，并建立会籍资料，感谢您的支持！"),
    "points_formal": (N_("积分通知短信（正式会员）"),
                      "{salutation}，诚挚感谢您选择{brand}，您在{date}在{brand}{sale_store}消费共计{amount}元，"
                      "您目前的积分是{points}分，感谢您的支持！"),
    # Complaints (seed 004 §6.2): the reply (greeting once, the reply's own greeting is dropped),
    # and the notice that the agreed solution was carried out, spoken to the customer.
    "complaint_reply": (N_("投诉回复"), "{salutation}您好，关于您反映的问题，{brand}客服回复如下：{reply}"
                        "如有疑问请致电{hotline}。"),
    # Seed 004 §1.2: the waiver met, the card renewed without the fee.
    "card_renewed": (N_("会员卡免费续期短信"),
                     "{salutation}，感谢您一年来对{brand}的支持，您的会员卡（卡号{card_no}）已免年费续期至"
                     "{expires_on}。如有疑问请致电{hotline}。"),
    # Care batches (seed 000 §(二)2 节日/生日/季度回访): the seed's texts, XX filled in.
    "care_spring_festival": (N_("春节祝福短信（会员）"),
                             "尊贵身份，尊享心礼，{brand}新春会员喜福会，与您分享喜悦新春！"
                             "详情请至{brand}{store}咨询，喜福热线：{hotline}。"),
    "care_spring_festival_contact": (N_("春节祝福短信（非会员）"),
                                     "开春团圆，喜福齐汇，{brand}新春喜福会，与您分享喜悦新春！"
                                     "详情请至{brand}{store}咨询，喜福热线：{hotline}。"),
    "care_dragon_boat": (N_("端午祝福短信"),
                         "心牵挂着你，爱祝福着你，端午粽香围绕着你，{brand}心礼等待着你，"
                         "{brand}全体同仁祝您端午节快乐！"),
    "care_mid_autumn": (N_("中秋祝福短信"),
                        "我习惯高处眺望，这样离天的距离更近；我喜欢开阔思考，这样可以预见更多的未来。"
                        "前路漫漫，始终有{brand}相伴，在我们内心深处都流淌着一种信念：家—国—天下。"
                        "{brand}{store}庆中秋、迎国庆、豪情献礼。"),
    "care_holiday": (N_("节日祝福短信（公司统一）"), "{salutation}，{brand}全体同仁祝您{occasion}快乐！"),
    "care_season": (N_("新品上市短信"),
                    "尊敬的{salutation}：{brand}{store}新一季新品服饰即日起将全面上市，"
                    "欢迎您亲临{store}感受。"),
    "care_birthday": (N_("生日祝福短信"), "{salutation}，{brand}{store}全体同仁祝您生日快乐！"),
    "care_anniversary": (N_("纪念日祝福短信"), "{salutation}，{brand}{store}全体同仁祝您{occasion}快乐！"),
    # Seed 000 §(二)2 (4) 特殊活动拜访 "短信拜访：活动信息＋促销信息"
    "care_store_anniversary": (N_("店庆邀请短信"),
                               "{salutation}，{brand}{store}{occasion}，诚邀您光临，"
                               "地址：{store_address}，电话：{store_phone}。"),
    # Seed 000 §(二)2 "E-mail回访：节日祝贺＋积分信息" (C in the Spring Festival; A, B and C at
    # the Dragon Boat and Mid-Autumn festivals and Valentine's): an e-mail, sent where the member
    # left an address (care_batch_steps.EMAIL_POINTS); `queue_email` puts it in the outbox.
    "care_points_email": (N_("节日祝福邮件（积分信息）"),
                          "{salutation}，您好！{brand}{store}全体同仁祝您{occasion}快乐！\n"
                          "您目前的积分是{points}分，其中可用积分{points_balance}分，"
                          "可抵用返现{cashback}元，下次购物时直接使用。\n"
                          "感谢您一直以来的支持，欢迎光临{store}（{store_address}，电话{store_phone}）。"),
    "complaint_solution": (N_("投诉方案执行通知"), "{salutation}您好，您同意的解决方案我们已经办理完毕，"
                           "感谢您的理解与支持。{brand}客服将在一周内回访您，如有疑问请致电{hotline}。"),
    # Marketing (SPEC §6: season launch): opt-out text, 08:00–21:00 only, not to opted-out members.
    "season_launch": (N_("新品上市通知"), "{salutation}，{brand}{store}新品已到店，欢迎您光临选购！"),
}
# Marketing templates: they carry OPT_OUT_TEXT, wait for daytime and skip opted-out members;
# every other template is a service message (points, card, complaint replies) and always goes.
MARKETING: set[str] = {"season_launch", "care_spring_festival", "care_spring_festival_contact",
                        "care_dragon_boat", "care_mid_autumn", "care_holiday", "care_season",
                        "care_birthday", "care_anniversary", "care_store_anniversary"}
OPT_OUT_TEXT = "回TD退订"


# Staff alerts posted to WeCom / DingTalk groups (issue 15; markdown both platforms render).
# They leave the company, so their context holds no member data: the task, the store, the due
# time, the link and {ref} — the case's process and number (staff_alerts.case_ref), never its
# title. A template may use only its default's placeholders (allowed_fields), so an administrator
# cannot bring a name, salutation, card number or mobile back; {标题} (the older name, still in
# saved texts) is the same reference.
STAFF_TEMPLATES: dict[str, tuple[str, str]] = {
    "staff_urgent": (N_("工作群：新的紧急待办"),
                     "**新的紧急待办：{task}**\n\n> {ref}\n> 门店：{store}\n> 期限：{due}\n\n"
                     "[查看待办]({link})"),
    "staff_overdue_line": (N_("工作群：超期待办（每项一行）"), "- {task}：{ref}（{store}） [查看]({link})"),
    "staff_bulk_opened": (N_("工作群：批量新增待办汇总"),
                          "**{store}：今日新增 {count} 个{task}任务**\n\n> 期限：{due}\n\n"
                          "[在待办中查看]({link})"),
}


def salutation(member: Member) -> str:
    """'王先生' / '李女士' — the seeds' "_ _先生/女士"."""
    return salutation_of(member.name, member.gender)


def salutation_of(name: str, gender: str | None) -> str:
    return name[:1] + ("先生" if gender == "M" else "女士")


def store_context(store) -> dict:
    """The store's particulars for texts ("地址：XX路XX专卖店"); blank where not entered yet."""
    return {"store": store.name, "store_address": store.address or "",
            "store_phone": store.phone or "", "store_hours": store.opening_hours or ""}


def member_context(member: Member) -> dict:
    return store_context(member.store) | _common_context() | _member_fields(member)


def _member_fields(member) -> dict:
    """A member's own placeholders, from a Member or a plain row with the same names."""
    return {"salutation": salutation_of(member.name, member.gender), "name": member.name,
            "card_no": member.card_no, "points": member.points}


# The names the administrator reads and types in a template ({姓名}), for the context's keys.
PLACEHOLDERS: dict[str, str] = {
    "称呼": "salutation", "姓名": "name", "品牌": "brand", "门店": "store", "卡号": "card_no",
    "积分": "points", "正式会员积分": "threshold", "客服热线": "hotline", "消费日期": "date",
    "消费门店": "sale_store", "消费金额": "amount", "回复内容": "reply", "导购": "associate",
    "返现金额": "cashback", "门店地址": "store_address", "门店电话": "store_phone",
    "营业时间": "store_hours", "到期日": "expires_on", "购买日期": "sale_date", "购买商品": "item",
    "洗涤保养": "care", "可用积分": "points_balance", "待办": "task", "标题": "ref", "编号": "ref",
    "期限": "due", "链接": "link", "数量": "count"}
_NAME_OF = {key: name for name, key in PLACEHOLDERS.items()}
_FIELD = re.compile(r"\{([^{}]*)\}")


def default_text(key: str) -> str:
    """The seed's text of an SMS template or call script (placeholders as the code names them)."""
    return (TEMPLATES.get(key) or STAFF_TEMPLATES.get(key) or SCRIPTS[key])[1]


TEMPLATES_CACHE = "message_templates"  # db.session.info key: newest saved texts, per transaction


def template_text(key: str) -> str:
    """The text in force: the administrator's newest version, else the seed's default. The saved
    versions are read once per transaction (an import can queue thousands of messages); the cache
    is forgotten at commit and rollback (settings.install_session_hooks) and when one is saved."""
    saved = db.session.info.get(TEMPLATES_CACHE)
    if saved is None:
        newest = (select(MessageTemplateVersion.key, func.max(MessageTemplateVersion.version)
                         .label("version")).group_by(MessageTemplateVersion.key).subquery())
        saved = dict(db.session.execute(
            select(MessageTemplateVersion.key, MessageTemplateVersion.body).join(
                newest, (newest.c.key == MessageTemplateVersion.key)
                & (newest.c.version == MessageTemplateVersion.version))).all())
        db.session.info[TEMPLATES_CACHE] = saved
    return saved.get(key) or default_text(key)


def fields(text: str) -> list[str]:
    """The placeholders of a text, as the code names them (a Chinese name becomes its key);
    ValueError on an unmatched brace."""
    return [PLACEHOLDERS.get(f, f) for _, f, _, _ in Formatter().parse(text) if f is not None]


def display_text(text: str) -> str:
    """A template as the administrator reads it: {salutation} shown as {称呼}."""
    return _FIELD.sub(lambda m: "{%s}" % _NAME_OF.get(m.group(1), m.group(1)), text)


def allowed_fields(key: str) -> list[str]:
    """What a template may use: the placeholders its default text uses (its context fills them),
    and the full name wherever the salutation is known."""
    used = list(dict.fromkeys(fields(default_text(key))))
    return used + ["name"] if "salutation" in used and "name" not in used else used


def fill(text: str, context: dict) -> str:
    """Fill a text whose placeholders may be written either way ({称呼} or {salutation})."""
    return fill_names(text).format_map(context)


def fill_names(text: str) -> str:
    """The text with every placeholder under the code's name ({称呼} becomes {salutation})."""
    return _FIELD.sub(lambda m: "{%s}" % PLACEHOLDERS.get(m.group(1), m.group(1)), text)


def sms_segments(text: str) -> int:
    """How many SMS a text costs: 70 characters in one, 67 per part when split (Chinese, UCS-2);
    plain ASCII 160 / 153."""
    single, part = (160, 153) if text.isascii() else (70, 67)
    return 1 if len(text) <= single else math.ceil(len(text) / part)


def render(template: str, context: dict) -> str:
    """Fill a template; a missing placeholder is an error, never a silent blank."""
    return _checked_fill(template, template_text(template), context)


def _checked_fill(template: str, text: str, context: dict) -> str:
    missing = set(fields(text)) - context.keys()
    if missing:
        raise KeyError(f"template {template} lacks {sorted(missing)}")
    body = fill(text, context)
    if template in MARKETING and OPT_OUT_TEXT not in body:
        body += OPT_OUT_TEXT
    return body


def queue_sms(member: Member, template: str, *, extra: dict | None = None) -> OutboxMessage | None:
    """Put an SMS for a member in the outbox (caller commits); `extra` fills the template's
    other placeholders (a sale's date and amount…). None for a number flagged dead (空号/停机):
    nothing is planned to it until staff correct it."""
    if member.mobile_dead_at is not None:
        return None
    context = member_context(member) | (extra or {})
    body = render(template, context)
    msg = OutboxMessage(channel="sms", member_id=member.id, store_id=member.store_id,
                        recipient=member.mobile, recipient_name=member.name, template=template,
                        body=body, params=_plain(context), segments=sms_segments(body))
    db.session.add(msg)
    sms.send_after_commit()
    return msg


def queue_sms_many(template: str, members, *, extra: dict | None = None,
                   columns: dict | None = None) -> int:
    """`queue_sms` for every member `members` (a WHERE condition on Member) selects, as ONE
    INSERT … SELECT: the text is filled by the database (the template's fixed parts and each
    placeholder's column, concatenated), so no row comes to Python. The recipient is the member's
    stored ciphertext copied as it is (same key, no decrypt/encrypt per message); numbers flagged
    dead get nothing. `extra` fills placeholders that are the same for everyone, `columns`
    per-member ones from SQL ({"expires_on": Member.card_expires_on}, shown as text). Returns how
    many were queued (caller commits)."""
    from .models import Store

    text = template_text(template)
    values = _sql_context(Store, _common_context() | (extra or {}), columns or {})
    missing = set(fields(text)) - values.keys()
    if missing:
        raise KeyError(f"template {template} lacks {sorted(missing)}")
    body = _sql_fill(text + (OPT_OUT_TEXT if template in MARKETING and OPT_OUT_TEXT not in text
                             else ""), values)
    rows = (select(Member.id.label("member_id"), Member.store_id,
                   type_coerce(Member.mobile, Text).label("recipient"), Member.name,
                   body.label("body"), _sql_json(values).label("params"))
            .join(Store, Store.id == Member.store_id)
            .where(members, Member.mobile_dead_at.is_(None))).subquery()
    source = select(literal("sms"), rows.c.member_id, rows.c.store_id, rows.c.recipient,
                    rows.c.name, literal(template), rows.c.body, literal("queued"),
                    literal(clock.now(), TZDateTime), rows.c.params, literal(0),
                    _sql_segments(rows.c.body))
    queued = db.session.execute(insert(OutboxMessage.__table__).from_select(
        ["channel", "member_id", "store_id", "recipient", "recipient_name", "template", "body",
         "status", "created_at", "params", "attempts", "segments"], source),
        execution_options={"preserve_rowcount": True}).rowcount
    if queued:
        sms.send_after_commit()
    return queued


def _sql_segments(body):
    """`sms_segments` in SQL: plain ASCII (as many bytes as characters) 160 / 153, else 70 / 67."""
    length = func.length(body)
    if db.session.get_bind().dialect.name == "postgresql":
        ascii_ = func.octet_length(body) == length
    else:
        ascii_ = func.length(cast(body, LargeBinary)) == length

    def parts(single, part):
        return case((length <= single, 1), else_=(length + part - 1) // part)
    return case((ascii_, parts(160, 153)), else_=parts(70, 67))


def _sql_context(store, common: dict, columns: dict) -> dict:
    """Each placeholder as an SQL text expression: the member's and store's own (as
    `member_context` has them), the shared values as literals, `columns` cast to text."""
    def shown(column):
        return func.coalesce(cast(column, String), "")

    own = {"salutation": func.substr(Member.name, 1, 1)
           + case((Member.gender == "M", "先生"), else_="女士"),
           "name": Member.name, "card_no": Member.card_no, "points": cast(Member.points, String),
           "store": store.name, "store_address": func.coalesce(store.address, ""),
           "store_phone": func.coalesce(store.phone, ""),
           "store_hours": func.coalesce(store.opening_hours, "")}
    return ({k: literal(str(v), String) for k, v in common.items()} | own
            | {k: shown(c) for k, c in columns.items()})


def _sql_fill(text: str, values: dict):
    """A template text as one SQL concatenation of its fixed parts and placeholder values."""
    parts = []
    for fixed, name, spec, conversion in Formatter().parse(fill_names(text)):
        if fixed:
            parts.append(literal(fixed, String))
        if name is not None:
            if spec or conversion:
                raise ValueError(f"placeholder {{{name}}} must be plain")
            parts.append(values[name])
    out = parts[0] if parts else literal("", String)
    for piece in parts[1:]:
        out = out + piece
    return out


def _sql_json(values: dict):
    """The context as a JSON object of texts (the provider's template variables), built by the
    database like `_plain`."""
    pairs = [x for key, value in values.items() for x in (literal(key, String), value)]
    if db.session.get_bind().dialect.name == "postgresql":
        return func.json_build_object(*pairs)
    return func.json(func.json_object(*pairs))


def cashback_yuan(member) -> int:
    """The cash back a member's unspent points are worth now, in whole yuan."""
    per = settings.get_int("cashback_points")
    return (member.points_balance // per) * settings.get_int("cashback_yuan") if per else 0


def queue_email(member: Member, template: str, *, subject: str,
                extra: dict | None = None) -> OutboxMessage | None:
    """Put an e-mail for a member in the outbox (caller commits), filled like an SMS and with
    the member's points balance; None when the member left no address. Sent through SMTP by the
    same job as the SMS (services/sending.send_queued); the subject rides in `params`."""
    if not member.email:
        return None
    context = (member_context(member) | {"points_balance": member.points_balance,
                                         "cashback": cashback_yuan(member)} | (extra or {}))
    body = render(template, context)
    msg = OutboxMessage(channel="email", member_id=member.id, store_id=member.store_id,
                        recipient=member.email, recipient_name=member.name, template=template,
                        body=body, params=_plain(context) | {"subject": subject}, segments=1)
    db.session.add(msg)
    if mail.configured():
        sms.send_after_commit(mail=True)
    return msg


def _common_context() -> dict:
    return {"brand": settings.get("brand_name"), "hotline": settings.get("hotline"),
            "threshold": settings.get_int("formal_points_threshold")}


def _plain(context: dict) -> dict:
    """The context as JSON-safe text (a provider's template variables)."""
    return {k: str(v) for k, v in context.items()}


# Call scripts shown with a call task (seed 000 §二 5–8), filled like the SMS templates.
SCRIPTS: dict[str, tuple[str, str]] = {
    "tell_formal": (N_("告知成为正式会员（消费时）"),
                    "{salutation}，您好！您在{brand}的消费已经达到了{threshold}分了，恭喜您成为{brand}的正式会员，"
                    "我们会将您的资料寄回总公司为您申办会员卡，您可以在5天之后到咱们店来取卡。\n"
                    "若顾客表示5天后没有时间：如果您太忙不方便过来，我给您寄到您家/单位里，地址您核对一下，是这样的吗？\n"
                    "若顾客过几天就不在本地：等您回来之后，您到咱们店里来，我们再根据消费记录为您补办，请您谅解。"),
    "pickup_call": (N_("第5天致电邀请领卡"),
                    "{salutation}，您好，我是{store}的{associate}，您在我们店里消费积分已经超过{threshold}分，"
                    "今天刚好是第5天了，您可以来店里领取您的正式会员卡，请问您大概几点过来呢？\n"
                    "若顾客问门店在哪里：我们店在{store_address}，营业时间{store_hours}，"
                    "到了找不到可以打店里电话{store_phone}。\n"
                    "若顾客说下午/晚上/一会就过去：好的，那我就在店里恭候您了！\n"
                    "若顾客要过两天再过去：没关系，那我先帮您保存几天，等您过来的时候我拿给您！\n"
                    "若顾客最近都没时间：如果您太忙不方便过来，我给您寄到您家/单位里，地址您核对一下，是这样吗？"),
    "hand_over": (N_("顾客到店领卡"),
                  "{salutation}，您好，很高兴又见到您了。这是您的会员卡，您可以仔细阅读一下折页上的会员卡使用说明、"
                  "会员卡须知和会员积分说明。恭喜您成为{brand}尊贵的会员！另外，您已经获得积分返现{cashback}元的优惠，"
                  "现在买衣服就可以直接抵用了。"),
    # Seed 004 §1.2 (2)(3): HQ customer service calls the members on the month's expiry list.
    "expiry_call": (N_("会员卡到期告知"),
                    "{salutation}，您好，我是{brand}客服。您的会员卡（卡号{card_no}）将于{expires_on}到期。"
                    "当年消费满{waiver_purchases}次或累计满{waiver_yuan}元，可免次年年费；"
                    "否则需缴纳年费{fee}元续卡，您可以在任一门店缴纳。请问您是否续卡？"),
    # Seed 000 §(二)2 节日/生日回访："电话回访：节日祝贺（＋促销信息＋积分信息）＋意见询问"；
    # "为营造惊喜，电话拜访时可以活动或其他理由预约见面".
    "care_call": (N_("节日、生日电话回访"),
                  "{salutation}，您好，我是{store}的{associate}，{brand}全体同仁祝您节日（生日）快乐！"
                  "您目前的积分是{points}分。\n"
                  "意见询问：您最近穿着我们的衣服感觉怎么样？有什么意见和建议吗？"
                  "（顾客提出的问题须在三天内处理并回复）\n"
                  "登门拜访或赠送礼品：我们为您准备了一份心意，请问您什么时候方便，我给您送过去？"),
    # Seed 000 §(二)1 (2) 售后3天电话回访: "买的那件XX(品类,如丝光棉T恤)", "(洗涤保养内容简化)" —
    # {item} and {care} come from the categories of that day's tickets (purchase_context).
    "aftersale_call": (N_("售后第3天电话回访"),
                       "满意度询问：{salutation}，您好！我是{brand}{store}的{associate}，您在{sale_date}在我们店里买的"
                       "{item}感觉挺好的吧？\n"
                       "洗涤保养小常识告知与洗衣需求询问：还有，清洗的时候一定要按照我上次和您说的洗涤保养方法"
                       "（{care}），如果您工作比较忙的话，可以拿到店里，我们来帮您洗。\n"
                       "其他内容告知（适当时选用）：节日问候、促销信息、新品信息、积分信息（您目前的积分是{points}分）。\n"
                       "询问意见及建议：简单询问；顾客提出的意见和问题须在三天内处理并回复。"),
}


# Care advice by what was bought (seed 000 §(二)1 (2) "洗涤保养小常识…(洗涤保养内容简化)"): the
# first entry with a word found in the ticket's category wins; anything else gets GENERAL_CARE.
CARE_ADVICE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("羽绒",), "羽绒服用中性洗涤剂温水手洗，不要干洗、不要拧，晾干后轻拍恢复蓬松"),
    (("羊绒", "羊毛", "毛衫", "毛衣", "针织"), "羊毛、羊绒用中性洗涤剂冷水轻柔手洗，不要拧干，平铺阴干"),
    (("真丝", "丝绸", "桑蚕丝"), "真丝用丝毛专用洗涤剂冷水手洗，不要浸泡，不要暴晒"),
    (("西装", "西服", "大衣", "风衣"), "西装、大衣建议干洗，挂在宽肩衣架上，不要水洗"),
    (("皮衣", "皮革", "皮夹克"), "皮衣不要水洗，用皮革护理剂擦拭，避免受潮暴晒"),
    (("牛仔",), "牛仔翻面冷水洗，和浅色衣物分开，避免褪色"),
    (("棉", "T恤", "衬衫", "POLO", "Polo", "卫衣"), "棉质衣物30度以下水洗，深浅分开，反面晾晒，不要长时间浸泡"),
)
GENERAL_CARE = "按照洗水标上的方法清洗，深浅颜色分开，反面阴干"


def care_advice(category: str) -> str:
    return next((advice for words, advice in CARE_ADVICE if any(w in category for w in words)),
                GENERAL_CARE)


def purchase_context(member_id: int, sale_day: str) -> dict:
    """{item} and {care} of a day-3 call: what the member bought on `sale_day` (local ISO date),
    by the tickets' categories — "那件衣服" and the general advice when the till sent none."""
    from datetime import date, timedelta

    from .calendar import local_midnight_utc
    from .models import Sale

    try:
        day = date.fromisoformat(sale_day)
    except (TypeError, ValueError):
        day = None
    categories = [] if day is None else db.session.scalars(select(Sale.category).where(
        Sale.member_id == member_id, Sale.return_of_id.is_(None), Sale.category.is_not(None),
        Sale.sold_at >= local_midnight_utc(day),
        Sale.sold_at < local_midnight_utc(day + timedelta(days=1))).order_by(Sale.sold_at, Sale.id)).all()
    categories = list(dict.fromkeys(c.strip() for c in categories if c and c.strip()))[:3]
    return {"item": "那件" + "和".join(categories) if categories else "那件衣服",
            "care": "；".join(dict.fromkeys(map(care_advice, categories))) or GENERAL_CARE}


def script_context(member: Member, extra: dict | None = None) -> dict:
    """What a call script fills: the case's own values (`extra`: the sale day of an after-sale
    call…), what was bought that day, the member's context, their associate, the cash-back earned."""
    extra = dict(extra or {})
    if "sale_day" in extra:
        extra = purchase_context(member.id, extra["sale_day"]) | extra
    return extra | member_context(member) | {
        "associate": member.associate.display_name if member.associate else "",
        "cashback": cashback_yuan(member),
        "expires_on": member.card_expires_on.isoformat() if member.card_expires_on else "",
        "waiver_purchases": settings.get_int("expiry_waiver_purchases"),
        "waiver_yuan": settings.get_int("expiry_waiver_yuan"),
        "fee": settings.get_int("renewal_fee_yuan")}


def script_text(key: str, member: Member, extra: dict | None = None) -> str:
    """A call script filled for this member (their associate, store, points) and the case."""
    return fill(template_text(key), script_context(member, extra))
