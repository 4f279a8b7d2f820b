"""Who may do what, and who sees what — the only place these questions are answered.

Scope comes from the role: store roles see their store, area roles the stores of their area,
HQ roles and the administrator the whole company. `can` answers for one object; the
`*_filter` functions give the SQL condition for lists, inboxes, exports and PDFs; `parse_scope`
reads the scope a request names ("store:3", "area:1", "company") for pages, exports and the API.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import and_, bindparam, false, or_, select, true

from . import clock, settings
from .extensions import db
from .i18n_labels import say as _
from .models import (AREA_ROLES, COMPANY_ROLES, STORE_ROLES, Area, Case, Member, PlanItem, Role,
                     StandIn, Store, Task, User, VisitRecord, parse_id)

# Roles whose work needs a member's full contact details (calling, reviewing, mailing).
REVEAL_ROLES = {Role.ASSOCIATE, Role.STORE_MANAGER, Role.HQ_SPECIALIST, Role.HQ_MANAGER}
MEMBER_ROLES = STORE_ROLES | AREA_ROLES | {Role.HQ_SPECIALIST, Role.HQ_MANAGER}
REGISTER_ROLES = STORE_ROLES

ACTIONS = {
    "member.view": MEMBER_ROLES,
    "member.create": REGISTER_ROLES,
    "member.reveal": REVEAL_ROLES,
    "member.print": STORE_ROLES | {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    # marking a member's "no marketing SMS" (issue #15): the people who talk to members
    "member.sms_opt_out": STORE_ROLES | {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    # tiers: only the store manager changes a member's tier (SPEC §1); HQ may recompute on demand
    "tier.change": {Role.STORE_MANAGER},
    "tier.recompute": {Role.HQ_SPECIALIST, Role.HQ_MANAGER, Role.ADMIN},
    # member upkeep: the manager reassigns the associate; staff who call flag a dead number;
    # the store's member list (客户资料册) is the store's own
    "member.reassign": {Role.STORE_MANAGER},
    "member.mobile_status": STORE_ROLES | {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "member.roster": STORE_ROLES,
    # the review list of new registrations: the roles that approve them (workflows/registration.py)
    "registration.review": {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "case.view": set(Role),
    "outbox.view": STORE_ROLES | COMPANY_ROLES,
    "admin.manage": {Role.ADMIN},
    # group robots (WeCom / DingTalk) of a store, an area or HQ, within the manager's own scope
    "robots.manage": {Role.STORE_MANAGER, Role.AREA_MANAGER, Role.HQ_MANAGER, Role.ADMIN},
    "settings.edit": {Role.ADMIN},
    # entering a year's holidays: the administrator, and the CS manager its task escalates to
    "calendar.edit": {Role.ADMIN, Role.HQ_MANAGER},
    "batch.print": {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "complaint.view": MEMBER_ROLES,
    # the complaint's contact in full (page reveal, printed form): the roles that call customers
    "complaint.reveal": REVEAL_ROLES,
    "complaint.record_direct": {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "complaint.record_store": STORE_ROLES | {Role.AREA_SUPERVISOR},
    "complaint.stats": {Role.STORE_MANAGER} | AREA_ROLES | {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "sales.view": STORE_ROLES | AREA_ROLES | COMPANY_ROLES,
    "sales.import": {Role.STORE_MANAGER, Role.HQ_SPECIALIST, Role.HQ_MANAGER, Role.ADMIN},
    "target.edit": {Role.STORE_MANAGER, Role.HQ_SPECIALIST, Role.HQ_MANAGER, Role.ADMIN},
    "analysis.view": {Role.STORE_MANAGER} | AREA_ROLES | COMPANY_ROLES,
    # 数据审核 of the monthly pack: HQ customer service signs the figures for filing.
    "analysis.review": {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "api_token.manage": {Role.ADMIN},
    # the month's expiry list (issue #12): every member role sees its own scope; HQ records renewals
    "expiry.view": MEMBER_ROLES,
    "expiry.renew": {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    # reviewing a care batch (remove, change method, add a member) before approving it
    "care.review": {Role.STORE_MANAGER},
    # the day's member profiles to memorise (SPEC §3.8)
    "care.profiles": STORE_ROLES,
    # printing every associate's shop-floor sheet of a day as one batch: the store manager's
    "care.store_sheets": {Role.STORE_MANAGER},
    # the monthly visit plan (SPEC §3.5): associates propose and record, managers set the plan,
    # supervisors and HQ read the records; HQ consolidates, spot-checks and scores the stores
    "visit.plan": STORE_ROLES,
    "visit.record": STORE_ROLES,
    "visit.view": STORE_ROLES | AREA_ROLES | {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "visit.consolidate": {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "visit.check": {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
    "visit.scorecard": {Role.STORE_MANAGER} | AREA_ROLES | {Role.HQ_SPECIALIST, Role.HQ_MANAGER},
}


def in_scope(user: User, store_id: int | None, area_id: int | None = None) -> bool:
    """True when an object of this store/area lies inside the user's scope."""
    if user.role in COMPANY_ROLES:
        return True
    if user.role in AREA_ROLES:
        if area_id is None and store_id is not None:
            area_id = db.session.get(Store, store_id).area_id
        return area_id is not None and area_id == user.area_id
    return store_id is not None and store_id == user.store_id


def _object_scope(obj) -> tuple[int | None, int | None]:
    if isinstance(obj, (Case, Task)):
        return obj.store_id, obj.area_id
    if isinstance(obj, (Member, PlanItem, VisitRecord)):
        return obj.store_id, None
    if isinstance(obj, Store):
        return obj.id, obj.area_id
    return None, None


def can(user: User, action: str, obj=None) -> bool:
    """May this user perform `action` (optionally on `obj`)?"""
    if user is None or not user.is_authenticated or not user.active:
        return False
    if user.role not in ACTIONS.get(action, set()):
        return False
    return obj is None or in_scope(user, *_object_scope(obj))


def can_fire(user: User, transition, case: Case) -> bool:
    """May this user fire a declared transition on this case?"""
    if not user.active or user.role not in transition.roles:
        return False
    return in_scope(user, case.store_id, case.area_id)


def can_watch(user: User, task) -> bool:
    """May this user, told of a breach on this open task (a Task or an inbox row), comment on it
    and remind its holder?"""
    if not user.active or getattr(task, "escalated_at", None) is None:
        return False
    return (user.role in (task.escalate_to, task.escalate_also)
            and in_scope(user, task.store_id, task.area_id))


def store_area_filter(user: User, store_col, area_col=None):
    if user.role in COMPANY_ROLES:
        return true()
    if user.role in AREA_ROLES:
        if area_col is not None:
            return area_col == user.area_id
        return store_col.in_(select(Store.id).where(Store.area_id == user.area_id))
    if user.store_id is None:
        return false()
    return store_col == user.store_id


def member_filter(user: User):
    """SQL condition: the members this user may see."""
    if user.role not in MEMBER_ROLES:
        return false()
    return store_area_filter(user, Member.store_id)


def case_filter(user: User):
    """SQL condition: the cases this user may see."""
    return store_area_filter(user, Case.store_id, Case.area_id)


INBOX_NOW = "inbox_now"  # the bound parameter of inbox_filter's stand-in part


def inbox_roles(user: User) -> set[Role]:
    """Roles whose unassigned tasks land in this user's inbox (managers watch their associates)."""
    if user.role == Role.STORE_MANAGER:
        return {Role.STORE_MANAGER, Role.ASSOCIATE}
    return {user.role}


def inbox_filter(user: User, *, parts: bool = False):
    """SQL condition: open tasks waiting for this user or their role in their scope.

    With parts=True: the same set as six conditions (assigned to me / my role's pool /
    escalated to my role / escalated to my role as the second role / handled with my role as
    co-handler / assigned to a colleague I stand in for now), each one served by an index on its
    own, for a UNION of small ordered queries instead of one OR that no single index can serve
    (services/inbox.py).
    """
    scope = store_area_filter(user, Task.store_id, Task.area_id)
    roles = list(inbox_roles(user))
    is_open = Task.status == "open"
    mine = Task.assignee_id == user.id
    watches_assigned = true() if user.role == Role.STORE_MANAGER else false()
    role_pool = and_(Task.role.in_(roles), scope, or_(Task.assignee_id.is_(None), watches_assigned))
    escalated_to = and_(Task.escalated_at.is_not(None), Task.escalate_to == user.role, scope)
    escalated_also = and_(Task.escalated_at.is_not(None), Task.escalate_also == user.role, scope)
    co_handled = and_(Task.co_role == user.role, scope)
    # "now" as a named parameter: a statement built from these parts may be kept and run again
    # later with the moment of its run (services/inbox.py keeps the inbox page's per user)
    now = bindparam(INBOX_NOW, clock.now(), type_=StandIn.starts_at.type)
    standing_in = Task.assignee_id.in_(select(StandIn.user_id).where(
        StandIn.stand_in_id == user.id, StandIn.cancelled_at.is_(None), StandIn.starts_at <= now,
        StandIn.ends_at > now))
    everything = (mine, role_pool, escalated_to, escalated_also, co_handled, standing_in)
    if parts:
        return tuple(and_(is_open, part) for part in everything)
    return and_(is_open, or_(*everything))


def notification_scope(user: User):
    """SQL condition: notifications of the user's scope."""
    from .models import Notification

    return store_area_filter(user, Notification.store_id, Notification.area_id)


# ------------------------------------------------------------------ scope from a request
# "store:3", "area:1" or "company": the one way pages, exports and the API name a scope.
SCOPE_PATTERN = "^((store|area):[1-9][0-9]{0,17}|company)?$"


class OutOfScope(LookupError):
    """The scope does not exist or lies outside the user's."""


@dataclass(frozen=True)
class Scope:
    kind: str  # store | area | company
    id: int | None
    label: str

    @property
    def code(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"

    def stores(self, column):
        """SQL condition on a store id column."""
        if self.kind == "company":
            return true()
        if self.kind == "area":
            return column.in_(select(Store.id).where(Store.area_id == self.id))
        return column == self.id

    def store_ids(self) -> list[int]:
        return list(db.session.scalars(select(Store.id).where(self.stores(Store.id))))


def default_scope_code(user: User) -> str:
    if user.role in COMPANY_ROLES:
        return "company"
    if user.role in AREA_ROLES:
        return f"area:{user.area_id}"
    return f"store:{user.store_id}"


def parse_scope(user: User, raw: str) -> Scope:
    """'store:3', 'area:1' or 'company' as the user may see it; OutOfScope otherwise."""
    raw = raw or default_scope_code(user)
    if not re.fullmatch(SCOPE_PATTERN, raw):
        raise ValueError(_("范围格式应为 store:门店编号、area:区域编号 或 company"))
    kind, _sep, number = raw.partition(":")
    if kind == "company":
        if user.role not in COMPANY_ROLES:
            raise OutOfScope(raw)
        return Scope("company", None, settings.get("company_name"))
    object_id = parse_id(number)  # None beyond any id: no such store or area
    if kind == "area":
        area = db.session.get(Area, object_id) if object_id else None
        if area is None or not (user.role in COMPANY_ROLES or (
                user.role in AREA_ROLES and user.area_id == area.id)):
            raise OutOfScope(raw)
        return Scope("area", area.id, area.name)
    store = db.session.get(Store, object_id) if object_id else None
    if store is None or not in_scope(user, store.id, store.area_id):
        raise OutOfScope(raw)
    return Scope("store", store.id, store.name)


def scope_choices(user: User) -> list[tuple[str, str]]:
    """The scopes the user may pick on the analysis pages, widest first."""
    out = []
    if user.role in COMPANY_ROLES:
        out.append(("company", _("全公司")))
        out += [(f"area:{a.id}", a.name) for a in db.session.scalars(select(Area).order_by(Area.name))]
    elif user.role in AREA_ROLES and user.area_id:
        out.append((f"area:{user.area_id}", db.session.get(Area, user.area_id).name))
    stores = select(Store).order_by(Store.code)
    for store in db.session.scalars(stores):
        if in_scope(user, store.id, store.area_id):
            out.append((f"store:{store.id}", f"{store.code} {store.name}"))
    return out
