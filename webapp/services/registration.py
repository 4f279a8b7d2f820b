"""Registration service: the only code that commits registration changes; routes and jobs call it."""
from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import clock, permissions
from ..periods import day_window
from ..crypto import lookup_hash, mask_mobile
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, Case, Member, MemberAnniversary, Store, Task, User
from ..workflows import engine
from . import transaction
from ..workflows.registration import registration

PERSONAL_FIELDS = ("name", "gender", "birth_date", "mobile", "address", "work_address", "email",
                   "occupation", "anniversaries", "preferences", "heard_from", "applied_on",
                   "associate_id", "pref_sizes", "pref_styles", "pref_colours")


class InvalidMobile(Refusal, ValueError):
    pass


class DuplicateMember(Refusal, ValueError):
    """The mobile already belongs to a member: says which store holds it (whom to contact),
    never the member's name or card; `member_id` is for a link only where the user may look."""

    def __init__(self, member: Member):
        super().__init__(N_("该手机号已登记为会员（所属门店：%(store)s），如有疑问请联系该门店。"),
                         store=member.store.name)
        self.member_id = member.id
        self.store_name = member.store.name


_PLAIN_MOBILE = re.compile(r"(?:\+86)?(1\d{10})")


def normalise_mobile(raw: str) -> str:
    """A Chinese mobile in E.164 (+8613812345678); raises InvalidMobile otherwise.

    The usual spelling (11 digits, or +86 and 11 digits) is judged by its first seven digits,
    once per process: whether a Chinese mobile is valid depends on its number range only
    (checked against phonenumbers on 150,000 random numbers), and a till file has thousands."""
    plain = _PLAIN_MOBILE.fullmatch(raw.strip())
    if plain and _range_valid(plain.group(1)[:7]):
        return "+86" + plain.group(1)
    return _normalised(raw)  # the exact refusal of an invalid number


@functools.lru_cache(maxsize=None)
def _range_valid(first_seven: str) -> bool:
    try:
        _normalised(first_seven + "0000")
    except InvalidMobile:
        return False
    return True


def _normalised(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw.strip(), "CN")
    except phonenumbers.NumberParseException as exc:
        raise InvalidMobile(N_("手机号码格式不正确")) from exc
    is_mobile = phonenumbers.number_type(number) in (phonenumbers.PhoneNumberType.MOBILE,
                                                     phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    if number.country_code != 86 or not phonenumbers.is_valid_number(number) or not is_mobile:
        raise InvalidMobile(N_("请输入有效的中国大陆手机号码"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_by_mobile(mobile: str, exclude_id: int | None = None) -> Member | None:
    """Look a member up by the keyed hash of the mobile, never by decrypting."""
    query = select(Member).where(Member.mobile_hash == lookup_hash(normalise_mobile(mobile)))
    if exclude_id:
        query = query.where(Member.id != exclude_id)
    return db.session.scalars(query).first()


def _apply(member: Member, data: dict) -> None:
    e164 = normalise_mobile(data["mobile"])
    clash = find_by_mobile(e164, exclude_id=member.id)
    if clash:
        raise DuplicateMember(clash)
    for key in PERSONAL_FIELDS:
        if key in data and key != "anniversaries":
            value = data[key]
            setattr(member, key, value.isoformat() if isinstance(value, date) and key in (
                "birth_date",) else value)
    if "anniversaries" in data:  # [(name, MMDD), …]: the list replaces the member's
        wanted = [(name.strip()[:20], int(md)) for name, md in data["anniversaries"] if name and md]
        if [(a.name, a.month_day) for a in member.anniversaries] != wanted:
            member.anniversaries = [MemberAnniversary(name=n, month_day=md) for n, md in wanted]
    member.mobile = e164[3:]  # stored as the 11 national digits, shown masked
    member.mobile_hash = lookup_hash(e164)
    born = data.get("birth_date")  # year and month-day stay clear for ages (models.Member)
    member.birth_year = born.year if born else None
    member.birth_month_day = born.month * 100 + born.day if born else None


def register(*, actor: User, store: Store, data: dict, now: datetime | None = None) -> Case:
    """Save a new member from the application form and start its HQ review."""
    now = now or clock.now()
    with transaction():
        member = Member(store_id=store.id, status="pending",
                        card_no=f"tmp-{uuid.uuid4().hex[:12]}", created_at=now)
        _apply(member, data)
        db.session.add(member)
        db.session.flush()
        member.card_no = f"T{store.code}{member.id:07d}"
        case = engine.start(registration, actor, title=f"入会登记 {member.name}", store_id=store.id,
                            area_id=store.area_id, member_id=member.id, now=now)
    return case


def complete(*, actor: User, case: Case, data: dict, version: int, comment: str = "") -> Case:
    """The store fills in what HQ sent back and resubmits it for review."""
    with transaction():
        changed = _changed_fields(case.member, data)
        _apply(case.member, data)
        engine.fire(case, "resubmit", actor, version=version, comment=comment,
                    data={"changed": changed})
    return case


def last_send_back(case: Case) -> AuditEvent | None:
    """HQ's latest send-back of this registration: its comment is what the store must fix."""
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "send_back")
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1)).first()


def _changed_fields(member: Member, data: dict) -> list[str]:
    """Names (not values: they may be personal data) of the fields the store changed."""
    out = []
    for key in PERSONAL_FIELDS:
        if key not in data:
            continue
        new, old = _text(data[key]), _text(getattr(member, key))
        if key == "mobile":
            new = normalise_mobile(new)[3:]
        if old != new:
            out.append(key)
    return out


def _text(value) -> str:
    if isinstance(value, list):  # anniversaries: [(name, MMDD)] or the member's rows
        return "；".join(f"{v.name} {v.month_day}" if hasattr(v, "month_day") else f"{v[0]} {v[1]}"
                        for v in value)
    return value.isoformat() if isinstance(value, date) else str(value or "")


@dataclass(frozen=True, slots=True)
class PendingReview:
    """A registration waiting for HQ review, as the review list shows it."""
    case_id: int
    version: int
    member_id: int
    name: str
    gender: str
    occupation: str
    mobile: str | None  # decrypted here, shown masked
    card_no: str
    store_name: str
    associate_name: str | None
    entered_at: datetime  # when it (re-)entered review: the open review task's creation
    due_at: datetime | None
    calendar_gap: str | None  # years the deadline counted without their holidays

    @property
    def resubmitted(self) -> bool:
        return self.version > 1  # sent back once at least, then completed by the store

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


def _pending_query(user: User, day: date | None):
    """Registrations in review in the user's scope; with `day`, those entered that local day."""
    query = (select(Case.id).join(Task, (Task.case_id == Case.id) & (Task.status == "open"))
             .where(Case.process == registration.name, Case.state == "review",
                    permissions.case_filter(user)))
    if day is not None:
        start, end = day_window(day)
        query = query.where(Task.created_at >= start, Task.created_at < end)
    return query


def pending_review(user: User, *, day: date | None = None, limit: int = 100,
                   offset: int = 0) -> list[PendingReview]:
    """The review list: first come, first served (the order HQ works through the day's entries).
    The page's case ids are chosen first, and only those rows are joined to member, store and
    associate (joined before the LIMIT, the planner misjudged a day's rows at 1 M members)."""
    page = (_pending_query(user, day).add_columns(Task.id.label("task_id"), Task.created_at)
            .order_by(Task.created_at, Case.id).limit(limit).offset(offset).subquery())
    associate = aliased(User)
    query = (select(Case.id, Case.version, Member.id, Member.name, Member.gender,
                    Member.occupation, Member.mobile, Member.card_no, Store.name,
                    associate.display_name, Task.created_at, Task.due_at, Task.calendar_gap)
             .select_from(page).join(Case, Case.id == page.c.id).join(Task, Task.id == page.c.task_id)
             .join(Member, Member.id == Case.member_id).join(Store, Store.id == Member.store_id)
             .outerjoin(associate, associate.id == Member.associate_id)
             .order_by(page.c.created_at, page.c.id))
    return [PendingReview(*row) for row in db.session.execute(query)]


def pending_count(user: User, *, day: date | None = None) -> int:
    return db.session.scalar(select(func.count()).select_from(_pending_query(user, day).subquery()))
