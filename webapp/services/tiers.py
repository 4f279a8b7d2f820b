"""Customer tiers (SPEC §2 客户分级, §3.9; seed 000 §(一)): the qualifying tier recomputed
set-based, the proposals to the store manager, the manager's decisions and manual changes.

- `Member.tier` is the applied tier; `Member.qualifying_tier` is what the rule gives now.
- Rule (setting tier_rule): "points" — A ≥ tier_a_points, B ≥ tier_b_points, else C; "ratio" —
  within the member's home store, ranked by accumulated points: the top tier_a_percent % are A,
  the next tier_b_percent % B, the rest C. Ties at a line: a member is in a band when fewer than
  that share of the store's members have strictly more points, so everyone tied at the line goes
  to the higher tier (SQL RANK()).
- Only active members have a qualifying tier.
- Recompute is one UPDATE (… FROM a ranked subquery for "ratio") that writes only the rows that
  change; bench/bench_tiers.py measures it beside a hand-written UPDATE … FROM on PostgreSQL.
- Proposals (workflows/tier_change.py) are started by `review`, nightly from the daily job (once
  per local day after tier_review_hour) or on demand.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import String, and_, case, exists, func, literal, or_, select, text, update

from .. import clock, permissions, settings
from ..calendar import add_months, local_date, local_midnight_utc
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import AuditEvent, Case, Member, MemberMonth, Store, User
from ..workflows import engine
from ..workflows.tier_change import tier_change
from ..workflows.tier_change_steps import TIERS


class TierRefused(Refusal):
    """A tier change was refused; str() is the message in the user's language."""


def _qualifying_expr():
    """SQL: the tier for Member.points by the points rule."""
    return case((Member.points >= settings.get_int("tier_a_points"), "A"),
                (Member.points >= settings.get_int("tier_b_points"), "B"), else_="C")


def recompute() -> int:
    """Write every member's qualifying tier by the current rule, and none for a member who is
    not active, in one statement that writes changed rows only (for "ratio" an UPDATE … FROM
    the ranked members); no commit; returns the rows written."""
    active = Member.status == "active"
    if settings.get("tier_rule") == "ratio":
        a, b = settings.get_int("tier_a_percent"), settings.get_int("tier_b_percent")
        # the active members of a store are ranked among themselves (the others get no tier)
        window = {"partition_by": (Member.store_id, active)}
        ahead = (func.rank().over(**window, order_by=Member.points.desc()) - 1) * 100
        n = func.count().over(**window)  # ahead: members with strictly more points, ×100
        ranked = select(Member.id.label("id"), case(
            (~active, None), (ahead < a * n, "A"), (ahead < (a + b) * n, "B"), else_="C"
        ).label("tier")).subquery("ranked")
        stmt = (update(Member).where(Member.id == ranked.c.id,
                                     Member.qualifying_tier.is_distinct_from(ranked.c.tier))
                .values(qualifying_tier=ranked.c.tier))
    else:
        tier = case((~active, None), else_=_qualifying_expr())
        stmt = (update(Member).where(Member.qualifying_tier.is_distinct_from(tier))
                .values(qualifying_tier=tier))
    return db.session.execute(stmt.execution_options(synchronize_session=False)).rowcount


def _ym(d) -> int:
    return d.year * 100 + d.month


def proposal_source(now: datetime):
    """One row per active member whose applied tier should change, without an open proposal:
    an upgrade to the qualifying tier, else a one-tier downgrade for an idle member or one whose
    purchases dropped below the set share of the previous 12 months."""
    today = local_date(now)
    recent_from = _ym(add_months(today, -11))  # the 12 months up to and including this one
    previous_from = _ym(add_months(today, -23))
    idle_months = settings.get_int("tier_downgrade_idle_months")
    idle_from = _ym(add_months(today, -(idle_months - 1)))
    ratio = settings.get_int("tier_downgrade_ratio_percent")
    mm = MemberMonth
    counts = (select(mm.member_id.label("member_id"),
                     func.sum(case((mm.ym >= recent_from, mm.tickets), else_=0)).label("recent"),
                     func.sum(case((mm.ym < recent_from, mm.tickets), else_=0)).label("previous"),
                     func.sum(case((mm.ym >= idle_from, mm.tickets), else_=0)).label("idle"))
              .where(mm.ym >= min(previous_from, idle_from),
                     # only A and B members can go down: the roll-up of the others is not read
                     mm.member_id.in_(select(Member.id).where(Member.tier != "C",
                                                              Member.status == "active")))
              .group_by(mm.member_id).subquery("c"))
    recent, previous = func.coalesce(counts.c.recent, 0), func.coalesce(counts.c.previous, 0)
    idle = and_(func.coalesce(counts.c.idle, 0) <= 0,
                Member.applied_on <= add_months(today, -idle_months))
    dropped = and_(previous > 0, recent * 100 < previous * ratio)
    upgrade = Member.qualifying_tier < Member.tier  # "A" < "B" < "C"
    lower = case((Member.tier == "A", "B"), else_="C")
    target = case((upgrade, Member.qualifying_tier), else_=lower)
    open_one = exists().where(Case.process == tier_change.name, Case.member_id == Member.id,
                              Case.closed_at.is_(None))
    key = (literal(f"{tier_change.name}:{_ym(today)}:") + Member.id.cast(String) + literal(":")
           + Member.tier + target)
    return (select((literal("客户等级调整 ") + Member.card_no + literal(" ") + Member.tier
                    + literal("→") + target).label("title"),
                   Member.store_id.label("store_id"), Store.area_id.label("area_id"),
                   Member.id.label("member_id"), key.label("dedupe_key"))
            .join(Store, Store.id == Member.store_id)
            .outerjoin(counts, counts.c.member_id == Member.id)
            .where(Member.status == "active", Member.qualifying_tier.is_not(None), ~open_one,
                   or_(upgrade, and_(Member.tier != "C", or_(idle, dropped)))))


def review(*, now: datetime | None = None, actor: User | None = None) -> dict[str, int]:
    """Recompute the qualifying tiers and propose the changes to the store managers; commits.
    `actor` (on demand) must be HQ; None is the nightly job."""
    now = now or clock.now()
    if actor is not None and not permissions.can(actor, "tier.recompute"):
        raise TierRefused(N_("您没有权限重新计算客户等级"))
    try:
        written = recompute()
        _refresh_statistics(written)
        with _no_nested_loops():
            ids = engine.start_many(tier_change, proposal_source(now), now=now)
        db.session.add(AuditEvent(object_type="tiers", actor_id=actor.id if actor else None,
                                  at=now, action="review",
                                  data={"written": written, "proposed": len(ids)}))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {"written": written, "proposed": len(ids)}


def _refresh_statistics(written: int) -> None:
    """After a recompute that rewrote many rows (the first night, a rule change) PostgreSQL's
    statistics still describe the old column — all NULL on the first night — and the proposal
    source would be planned for a handful of rows (a nested loop over the open cases, quadratic
    at 50,000 proposals). ANALYZE in the same transaction sees the new values; it samples, so it
    costs about a second at 1,000,000 members."""
    if written >= 10_000 and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("ANALYZE member"))


@contextmanager
def _no_nested_loops():
    """The proposal source joins every member with the open proposals and the monthly roll-up.
    When PostgreSQL's statistics are stale (tiers applied since the last ANALYZE) it may expect
    one row and run a nested loop over the open cases per member: quadratic, minutes at 200,000
    members. Hash joins cost a scan or two whatever the estimate, so nested loops are off for
    this one statement (SET LOCAL: this transaction only)."""
    pg = db.session.get_bind().dialect.name == "postgresql"
    if pg:
        db.session.execute(text("SET LOCAL enable_nestloop = off"))
    try:
        yield
    finally:
        if pg:
            db.session.execute(text("SET LOCAL enable_nestloop = on"))


def review_if_due(*, now: datetime | None = None) -> dict[str, int] | None:
    """The nightly review: once per local day, from tier_review_hour (local) on."""
    now = now or clock.now()
    midnight = local_midnight_utc(local_date(now))
    if (now - midnight).total_seconds() < settings.get_int("tier_review_hour") * 3600:
        return None
    done = db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.object_type == "tiers", AuditEvent.action == "review",
        AuditEvent.actor_id.is_(None), AuditEvent.at >= midnight).limit(1))
    return None if done else review(now=now)


def decide(*, actor: User, case_ids: list[int], transition: str = "apply",
           now: datetime | None = None) -> dict[str, list]:
    """The manager applies (or declines) proposals, one or many (the list filtered by tier);
    each is its own step: one refused does not stop the others. Commits."""
    now = now or clock.now()
    done, refused = [], []
    for case_id in case_ids:
        case = db.session.get(Case, case_id)
        if case is None or case.process != tier_change.name:
            refused.append((case_id, N_("找不到该等级调整建议")))
            continue
        try:
            engine.fire(case, transition, actor, version=case.version, now=now)
            db.session.commit()
            done.append(case_id)
        except engine.WorkflowError as exc:
            db.session.rollback()
            refused.append((case_id, str(exc)))
    return {"done": done, "refused": refused}


def tier_settable(member: Member) -> bool:
    """Only an active member has a tier to change (a pending registration or a lapsed card has
    no qualifying tier either, see `recompute`): the member page offers the control only then."""
    return member.status == "active"


def set_tier(*, actor: User, member: Member, tier: str, reason: str,
             now: datetime | None = None) -> None:
    """A special case: the store manager changes a tier by hand, with a reason; audited in the
    member's timeline; an open proposal for the member is closed as declined. Refused for a
    member who is not active (registration pending, card lapsed). Commits."""
    now = now or clock.now()
    if not permissions.can(actor, "tier.change", member):
        raise TierRefused(N_("只有店长可以调整客户等级"))
    if not tier_settable(member):
        raise TierRefused(N_("该会员尚在总部审核中，审核通过后才能调整等级")
                          if member.status == "pending" else N_("会员卡已失效，续卡后才能调整等级"))
    if tier not in TIERS:
        raise TierRefused(N_("请选择A、B或C类"))
    if not reason.strip():
        raise TierRefused(N_("手工调整等级须填写原因"))
    if tier == member.tier:
        raise TierRefused(N_("该会员已是此等级"))
    old = member.tier
    member.tier = tier
    db.session.add(AuditEvent(object_type="member", object_id=member.id, actor_id=actor.id, at=now,
                              action="tier_change", comment=reason.strip()[:500],
                              data={"from": old, "to": tier, "manual": True}))
    for case in db.session.scalars(select(Case).where(
            Case.process == tier_change.name, Case.member_id == member.id,
            Case.closed_at.is_(None))).all():
        engine.fire(case, "decline", actor, version=case.version, now=now,
                    comment=N_("已手工调整等级"))
    db.session.commit()


def only_tier(query, member_id, tier: str, *also):
    """`query` kept to the rows whose member (the `member_id` column) has the applied tier `tier`
    and meets `also` (conditions on Member): a list's tier folder. Rows without a member drop
    out (they show under 全部 only); a `tier` other than A, B or C filters nothing."""
    if tier not in TIERS:
        return query
    return query.where(member_id.in_(select(Member.id).where(Member.tier == tier, *also)))


def proposals(user: User, *, tier: str = "") -> list[Case]:
    """Open proposals the user may see, optionally for members of one applied tier."""
    query = (select(Case).join(Member, Member.id == Case.member_id)
             .where(Case.process == tier_change.name, Case.closed_at.is_(None),
                    permissions.member_filter(user)))
    if tier in TIERS:
        query = query.where(Member.tier == tier)
    return db.session.scalars(query.order_by(Case.id)).all()



def history(member: Member) -> list[AuditEvent]:
    """The member's tier changes, newest first (the member page's timeline)."""
    return db.session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "member", AuditEvent.object_id == member.id,
        AuditEvent.action == "tier_change").order_by(AuditEvent.at.desc(), AuditEvent.id.desc())).all()
