"""Member look-ups, reveal (logged), and the application-form PDF."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, select

from .. import clock, permissions, settings
from ..extensions import db
from ..periods import day_window
from ..i18n_labels import N_
from ..models import AuditEvent, Case, Member, User
from .registration import InvalidMobile, find_by_mobile

GENDER = {"M": "男", "F": "女"}
# Teachers and military members get their own holiday visits (SPEC §3.4).
OCCUPATION = {"teacher": N_("教师"), "military": N_("军人"), "civil_servant": N_("公务员"),
              "business": N_("企业职员"), "self_employed": N_("个体经营"), "other": N_("其他"), "": ""}
HEARD_FROM = {"passing": N_("路过门店"), "friend": N_("亲友介绍"), "ad": N_("广告"),
              "online": N_("网络"), "other": N_("其他"), "": ""}
REVEALABLE = ("mobile", "address", "work_address", "email", "birth_date", "anniversary")


def search(user: User, *, q: str = "", tier: str = "", status: str = "", limit: int = 50,
           offset: int = 0) -> list[Member]:
    """Members this user may see; q is a full mobile (hash look-up), the mobile's last four
    digits (clear column, no decryption), a card number or a name."""
    query = select(Member).where(permissions.member_filter(user))
    q = q.strip()
    if len(q) == 4 and q.isascii() and q.isdigit():
        query = query.where(Member.mobile_last4 == q)
    elif q:
        try:
            hit = find_by_mobile(q)
            query = query.where(Member.id == (hit.id if hit else -1))
        except InvalidMobile:
            query = query.where(or_(Member.card_no == q, Member.previous_card_no == q,
                                    Member.name.contains(q)))
    if tier:
        query = query.where(Member.tier == tier)
    if status:
        query = query.where(Member.status == status)
    return db.session.scalars(query.order_by(Member.id.desc()).limit(limit).offset(offset)).all()


def reveal(*, user: User, member: Member, field: str, now: datetime | None = None) -> str:
    """The full value of one personal field; every reveal is written to the audit log."""
    if field not in REVEALABLE or not permissions.can(user, "member.reveal", member):
        raise PermissionError("您没有权限查看完整信息")
    db.session.add(AuditEvent(object_type="member", object_id=member.id, actor_id=user.id,
                              at=now or clock.now(), action="reveal", data={"field": field}))
    db.session.commit()
    return getattr(member, field) or ""


def open_for_completion(*, user: User, case: Case, now: datetime | None = None) -> Member:
    """The member's full data for the store to complete what HQ sent back: only to those who
    may resubmit it now, and logged as a reveal of every personal field the form shows."""
    from ..workflows import engine

    if not any(t.name == "resubmit" for t in engine.allowed_transitions(user, case)):
        raise PermissionError("您没有权限补全该会员资料")
    member = case.member
    db.session.add(AuditEvent(object_type="member", object_id=member.id, actor_id=user.id,
                              at=now or clock.now(), action="reveal",
                              data={"fields": list(REVEALABLE), "purpose": "complete"}))
    db.session.commit()
    return member


def registration_case(member: Member) -> Case | None:
    return db.session.scalars(select(Case).where(Case.member_id == member.id,
                                                 Case.process == "registration")).first()


def entered_by(member: Member) -> User | None:
    """Who entered the application (the registration's author), when not the assigned associate."""
    case = registration_case(member)
    user = db.session.get(User, case.created_by_id) if case and case.created_by_id else None
    return user if user is not None and user.id != member.associate_id else None


def form_context(member: Member) -> dict:
    """What the printed 《入会申请表》 shows for one member."""
    author = entered_by(member)
    return {"brand": settings.get("brand_name"), "store_name": member.store.name,
            "store_address": member.store.address, "store_phone": member.store.phone,
            "associate_name": member.associate.display_name if member.associate else "",
            "entered_by": author.display_name if author else "",
            "applied_on": member.applied_on.isoformat(), "name": member.name,
            "gender": GENDER.get(member.gender, ""), "birth_date": member.birth_date or "",
            "mobile": member.mobile or "", "address": member.address or "",
            "work_address": member.work_address or "", "email": member.email or "",
            "occupation": OCCUPATION.get(member.occupation, member.occupation),
            "anniversary": member.anniversary or "", "preferences": member.preferences or "",
            "pref_sizes": member.pref_sizes or "", "pref_styles": member.pref_styles or "",
            "pref_colours": member.pref_colours or "",
            "heard_from": HEARD_FROM.get(member.heard_from, member.heard_from), "card_no": member.card_no,
            "hotline": settings.get("hotline"),
            "points_threshold": settings.get_int("formal_points_threshold")}


def approved_on(user: User, day: date) -> list[Member]:
    """Members whose registration HQ approved on a given local day, in the user's scope."""
    start, end = day_window(day)
    query = (select(Member).join(Case, Case.member_id == Member.id)
             .where(Case.process == "registration", Case.state == "approved",
                    Case.closed_at >= start, Case.closed_at < end, permissions.member_filter(user))
             .order_by(Member.id))
    return db.session.scalars(query).all()


def audit_printed(*, reader: User, items: list[dict], now: datetime | None = None) -> None:
    """Printing personal data in full is audited like a reveal, one row per form (caller commits).

    An item's `printed_in_full` is (object_type, object_id, fields), or None when masked."""
    for item in items:
        if item.get("printed_in_full"):
            object_type, object_id, fields = item["printed_in_full"]
            db.session.add(AuditEvent(object_type=object_type, object_id=object_id, actor_id=reader.id,
                                      at=now or clock.now(), action="reveal",
                                      data={"fields": fields, "via": "pdf"}))
