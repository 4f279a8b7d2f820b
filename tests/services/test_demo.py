"""The demo `make run` loads: every login works, and the complaint pages have last month's filed
complaints (with their lateness) and this month's in every state, one of them overdue; the
members, SMS and sales look like a real clothing chain's."""
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import func, select

from webapp import clock
from webapp.calendar import add_months, local_date
from webapp.demo import DEMO_USERS, GIVEN, load
from webapp.extensions import db
from webapp.models import Case, Complaint, Member, Notification, OutboxMessage, Role, Sale, User
from webapp.services import accounts, analyses, complaint_stats, deadlines

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=timezone.utc)  # a Sunday, 10:00 in Shanghai


def test_demo_company(ctx):
    """One load (it takes a while), three sets of checks."""
    with time_machine.travel(NOW, tick=False):
        load()
        _workflows()
        _people_and_sms()
        _sales()
        _visits()


def _workflows():
    for username, *_ in DEMO_USERS:
        user = accounts.authenticate(username=username, password="demo", ip="test")
        assert user.username == username

    states = dict(((p, s), n) for p, s, n in db.session.execute(
        select(Case.process, Case.state, func.count()).group_by(Case.process, Case.state)))
    assert states[("complaint_direct", "filed")] == 2 and states[("complaint_store", "filed")] == 2
    assert {s for p, s in states if p.startswith("complaint")} >= {
        "open", "escalated", "replied", "proposed", "hq_revisit"}
    assert states[("registration", "review")] > 0 and states[("registration", "returned")] > 0
    # the new-season batch of 1 December waits for each store manager's approval (SPEC §3.4)
    assert states[("care_batch", "review")] >= 4
    assert db.session.scalar(select(func.count()).select_from(Case).where(  # the store's 店庆
        Case.process == "care_batch", Case.dedupe_key.contains("store_anniversary"))) == 1
    assert clock.as_utc(db.session.scalar(select(func.max(Sale.sold_at)))) <= clock.now()

    hq = accounts.authenticate(username="hq", password="demo", ip="test")
    last_month = add_months(local_date(clock.now()).replace(day=1), -1)
    total = complaint_stats.compliance(user=hq, scope="company", scope_id=None,
                                       month=last_month)[-1]
    assert total.received == 4 and total.reply == (3, 4) and total.solution == (3, 4)
    assert total.revisit == (4, 4) and total.satisfaction == 3.5 and total.late == 2

    # nobody answered the store complaint received 30 h ago: the first sweep escalates it
    deadlines.process_due(now=clock.now() + timedelta(minutes=1))
    late = db.session.scalars(select(Complaint).where(Complaint.customer_name == "陈先生")).one()
    told = {n.role for n in db.session.scalars(
        select(Notification).join(Notification.task).where(Notification.kind.like("escalate%")))
        if n.task.case_id == late.case_id}
    assert told == {Role.AREA_SUPERVISOR, Role.HQ_SPECIALIST}


def _people_and_sms():
    """Names agree with the gender (so do 先生/女士 in the SMS); a welcome SMS never gives more
    points than the formal threshold; one brand name."""
    names = {g: set(given) for g, given in GIVEN.items()}
    members = db.session.scalars(select(Member)).all()
    assert len(members) > 1000
    for m in members:
        assert m.name[1:] in names[m.gender], (m.name, m.gender)
    welcomes = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "welcome_temporary")).all()
    assert welcomes
    for sms in welcomes:
        m = sms.member
        assert sms.body.startswith(m.name[0] + ("先生" if m.gender == "M" else "女士"))
        assert m.points < 1000 and f"积分是{m.points}分" in sms.body
        assert "达到1000分" in sms.body and "青松服饰" in sms.body and "XX" not in sms.body


def _sales():
    """Last month at 上海南京路店: members bring 50–70 % of the sales, last year's same month is
    there and a little lower, a ticket is a few hundred yuan, 20–60 tickets a day."""
    hq = accounts.authenticate(username="hq", password="demo", ip="test")
    report = analyses.run(user=hq, kind="spending-power", scope="store:1", period="2026-10")
    figures = {f.key: f for f in report.figures}
    assert 50 <= figures["member_sales_share"].value <= 70
    assert 0 < figures["sales_yoy"].value <= 25 and 0 < figures["member_sales_yoy"].value <= 30
    assert 300 <= figures["member_ticket"].value <= 700
    cur = analyses.totals(analyses.parse_scope(hq, "store:1"), analyses.parse_period("2026-10"))
    assert 20 * 31 <= cur.tickets <= 60 * 31
    assert 200 * 100 <= cur.sales / cur.tickets <= 700 * 100
    churn = {f.key: f for f in analyses.run(user=hq, kind="churn", scope="store:1",
                                            period="2026-10").figures}
    assert churn["churn_rate"].value is not None


def _visits():
    """Last month's visit plan cycle complete for every store, this month's under way."""
    from webapp.periods import Month
    from webapp.services import visit_plan as vp

    hq = db.session.scalars(select(User).where(User.username == "hq")).one()
    rows = vp.consolidation(user=hq, month=Month(2026, 11))
    assert len(rows) == 4 and {r.state for r in rows} == {"archived"}
    assert all(r.items > 0 for r in rows)
    card = vp.scorecard(user=hq, month=Month(2026, 11))
    assert all(r["done"] > 0 and r["checked"] > 0 for r in card)
    upcoming = {r.state for r in vp.consolidation(user=hq, month=Month(2026, 12))}
    assert upcoming == {"drafting", "review"}
    states = dict(((p, s), n) for p, s, n in db.session.execute(
        select(Case.process, Case.state, func.count()).where(Case.process == "visit_area_summary")
        .group_by(Case.process, Case.state)))
    assert states[("visit_area_summary", "submitted")] == 2
