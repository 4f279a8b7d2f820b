"""Care occasions beyond the festivals (SPEC §3.4, seed 000 §(二)2): members' named
anniversaries, a store's opening anniversary a week ahead, and frequency control — a member
visited often whose points did not grow only gets the quarterly (season launch) care; one SMS a
member a day whatever the occasions."""
from datetime import date, datetime, timedelta, timezone

import time_machine
from sqlalchemy import select, update

from tests.sales.builders import bulk_members
from webapp.calendar import local_midnight_utc
from webapp.extensions import db
from webapp.models import CareLine, Case, Member, MemberAnniversary, OutboxMessage, Store, VisitRecord
from webapp.outbox import MARKETING, queue_sms
from webapp.services import care, cases
from webapp.services.deadlines import process_due


def member(org, store_ix=0, **values):
    (m,) = bulk_members(org.stores[store_ix], 1)
    db.session.execute(update(Member).where(Member.id == m["id"]).values(
        associate_id=org["assoc1"].id, **values))
    db.session.commit()
    return db.session.get(Member, m["id"])


def at(day: date, hour: int) -> datetime:
    return local_midnight_utc(day) + timedelta(hours=hour)


def batch(key: str):
    return db.session.scalars(select(Case).where(Case.dedupe_key == key)).one()


def lines(case):
    return {l.member_id: l for l in db.session.scalars(select(CareLine).where(CareLine.case_id == case.id))}


def test_a_member_with_two_anniversaries_is_greeted_on_each_and_once_a_day(org):
    store = org.stores[0].id
    wed = member(org, tier="A", points=6000, birth_month_day=312)
    wed.anniversaries = [MemberAnniversary(name="结婚纪念日", month_day=520),
                         MemberAnniversary(name="相识纪念日", month_day=1001)]
    both = member(org, tier="C", points=900, birth_month_day=520)  # birthday and anniversary
    both.anniversaries = [MemberAnniversary(name="入会纪念日", month_day=520)]
    db.session.commit()
    with time_machine.travel(at(date(2027, 5, 18), 10), tick=False):
        opened = care.generate_due()
    assert opened["anniversary:2027-05-20"] == 1 and opened["birthday:2027-05-20"] == 1
    may = batch(f"care:anniversary:2027-05-20:{store}")
    got = lines(may)
    assert {m: (l.method, l.note) for m, l in got.items()} == {
        wed.id: ("visit_cake_flowers", "结婚纪念日"), both.id: ("card_call", "入会纪念日")}
    birthday = batch(f"care:birthday:2027-05-20:{store}")
    with time_machine.travel(at(date(2027, 5, 19), 10), tick=False):
        for case in (may, birthday):
            cases.fire(actor=org["manager1"], case=case, transition="approve", version=case.version)
    with time_machine.travel(at(date(2027, 5, 20), 8), tick=False):  # a service SMS first
        queue_sms(db.session.get(Member, wed.id), "points_formal",
                  extra={"date": "5月19日", "sale_store": "南京路店", "amount": "800"})
        db.session.commit()
    with time_machine.travel(at(date(2027, 5, 20), 9) + timedelta(minutes=1), tick=False):
        assert process_due()["timer"] == 2
    sms = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template.in_(MARKETING))
                             .order_by(OutboxMessage.id)).all()
    # one greeting each, not two (birthday and anniversary the same day); the service SMS
    # did not take the greeting away
    assert sorted(m.member_id for m in sms) == sorted([wed.id, both.id])
    text = {m.member_id: m.body for m in sms}
    assert "结婚纪念日快乐" in text[wed.id]
    with time_machine.travel(at(date(2027, 9, 29), 10), tick=False):
        care.generate_due()
    autumn = lines(batch(f"care:anniversary:2027-10-01:{store}"))
    assert {m: l.note for m, l in autumn.items()} == {wed.id: "相识纪念日"}


def test_a_store_opening_anniversary_a_week_ahead_for_that_stores_members(org):
    db.session.execute(update(Store).where(Store.id == org.stores[0].id).values(
        opened_on=date(2019, 12, 8), address="南京西路1号", phone="021-5555"))
    db.session.commit()
    a = member(org, tier="A", points=6000)
    c = member(org, tier="C", points=800)
    member(org, 2, tier="A", points=6000)  # another store's member
    with time_machine.travel(at(date(2027, 11, 30), 10), tick=False):  # 8 days ahead: not yet
        assert "store_anniversary:%d" % org.stores[0].id not in care.generate_due()
    with time_machine.travel(at(date(2027, 12, 1), 10), tick=False):
        assert care.generate_due()[f"store_anniversary:{org.stores[0].id}"] == 1
    case = batch(f"care:store_anniversary:2027-12-08:{org.stores[0].id}")
    assert case.data["act_on"] == "2027-12-05"  # invitations 3 days before (a setting)
    got = lines(case)
    assert set(got) == {a.id, c.id} and {l.method for l in got.values()} == {"phone_sms"}
    assert db.session.scalars(select(Case).where(  # the other store has none
        Case.process == "care_batch", Case.dedupe_key.contains("store_anniversary"))).all() == [case]
    from webapp.models import CaseTimer  # unapproved, it would lapse when the invitations are due
    assert db.session.scalars(select(CaseTimer.due_at).where(CaseTimer.case_id == case.id)).one() \
        == local_midnight_utc(date(2027, 12, 6))
    with time_machine.travel(at(date(2027, 12, 2), 10), tick=False):
        cases.fire(actor=org["manager1"], case=case, transition="approve", version=case.version)
    with time_machine.travel(at(date(2027, 12, 5), 9) - timedelta(minutes=1), tick=False):
        process_due()  # (the 1 December season batches, never approved, lapse)
    db.session.expire_all()
    assert case.state == "approved"
    with time_machine.travel(at(date(2027, 12, 5), 9) + timedelta(minutes=1), tick=False):
        process_due()
    db.session.expire_all()
    assert case.state == "done"
    sms = db.session.scalars(select(OutboxMessage)).all()
    assert {m.member_id for m in sms} == {a.id, c.id}
    assert "12月8日开业周年庆" in sms[0].body and "南京西路1号" in sms[0].body
    calls = db.session.scalars(select(Case).where(Case.process == "care_action")).all()
    assert {k.member_id for k in calls} == {a.id, c.id}


def test_frequency_control_falls_back_to_the_quarterly_cadence_with_the_reason(org):
    steady = member(org, tier="A", points=5000)
    grown = member(org, tier="A", points=5600)
    fresh = member(org, tier="A", points=5000)
    for m, before in ((steady, 5000), (grown, 5000)):
        for days in (100, 60, 20):  # three visits in the last 180 days (settings)
            db.session.add(VisitRecord(store_id=m.store_id, ym=202612, member_id=m.id,
                                       associate_id=org["assoc1"].id, method="call",
                                       visited_at=at(date(2027, 1, 30), 10) - timedelta(days=days),
                                       result="已接通", points_at_visit=before))
    db.session.add(VisitRecord(store_id=fresh.store_id, ym=202301, member_id=fresh.id,  # long ago
                               associate_id=org["assoc1"].id, method="call",
                               visited_at=datetime(2023, 1, 5, tzinfo=timezone.utc), result="x",
                               points_at_visit=5000))
    db.session.commit()
    with time_machine.travel(at(date(2027, 1, 30), 10), tick=False):
        care.generate_due()
    festival = lines(batch(f"care:spring_festival:2027-02-06:{org.stores[0].id}"))
    assert (festival[steady.id].status, festival[steady.id].reason) == ("excluded", "frequency")
    assert festival[grown.id].status == "planned" and festival[fresh.id].status == "planned"
    with time_machine.travel(at(date(2027, 2, 25), 10), tick=False):  # the 1 March season launch
        care.generate_due()
    season = lines(batch(f"care:season_0301:2027-03-01:{org.stores[0].id}"))
    assert season[steady.id].status == "planned"  # the quarterly cadence keeps them
    page_case = batch(f"care:spring_festival:2027-02-06:{org.stores[0].id}")
    view = care.batch_view(actor=org["manager1"], case=page_case)
    assert view["reasons"]["frequency"] == "多次拜访积分未增长，改为季度回访"
