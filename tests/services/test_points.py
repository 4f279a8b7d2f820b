"""Points: credited with each sale in its own transaction (every path), taken back with returns,
never below zero, cash back from the balance, one points SMS per member and day of sales."""
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.sales.builders import bulk_members, sale
from webapp.extensions import db
from webapp.models import Member, OutboxMessage, PointsEntry
from webapp.services import points, sales

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 20 Nov 10:00 local


def record(org, *rows, now=T0):
    with time_machine.travel(now, tick=False):
        sales.record(rows=list(rows), actor=org["hq"], source="import")


def member(m):
    db.session.expire_all()
    return db.session.get(Member, m["id"])


def test_a_sale_credits_floor_yuan_points_and_a_return_takes_them_back(org):
    (m,) = bulk_members(org.stores[0], 1)
    record(org, sale("S1", "P1", "2026-11-19 15:00", "999.99", card=m["card_no"]),
           sale("S1", "P2", "2026-11-19 16:00", "0.50", card=m["card_no"]))
    assert (member(m).points, member(m).points_balance) == (999, 999)
    record(org, sale("S1", "R1", "2026-11-19 17:00", "-300.00", card=m["card_no"], return_of="P1"))
    assert (member(m).points, member(m).points_balance) == (699, 699)
    kinds = db.session.scalars(select(PointsEntry.kind).order_by(PointsEntry.id)).all()
    assert kinds == ["sale", "sale", "return"]


def test_the_rate_is_a_setting(org):
    from webapp import settings
    settings.put("points_per_yuan", "2")
    db.session.commit()
    (m,) = bulk_members(org.stores[0], 1)
    record(org, sale("S1", "P1", "2026-11-19 15:00", "100.00", card=m["card_no"]))
    assert member(m).points == 200


def test_a_return_after_cash_back_floors_the_balance_at_zero_and_keeps_the_total(org):
    (m,) = bulk_members(org.stores[0], 1)
    record(org, sale("S1", "P1", "2026-11-19 15:00", "1000.00", card=m["card_no"]))
    assert points.cashback_available(member(m)) == 2000  # 2 × 500 points → 2 × 10 yuan, in fen
    points.adjust(actor=org["assoc1"], member=member(m), kind="cashback", points=1000, note="抵用20元")
    assert (member(m).points, member(m).points_balance) == (1000, 0)
    record(org, sale("S1", "R1", "2026-11-19 17:00", "-400.00", card=m["card_no"], return_of="P1"))
    assert (member(m).points, member(m).points_balance) == (600, 0)
    line = db.session.scalars(select(PointsEntry).where(PointsEntry.kind == "return")).one()
    assert line.balance_points == -400  # the ledger keeps what was taken back


@pytest.mark.parametrize("kind,amount,note,message", [
    ("cashback", 600, "", "可用积分不足"), ("exchange", 0, "", "可用积分不足"),
    ("correction", 50, " ", "原因"), ("gift", 1, "x", "未知"),
])
def test_spending_more_than_the_balance_or_a_correction_without_reason_is_refused(
        org, kind, amount, note, message):
    (m,) = bulk_members(org.stores[0], 1)
    record(org, sale("S1", "P1", "2026-11-19 15:00", "500.00", card=m["card_no"]))
    with pytest.raises(points.PointsRefused, match=message):
        points.adjust(actor=org["manager1"], member=member(m), kind=kind, points=amount, note=note)
    assert member(m).points_balance == 500
    assert db.session.scalar(select(PointsEntry.id).where(PointsEntry.kind != "sale")) is None


def test_one_points_sms_per_member_and_day_after_the_day_is_over(org):
    m1, m2 = bulk_members(org.stores[0], 2)
    record(org, sale("S1", "P1", "2026-11-20 09:00", "300.00", card=m1["card_no"]),
           sale("S1", "P2", "2026-11-20 15:30", "200.50", card=m1["card_no"]),
           sale("S2", "P3", "2026-11-20 11:00", "88.00", card=m2["card_no"]),
           now=datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc))
    assert points.queue_points_sms(now=datetime(2026, 11, 20, 15, 0, tzinfo=timezone.utc)) == 0
    assert points.queue_points_sms(now=datetime(2026, 11, 20, 16, 5, tzinfo=timezone.utc)) == 2
    assert points.queue_points_sms(now=datetime(2026, 11, 21, 1, 0, tzinfo=timezone.utc)) == 0
    bodies = {m.member_id: m.body for m in db.session.scalars(select(OutboxMessage))}
    assert "11月20日" in bodies[m1["id"]] and "消费共计500.50元" in bodies[m1["id"]]
    assert "您目前的积分是500分" in bodies[m1["id"]] and "达到1000分" in bodies[m1["id"]]
    assert "2号店" in bodies[m2["id"]] and "消费共计88元" in bodies[m2["id"]]
