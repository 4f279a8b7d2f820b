"""Card expiry (SPEC §3.6, issue #12) under a controlled clock: the monthly list with the waiver
edges, once per month, a waiver met after listing, calls and their outcomes, lapse at expiry,
renewal by payment from the old expiry date, February and month-end expiry dates."""
from datetime import date, datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.sales.builders import bulk_members, sale
from webapp.extensions import db
from webapp.models import CardRenewal, Case, Member, Notification, OutboxMessage, Task
from webapp.services import sales
from webapp.services.deadlines import process_due
from webapp.services.recurring import open_due
from webapp.workflows import engine
from webapp.workflows.expiry_steps import expiry_moment

DEC1 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # 1 Dec 09:00 local: the list is opened
EXP = date(2027, 1, 15)


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def buy(org, m, no, amount, when, *, store="S1", return_of=""):
    with time_machine.travel(when, tick=False):
        local = datetime.fromtimestamp(when.timestamp(), tz=timezone.utc).astimezone(
            __import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
        sales.record(rows=[sale(store, no, local, amount, card=m["card_no"], return_of=return_of)],
                     actor=org["hq"], source="import")


def members(org, n, expires=EXP, store=0):
    return bulk_members(org.stores[store], n, expires=expires)


def call_case(m):
    return db.session.scalars(select(Case).where(Case.process == "expiry_call",
                                                 Case.member_id == m["id"])).one_or_none()


def run_list(when=DEC1):
    with time_machine.travel(when, tick=False):
        return open_due(now=when)


def member(m):
    db.session.expire_all()
    return db.session.get(Member, m["id"])


def step(org, case, name, who, when, data=None):
    with time_machine.travel(when, tick=False):
        engine.fire(case, name, org[who], version=case.version, now=when, data=data)
        db.session.commit()


def test_waiver_edges_decide_who_is_listed_and_who_is_renewed_with_an_sms(org):
    two, three, under, exactly, returned = members(org, 5)
    t = utc("2026-06-01 04:00")
    buy(org, two, "A1", "100", t), buy(org, two, "A2", "100", t)
    for no in ("B1", "B2", "B3"):
        buy(org, three, no, "10", t)
    buy(org, under, "C1", "999.99", t)
    buy(org, exactly, "D1", "1000.00", t)
    buy(org, returned, "E1", "1200.00", t)
    buy(org, returned, "E1-R", "-300.00", t, return_of="E1")  # back under 1000 (one ticket)
    run_list()
    listed = {m["id"] for m in (two, three, under, exactly, returned) if call_case(m)}
    assert listed == {two["id"], under["id"], returned["id"]}
    assert member(three).card_expires_on == date(2028, 1, 15)
    assert member(exactly).card_expires_on == date(2028, 1, 15)
    assert member(two).card_expires_on == EXP
    sms = db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == "card_renewed")).all()
    assert {s.member_id for s in sms} == {three["id"], exactly["id"]}
    assert "2028-01-15" in sms[0].body
    task = db.session.scalars(select(Task).where(Task.case_id == call_case(two).id)).one()
    assert task.name == "expiry_call" and task.role.name == "HQ_SPECIALIST"


def test_sales_outside_the_card_year_do_not_count(org):
    (m,) = members(org, 1)
    buy(org, m, "Z1", "5000", utc("2026-01-15 04:00"))  # the card year starts after 15 Jan 2026
    run_list()
    assert call_case(m) is not None


def test_the_list_is_built_once_a_month_even_if_the_job_runs_twice_or_late(org):
    m1, m2 = members(org, 2)
    run_list()
    run_list(utc("2026-12-01 02:00"))
    run_list(utc("2026-12-20 02:00"))  # late
    assert len(db.session.scalars(select(Case).where(Case.process == "expiry_list")).all()) == 1
    assert len(db.session.scalars(select(Case).where(Case.process == "expiry_call")).all()) == 2
    notices = db.session.scalars(select(Notification)).all()
    assert [(n.role.name, n.store_id) for n in notices] == [("STORE_MANAGER", org.stores[0].id)]


def test_a_list_opened_late_in_the_month_still_comes_once(org):
    (m,) = members(org, 1)
    run_list(utc("2026-12-28 02:00"))
    run_list(utc("2026-12-29 02:00"))
    assert call_case(m) is not None
    assert len(db.session.scalars(select(Case).where(Case.process == "expiry_list")).all()) == 1


def test_a_waiver_met_after_listing_renews_and_closes_the_call_with_the_reason(org):
    (m,) = members(org, 1)
    buy(org, m, "A1", "600", utc("2026-06-01 04:00"))
    run_list()
    case = call_case(m)
    assert case.state == "call"
    buy(org, m, "A2", "400", utc("2026-12-10 04:00"))  # 1000 yuan: met before expiry
    db.session.expire_all()
    case = call_case(m)
    assert case.state == "waived"
    assert db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).all() == []
    assert member(m).card_expires_on == date(2028, 1, 15)
    [renewal] = db.session.scalars(select(CardRenewal)).all()
    assert (renewal.kind, renewal.old_expires_on) == ("waiver", EXP)
    # and the lapse timer does nothing once the case has moved on
    with time_machine.travel(expiry_moment(EXP), tick=False):
        process_due()
    assert member(m).status == "active"


def test_unreachable_retries_then_stands_and_the_card_lapses_at_expiry(org):
    (m,) = members(org, 1)
    run_list()
    case = call_case(m)
    with pytest.raises(engine.WorkflowError):
        step(org, case, "unreachable", "hq", utc("2026-12-02 02:00"))
    db.session.rollback()
    step(org, case, "no_answer", "hq", utc("2026-12-02 02:00"))
    step(org, case, "no_answer", "hq", utc("2026-12-03 02:00"))
    with pytest.raises(engine.WorkflowError):  # the third call is the last one
        step(org, case, "no_answer", "hq", utc("2026-12-04 02:00"))
    db.session.rollback()
    case = call_case(m)
    step(org, case, "unreachable", "hq", utc("2026-12-04 02:00"))
    assert call_case(m).state == "unreachable"
    with time_machine.travel(expiry_moment(EXP), tick=False):
        process_due(now=utc("2027-01-15 15:59"))
    assert member(m).status == "active"  # still valid through 15 Jan
    with time_machine.travel(expiry_moment(EXP), tick=False):
        process_due()
    assert call_case(m).state == "lapsed"
    assert member(m).status == "lapsed"  # the record stays: a contact


def test_renewal_by_payment_extends_from_the_old_expiry_date_even_after_lapse(org):
    (m,) = members(org, 1)
    run_list()
    with time_machine.travel(expiry_moment(EXP), tick=False):
        process_due()
    case = call_case(m)
    assert case.state == "lapsed"
    step(org, case, "renew_paid", "hq", utc("2027-03-01 02:00"),
         data={"fee_fen": 5000, "store_id": org.stores[1].id})
    got = member(m)
    assert (got.status, got.card_expires_on) == ("active", date(2028, 1, 15))
    [renewal] = db.session.scalars(select(CardRenewal)).all()
    assert (renewal.kind, renewal.fee_fen, renewal.paid_store_id) == ("payment", 5000, org.stores[1].id)


def test_declined_lapses_at_expiry_and_a_dead_number_is_flagged(org):
    a, b = members(org, 2)
    run_list()
    step(org, call_case(a), "decline", "hq", utc("2026-12-02 02:00"))
    step(org, call_case(b), "dead_number", "hq", utc("2026-12-02 02:00"))
    assert member(b).mobile_dead_at is not None
    with time_machine.travel(expiry_moment(EXP), tick=False):
        process_due()
    assert (call_case(a).state, call_case(b).state) == ("lapsed", "lapsed")
    assert call_case(a).data["outcome"] == "declined"


def test_a_store_cannot_record_the_outcome(org):
    (m,) = members(org, 1)
    run_list()
    with pytest.raises(engine.NotAllowed):
        step(org, call_case(m), "decline", "manager1", utc("2026-12-02 02:00"))


@pytest.mark.parametrize("expires, list_day, renewed", [
    (date(2027, 2, 28), utc("2027-01-01 02:00"), date(2028, 2, 28)),  # a year on, not the 29th
    (date(2028, 2, 29), utc("2028-01-01 02:00"), date(2029, 2, 28)),
    (date(2027, 1, 31), utc("2026-12-01 02:00"), date(2028, 1, 31)),
])
def test_february_and_month_end_expiry_dates(org, expires, list_day, renewed):
    (m,) = members(org, 1, expires=expires)
    run_list(list_day)
    case = call_case(m)
    assert case is not None
    step(org, case, "renew_paid", "hq", list_day, data={"fee_fen": 0, "store_id": org.stores[0].id})
    assert member(m).card_expires_on == renewed
    timer = db.session.execute(select(engine.CaseTimer).where(engine.CaseTimer.case_id == case.id)
                               .order_by(engine.CaseTimer.id)).scalars().first()
    assert timer.due_at == expiry_moment(expires)


def test_analyses_count_lapsed_members_while_valid_and_share_one_population(org):
    """4 cards expire on 15 Jan 2027 (2 renew by paying, 2 lapse), 6 run on. December 2026:
    5 of the 10 valid members bought → 50 %. In 2027 all 10 bought (the 2 lapsed too), but at
    31 Dec 2027 only 8 are valid, and 8 of them bought → 100 % (not 10 / 8)."""
    from decimal import Decimal

    from webapp.services import analyses

    expiring = members(org, 4)
    others = members(org, 6, expires=date(2099, 12, 31))
    run_list()
    for m in expiring[:2]:
        step(org, call_case(m), "renew_paid", "hq", utc("2026-12-02 02:00"),
             data={"fee_fen": 5000, "store_id": org.stores[0].id})
    for m in expiring[2:]:
        step(org, call_case(m), "decline", "hq", utc("2026-12-02 02:00"))
    for i, m in enumerate(expiring[2:] + others[:3]):
        buy(org, m, f"D{i}", "10", utc("2026-12-05 04:00"))
    with time_machine.travel(expiry_moment(EXP), tick=False):
        process_due()
    assert [member(m).status for m in expiring] == ["active", "active", "lapsed", "lapsed"]
    for i, m in enumerate(expiring + others):
        buy(org, m, f"F{i}", "10", utc("2027-02-05 04:00"))
    store = f"store:{org.stores[0].id}"

    def share(period):
        with time_machine.travel(utc("2028-01-05 04:00"), tick=False):
            report = analyses.run(user=org["hq"], kind="consumption", scope=store, period=period)
        return next(f for f in report.figures if f.key == "consuming_share")

    december = share("2026-12")
    assert (december.inputs, december.value) == ("5 / 10", Decimal("50.0"))
    year = share("2027")
    assert (year.inputs, year.value) == ("8 / 8", Decimal("100.0"))
