"""Stand-ins while away: the away colleague's assigned tasks reach the stand-in for the period
only, what the stand-in does is audited "B for A", and only sensible arrangements are accepted."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import register
from webapp.extensions import db
from webapp.models import AuditEvent, StandIn
from webapp.services import standins
from webapp.services.inbox import inbox_tasks
from webapp.workflows import engine

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
START, END = T0 + timedelta(days=1), T0 + timedelta(days=4)


def sent_back(org):
    """A registration by assoc1 sent back: its completion task is assigned to assoc1."""
    with time_machine.travel(T0, tick=False):
        case = register(org)
        engine.fire(case, "send_back", org["hq"], version=case.version, comment="缺地址")
        db.session.commit()
    return case


def titles(user):
    return [row.title for row in inbox_tasks(user)]


def test_the_stand_in_sees_and_does_the_away_colleagues_tasks_during_the_period_only(org):
    case = sent_back(org)
    standins.arrange(actor=org["manager1"], user=org["assoc1"], stand_in=org["assoc1b"],
                     starts_at=START, ends_at=END, now=T0)
    with time_machine.travel(START - timedelta(minutes=1), tick=False):
        assert case.title not in titles(org["assoc1b"])
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert case.title in titles(org["assoc1b"])
        assert case.title in titles(org["assoc1"])  # still theirs too
        engine.fire(case, "resubmit", org["assoc1b"], version=case.version)
        db.session.commit()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "resubmit")).one()
    assert (event.actor_id, event.on_behalf_of_id) == (org["assoc1b"].id, org["assoc1"].id)


def test_the_period_ends_by_itself(org):
    case = sent_back(org)
    standins.arrange(actor=org["assoc1"], user=org["assoc1"], stand_in=org["assoc1b"],
                     starts_at=START, ends_at=END, now=T0)
    with time_machine.travel(END, tick=False):
        assert case.title not in titles(org["assoc1b"])


def test_acting_on_ones_own_or_outside_a_stand_in_is_not_marked_as_for_someone(org):
    case = sent_back(org)
    with time_machine.travel(START, tick=False):
        engine.fire(case, "resubmit", org["assoc1b"], version=case.version)
        db.session.commit()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "resubmit")).one()
    assert event.on_behalf_of_id is None


@pytest.mark.parametrize("actor,user,stand_in,message", [
    ("assoc1b", "assoc1", "assoc1b", "不能为该同事安排"),  # a peer may not arrange for another
    ("manager3", "assoc1", "assoc1b", "不能为该同事安排"),  # another store's manager
    ("assoc1", "assoc1", "assoc3", "同一岗位"),  # another store
    ("assoc1", "assoc1", "manager1", "同一岗位"),  # another role
    ("hq_manager", "hq", "hq_manager", "同一岗位"),
])
def test_arrangements_that_make_no_sense_are_refused_and_write_nothing(org, actor, user, stand_in,
                                                                        message):
    with pytest.raises(standins.StandInRefused, match=message):
        standins.arrange(actor=org[actor], user=org[user], stand_in=org[stand_in],
                         starts_at=START, ends_at=END, now=T0)
    assert db.session.scalars(select(StandIn)).all() == []


def test_overlapping_and_backwards_periods_are_refused(org):
    standins.arrange(actor=org["assoc1"], user=org["assoc1"], stand_in=org["assoc1b"],
                     starts_at=START, ends_at=END, now=T0)
    with pytest.raises(standins.StandInRefused, match="已安排代班"):
        standins.arrange(actor=org["manager1"], user=org["assoc1"], stand_in=org["assoc1b"],
                         starts_at=END - timedelta(days=1), ends_at=END + timedelta(days=1), now=T0)
    with pytest.raises(standins.StandInRefused, match="晚于"):
        standins.arrange(actor=org["assoc1"], user=org["assoc1"], stand_in=org["assoc1b"],
                         starts_at=END + timedelta(days=2), ends_at=END + timedelta(days=1), now=T0)


def test_cancel_ends_it_early(org):
    case = sent_back(org)
    row = standins.arrange(actor=org["assoc1"], user=org["assoc1"], stand_in=org["assoc1b"],
                           starts_at=START, ends_at=END, now=T0)
    standins.cancel(actor=org["manager1"], stand_in_id=row.id, now=START + timedelta(hours=2))
    with time_machine.travel(START + timedelta(hours=3), tick=False):
        assert case.title not in titles(org["assoc1b"])


def test_the_page_arranges_one_in_local_days(org, login):
    client = login("manager1")
    assert client.get("/standins").status_code == 200
    with time_machine.travel(T0, tick=True):
        response = client.post("/standins", data={
            "user_id": org["assoc1"].id, "stand_in_id": org["assoc1b"].id,
            "first_day": "2026-11-23", "last_day": "2026-11-25"})
    assert response.status_code == 302
    row = db.session.scalars(select(StandIn)).one()
    assert row.starts_at == datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)  # 23 Nov 00:00 local
    assert row.ends_at == datetime(2026, 11, 25, 16, 0, tzinfo=timezone.utc)  # end of 25 Nov
    refused = client.post("/standins", data={
        "user_id": org["assoc1"].id, "stand_in_id": org["assoc3"].id,
        "first_day": "2026-11-23", "last_day": "2026-11-25"})
    assert refused.status_code == 422
