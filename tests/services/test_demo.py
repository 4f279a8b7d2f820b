"""The demo `make run` loads: every login works, and the complaint pages have last month's filed
complaints (with their lateness) and this month's in every state, one of them overdue; the
members, SMS and sales look like a real clothing chain's."""
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import case, func, select

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
        _lifecycle()


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
    # this week's routine (SPEC §3.8): on Sunday every store's report waits for its manager,
    # and every demo associate has today's profiles to memorise
    assert states[("weekly_routine", "reporting")] == 4
    from webapp.services import routine
    for username in ("associate", "associate1b", "associate2"):
        user = db.session.scalars(select(User).where(User.username == username)).one()
        assert len(routine.profiles_of_day(actor=user)["today"]) == 2

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
    formal = set(db.session.scalars(select(Case.member_id).where(Case.process == "formal_card")))
    for sms in welcomes:
        m = sms.member
        assert sms.body.startswith(m.name[0] + ("先生" if m.gender == "M" else "女士"))
        if m.id not in formal:  # the demo's formal cards came with a later sale
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


def _lifecycle():
    """Points agree with the sales (the ledger credits each ticket), tiers A/B/C follow them, an
    upgrade waits in 王店长's inbox, formal cards wait for pickup (a day-5 call for 张导购, one
    held at the store), today's day-3 calls name what was bought."""
    from webapp.models import PointsEntry, Task
    from webapp.outbox import script_text
    from webapp.services import inbox

    earned = func.sum(case((Sale.amount_fen >= 0, Sale.amount_fen // 100),
                           else_=-((-Sale.amount_fen) // 100)))
    by_sales = dict(db.session.execute(select(Sale.member_id, earned).where(
        Sale.member_id.is_not(None)).group_by(Sale.member_id)).all())
    by_ledger = dict(db.session.execute(select(PointsEntry.member_id, func.sum(PointsEntry.points))
                                        .group_by(PointsEntry.member_id)).all())
    members = db.session.scalars(select(Member).where(Member.status == "active")).all()
    assert by_sales and all(m.points == by_sales.get(m.id, 0) == by_ledger.get(m.id, 0)
                            for m in members)  # points_per_yuan is 1 in the demo
    tiers = {}
    for m in members:
        tiers[m.tier] = tiers.get(m.tier, 0) + 1
        qualifying = "A" if m.points >= 5000 else "B" if m.points >= 2000 else "C"
        assert m.qualifying_tier == qualifying
    assert all(tiers.get(t, 0) >= 20 for t in "ABC"), tiers
    assert all(m.card_type == "formal" for m in members if m.points >= 1000
               and m.card_no.startswith("F"))

    manager = db.session.scalars(select(User).where(User.username == "manager")).one()
    mine = {t.name for t in inbox.inbox_tasks(manager, limit=500)}
    assert "decide_tier" in mine
    proposals = db.session.scalars(select(Case).where(Case.process == "tier_change")).all()
    assert len(proposals) == 3 and all(c.member.qualifying_tier < c.member.tier for c in proposals)

    cards = {c.state: c for c in db.session.scalars(select(Case).where(Case.process == "formal_card"))}
    assert set(cards) == {"call", "held"}
    associate = db.session.scalars(select(User).where(User.username == "associate")).one()
    call = db.session.scalars(select(Task).where(Task.case_id == cards["call"].id,
                                                 Task.status == "open")).one()
    assert call.name == "pickup_call" and call.assignee_id == associate.id
    formal_sms = {m.member_id for m in db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "welcome_formal"))}
    assert {c.member_id for c in cards.values()} <= formal_sms

    calls = db.session.scalars(select(Case).where(Case.process == "aftersale_call")
                               .order_by(Case.id)).all()
    assert len(calls) >= 10
    today = local_date(clock.now())
    tasks = db.session.scalars(select(Task).where(Task.case_id.in_([c.id for c in calls]))).all()
    # opened today, due by the end of today's working day (a Sunday's by Monday's)
    assert all(local_date(t.created_at) == today and t.status == "open"
               and 0 <= (local_date(t.due_at) - today).days <= 3 for t in tasks)
    assert any(t.assignee_id == associate.id for t in tasks)
    script = script_text("aftersale_call", calls[0].member, calls[0].data)
    assert "那件衣服" not in script and "买的那件" in script
