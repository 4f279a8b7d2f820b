"""Tiers (SPEC §2, §3.9): the qualifying tier recomputed set-based by the rule in the settings,
changes proposed to the store manager (never applied by the system), applied or declined by the
manager only, downgrades proposed for idle or dropping members, manual changes with a reason."""
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select

from tests.sales.builders import bulk_members
from webapp import settings
from webapp.extensions import db
from webapp.models import AuditEvent, Case, Member, MemberMonth, Role, Setting, Task
from webapp.services import tiers
from webapp.workflows import engine

NIGHT = datetime(2026, 11, 28, 19, 0, tzinfo=timezone.utc)  # 29 Nov, 03:00 local


def with_points(org, points: list[int], *, store=0, tier="C", applied_on=date(2026, 1, 1)):
    rows = bulk_members(org.stores[store], len(points), applied_on=applied_on)
    for row, p in zip(rows, points):
        db.session.execute(db.update(Member).where(Member.id == row["id"]).values(points=p, tier=tier))
    db.session.commit()
    return [r["id"] for r in rows]


def member(mid):
    db.session.expire_all()
    return db.session.get(Member, mid)


def proposals():
    return db.session.scalars(select(Case).where(Case.process == "tier_change").order_by(Case.member_id)).all()


def use(key, value):
    db.session.merge(Setting(key=key, value=value))
    db.session.commit()


def test_points_rule_bands_and_proposals_for_the_store_manager_only(org):
    ids = with_points(org, [5000, 4999, 2000, 1999])
    assert tiers.review(now=NIGHT) == {"written": 4, "proposed": 3}
    assert [member(i).qualifying_tier for i in ids] == ["A", "B", "B", "C"]
    assert [member(i).tier for i in ids] == ["C"] * 4  # never applied by the system
    cases = proposals()
    assert [c.title.split()[-1] for c in cases] == ["C→A", "C→B", "C→B"]
    tasks = db.session.scalars(select(Task).where(Task.case_id.in_([c.id for c in cases]))).all()
    assert {(t.name, t.role, t.store_id) for t in tasks} == {("decide_tier", Role.STORE_MANAGER,
                                                              org.stores[0].id)}
    assert tiers.review(now=NIGHT + timedelta(days=1)) == {"written": 0, "proposed": 0}


def test_only_the_manager_applies_and_the_change_is_in_the_members_timeline(org):
    (mid,) = with_points(org, [6000])
    tiers.review(now=NIGHT)
    [case] = proposals()
    with pytest.raises(engine.NotAllowed):
        engine.fire(case, "apply", org["assoc1"], version=case.version, now=NIGHT)
    db.session.rollback()
    with pytest.raises(engine.NotAllowed):  # another store's manager
        engine.fire(case, "apply", org["manager3"], version=case.version, now=NIGHT)
    db.session.rollback()
    assert member(mid).tier == "C"
    result = tiers.decide(actor=org["manager1"], case_ids=[case.id], now=NIGHT + timedelta(hours=6))
    assert result == {"done": [case.id], "refused": []}
    assert member(mid).tier == "A"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "member",
                                                        AuditEvent.object_id == mid)).one()
    assert (event.action, event.data["from"], event.data["to"], event.actor_id) == (
        "tier_change", "C", "A", org["manager1"].id)


def test_bulk_apply_from_the_list_filtered_by_tier_and_a_refusal_does_not_stop_the_rest(org):
    ids = with_points(org, [6000, 3000])
    with_points(org, [6000], tier="B")
    tiers.review(now=NIGHT)
    listed = tiers.proposals(org["manager1"], tier="C")
    assert sorted(c.member_id for c in listed) == ids
    assert tiers.proposals(org["manager3"], tier="C") == []  # another store's manager sees none
    db.session.execute(db.update(Member).where(Member.id == ids[1]).values(tier="B"))  # moved meanwhile
    db.session.commit()
    result = tiers.decide(actor=org["manager1"], case_ids=[c.id for c in listed], now=NIGHT)
    assert len(result["done"]) == 1 and "等级已变化" in str(result["refused"][0][1])
    assert member(ids[0]).tier == "A"


def test_a_declined_change_is_not_proposed_again_that_month(org):
    (mid,) = with_points(org, [2500])
    tiers.review(now=NIGHT)
    [case] = proposals()
    tiers.decide(actor=org["manager1"], case_ids=[case.id], transition="decline", now=NIGHT)
    assert member(mid).tier == "C"
    assert tiers.review(now=NIGHT + timedelta(days=1))["proposed"] == 0
    assert tiers.review(now=datetime(2026, 12, 1, 19, 0, tzinfo=timezone.utc))["proposed"] == 1


def test_ratio_rule_ranks_within_the_store_and_ties_at_the_line_go_up(org):
    use("tier_rule", "ratio")
    # 10 members: top 20 % = 2; the two tied at 800 both have one member ahead of them → A
    ids = with_points(org, [900, 800, 800, 700, 600, 500, 400, 300, 200, 100])
    other = with_points(org, [50], store=1)  # alone in its store: the top of it
    tiers.review(now=NIGHT)
    assert [member(i).qualifying_tier for i in ids] == ["A", "A", "A", "B", "B", "C", "C", "C", "C", "C"]
    assert member(other[0]).qualifying_tier == "A"


def test_downgrade_proposed_for_an_idle_member_and_a_dropping_one_never_applied(org):
    idle, dropping, steady = with_points(org, [2500, 2500, 2500], tier="B", applied_on=date(2020, 1, 1))
    rows = []
    for ym, n in ((202501, 6), (202512, 2)):  # previous 12 months: 6 tickets; last 12: 2
        rows.append({"ym": ym, "store_id": org.stores[0].id, "member_id": dropping, "tickets": n})
    for ym, n in ((202501, 6), (202512, 3)):  # 3 of 6: exactly half, not fewer
        rows.append({"ym": ym, "store_id": org.stores[0].id, "member_id": steady, "tickets": n})
    db.session.execute(insert(MemberMonth), rows)
    db.session.commit()
    tiers.review(now=NIGHT)
    assert [(c.member_id, c.title.split()[-1]) for c in proposals()] == [(idle, "B→C"), (dropping, "B→C")]
    assert member(idle).tier == "B"


def test_manual_change_needs_the_manager_and_a_reason_and_closes_an_open_proposal(org):
    (mid,) = with_points(org, [6000])
    tiers.review(now=NIGHT)
    m = member(mid)
    with pytest.raises(tiers.TierRefused):
        tiers.set_tier(actor=org["assoc1"], member=m, tier="B", reason="老顾客")
    with pytest.raises(tiers.TierRefused):
        tiers.set_tier(actor=org["manager1"], member=m, tier="B", reason=" ")
    assert member(mid).tier == "C"
    tiers.set_tier(actor=org["manager1"], member=member(mid), tier="B", reason="团购客户，特殊处理",
                   now=NIGHT)
    assert member(mid).tier == "B"
    [case] = proposals()
    assert case.state == "declined"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "member",
                                                        AuditEvent.action == "tier_change")).one()
    assert event.comment == "团购客户，特殊处理" and event.data["manual"] is True


def test_the_nightly_review_runs_once_a_day_from_the_set_hour(org):
    with_points(org, [6000])
    early = datetime(2026, 11, 28, 17, 0, tzinfo=timezone.utc)  # 01:00 local
    assert tiers.review_if_due(now=early) is None
    assert tiers.review_if_due(now=NIGHT)["proposed"] == 1
    assert tiers.review_if_due(now=NIGHT + timedelta(minutes=10)) is None


def test_recompute_on_demand_is_for_head_office(org):
    with pytest.raises(tiers.TierRefused):
        tiers.review(now=NIGHT, actor=org["manager1"])
    assert tiers.review(now=NIGHT, actor=org["hq"]) == {"written": 0, "proposed": 0}
    assert settings.get("tier_rule") == "points"
