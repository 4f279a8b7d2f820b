"""The administrator's message templates: list, edit with a live preview, every save a version.

The texts live in webapp/outbox.py (the seed's defaults) and in MessageTemplateVersion (what the
administrator saved); outbox.render always uses the newest.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from .. import clock, outbox
from ..calendar import TZ
from ..extensions import db
from ..models import AuditEvent, Member, MessageTemplateVersion, User
from .admin import Invalid

KIND_SMS, KIND_SCRIPT, KIND_STAFF = "sms", "script", "staff"
# What a staff alert's preview is filled with (its values come from the task that is posted).
STAFF_SAMPLE = {"task": "审核新会员资料", "ref": "新会员入会登记 #123", "store": "1号店",
                "due": "11-21 24:00", "link": "https://crm.example.com/cases/123", "count": 37}
MAX_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One template as the list shows it."""
    key: str
    label: str
    kind: str
    text: str            # as the administrator reads it ({称呼})
    version: int         # 0 = the seed's default, never edited
    edited_at: datetime | None
    editor: str
    segments: int


def _known(key: str) -> str:
    """The kind of a template key; LookupError (a 404 for the page) when there is none."""
    if key in outbox.TEMPLATES:
        return KIND_SMS
    if key in outbox.SCRIPTS:
        return KIND_SCRIPT
    if key in outbox.STAFF_TEMPLATES:
        return KIND_STAFF
    raise LookupError(key)


def _label(key: str) -> str:
    return (outbox.TEMPLATES.get(key) or outbox.STAFF_TEMPLATES.get(key) or outbox.SCRIPTS[key])[0]


def _latest(key: str) -> MessageTemplateVersion | None:
    return db.session.scalar(select(MessageTemplateVersion).where(MessageTemplateVersion.key == key)
                             .order_by(MessageTemplateVersion.version.desc()).limit(1))


def _row(key: str) -> TemplateRow:
    latest = _latest(key)
    text = latest.body if latest else outbox.default_text(key)
    kind = _known(key)
    return TemplateRow(key=key, label=_label(key), kind=kind, text=outbox.display_text(text),
                       version=latest.version if latest else 0,
                       edited_at=latest.created_at if latest else None,
                       editor=latest.author.display_name if latest and latest.author else "",
                       segments=outbox.sms_segments(text) if kind == KIND_SMS else 0)


def template_rows() -> list[TemplateRow]:
    """Every SMS template and call script with its text in force."""
    return [_row(key) for key in (*outbox.TEMPLATES, *outbox.SCRIPTS, *outbox.STAFF_TEMPLATES)]


def template_detail(*, key: str) -> tuple[TemplateRow, list[MessageTemplateVersion], list[str]]:
    """A template, its saved versions (newest first) and the placeholder names it may use;
    LookupError when the key is unknown."""
    row = _row(key)
    versions = db.session.scalars(select(MessageTemplateVersion)
                                  .where(MessageTemplateVersion.key == key)
                                  .order_by(MessageTemplateVersion.version.desc())).all()
    names = [outbox.display_text("{%s}" % f)[1:-1] for f in outbox.allowed_fields(key)]
    return row, versions, names


def check_text(*, key: str, text: str) -> tuple[str, dict[str, str]]:
    """The text with its placeholders as the code names them, and the errors ({field: message})."""
    _known(key)
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return text, {"body": _("模板内容不能为空。")}
    if len(text) > MAX_LENGTH:
        return text, {"body": _("模板内容过长。")}
    try:
        used = outbox.fields(text)
    except ValueError:
        return text, {"body": _("花括号不成对：占位符应写成 {姓名} 这样。")}
    allowed = set(outbox.allowed_fields(key))
    unknown = [f for f in dict.fromkeys(used) if f not in allowed]
    if unknown:
        return text, {"body": _("未知的占位符：%(names)s", names="、".join(
            outbox.display_text("{%s}" % f) for f in unknown))}
    return outbox.display_text(text), {}


def _preview_member(card_no: str) -> Member | None:
    card_no = (card_no or "").strip()
    query = select(Member).where(Member.card_no.is_not(None))
    if card_no:
        return db.session.scalar(query.where(Member.card_no == card_no))
    return db.session.scalar(query.order_by(Member.id.desc()).limit(1))


def _sample_context(member: Member, now: datetime) -> dict:
    """What a real message would carry for this member; the sale's and reply's blanks get
    examples (they come from the event that sends the message)."""
    day = clock.as_utc(now).astimezone(TZ)
    return outbox.script_context(member) | {
        "date": f"{day.month}月{day.day}日", "amount": "1,280.00", "sale_store": member.store.name,
        "reply": "已为您办理退换，给您带来不便深表歉意。",
        "sale_date": f"{day.month}月{day.day}日", "item": "那件丝光棉T恤",
        "care": outbox.care_advice("丝光棉T恤"),
        # a care greeting's occasion (the batch's), a points e-mail's usable points
        "occasion": "春节", "points_balance": member.points_balance}


@dataclass(frozen=True, slots=True)
class Preview:
    """A template filled for one member, its length and SMS count, or why it cannot be."""
    text: str
    length: int
    segments: int
    member: str
    errors: dict


def preview(*, key: str, text: str, card_no: str = "", now: datetime | None = None) -> Preview:
    """Fill the text being edited for a real member (by card number, else the newest one)."""
    clean, errors = check_text(key=key, text=text)
    if _known(key) == KIND_STAFF:  # a staff alert: filled from a task, not a member
        filled = "" if errors else outbox.fill(clean, STAFF_SAMPLE)
        return Preview(text=filled, length=len(filled), segments=0, member="", errors=errors)
    member = _preview_member(card_no)
    if member is None:
        errors = errors | {"card_no": _("没有找到这个卡号的会员。") if (card_no or "").strip()
                           else _("还没有会员，无法预览。")}
    if errors:
        return Preview(text="", length=0, segments=0, member="", errors=errors)
    filled = outbox.fill(clean, _sample_context(member, now or clock.now()))
    sms = _known(key) == KIND_SMS
    return Preview(text=filled, length=len(filled), segments=outbox.sms_segments(filled) if sms else 0,
                   member=f"{outbox.salutation(member)}（{member.card_no}）", errors={})


def save_template(*, actor: User, key: str, text: str,
                  now: datetime | None = None) -> MessageTemplateVersion:
    """Save a new version of a template (the next message uses it); Invalid on a bad text."""
    clean, errors = check_text(key=key, text=text)
    if errors:
        raise Invalid(errors)
    if clean == outbox.display_text(outbox.template_text(key)):
        raise Invalid({"body": _("内容没有变化，未保存新版本。")})
    now = now or clock.now()
    number = (db.session.scalar(select(func.max(MessageTemplateVersion.version))
                                .where(MessageTemplateVersion.key == key)) or 0) + 1
    db.session.info.pop("message_templates", None)  # outbox.TEMPLATES_CACHE: this text in force now
    version = MessageTemplateVersion(key=key, version=number, body=clean, author_id=actor.id,
                                     created_at=now)
    db.session.add(version)
    db.session.add(AuditEvent(object_type="message_template", object_id=None, actor_id=actor.id,
                              at=now, action="template_saved", data={"key": key, "version": number}))
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent save took this number: say so, change nothing
        db.session.rollback()
        raise Invalid({"body": _("模板刚被他人修改，请刷新后再保存。")}) from None
    return version
