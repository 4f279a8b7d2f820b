"""What the engine can say beyond registration and complaints: a system actor, timers that move
a case, recurring cases, many cases at once, stand-ins, and declarations checked on registration.
Each runs on the real database under a controlled clock."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import Integer, func, literal, select

from webapp.extensions import db
from webapp.models import AuditEvent, Case, CaseTimer, Role, Store, Task
from webapp.queue import redis_conn
from webapp.services import recurring
from webapp.services.deadlines import process_due
from webapp.workflows import engine
from webapp.workflows.engine import Process, Recurring, TaskSpec, Timer, Transition

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Shanghai
HQ = frozenset({Role.HQ_SPECIALIST})


def pickup_process(**overrides) -> Process:
    """A small process like the day-5 card pickup: waiting → (timer, end of day 2) → call due."""
    spec = dict(
        name="t_pickup", label="测试", states={"waiting": "等待", "call": "待致电", "done": "完成"},
        initial="waiting", start_roles=frozenset({Role.ASSOCIATE}),
        transitions=(Transition("open_call", "开始致电", ("waiting",), "call", frozenset(), system=True),
                     Transition("finish", "完成", ("waiting", "call"), "done", HQ)),
        tasks={"call": TaskSpec("call", "致电", Role.HQ_SPECIALIST, due_setting="mailbox_check_due")},
        timers={"waiting": (Timer("open_call", due_setting="registration_completion_due"),)},
        final=frozenset({"done"}))
    spec.update(overrides)
    return Process(**spec)


@pytest.fixture
def declared():
    """Register test processes for one test only (the registry is global)."""
    added = []

    def _declare(process):
        added.append(engine.register(process).name)
        return process
    yield _declare
    for name in added:
        engine.REGISTRY.pop(name, None)


def start(org, process, now=T0):
    with time_machine.travel(now, tick=False):
        case = engine.start(process, None, title="卡 1", store_id=org.stores[0].id,
                            area_id=org.areas[0].id, now=now)
        db.session.commit()
    return case


# --- declarations ------------------------------------------------------------------------------

@pytest.mark.parametrize("change,message", [
    (dict(initial="nowhere"), "initial state 'nowhere'"),
    (dict(tasks={"limbo": TaskSpec("x", "x", Role.HQ_SPECIALIST, due_setting="mailbox_check_due")}),
     "unknown state 'limbo'"),
    (dict(tasks={"call": TaskSpec("call", "致电", Role.HQ_SPECIALIST)}), "needs exactly one due rule"),
    (dict(transitions=(Transition("open_call", "x", ("waiting",), "call", frozenset()),
                       Transition("finish", "x", ("call",), "done", HQ))), "has no role"),
    (dict(timers={"waiting": (Timer("finish", due_setting="mailbox_check_due"),)}),
     "not a system transition"),
    (dict(states={"waiting": "等待", "call": "待致电", "done": "完成", "island": "孤岛"}),
     "'island' cannot be reached"),
    (dict(transitions=(Transition("open_call", "x", ("waiting",), "call", frozenset(), system=True,
                                  effect="on_open_call"),
                       Transition("finish", "x", ("call",), "done", HQ))), "effect is not callable"),
])
def test_an_inconsistent_declaration_fails_when_registered(change, message):
    with pytest.raises(engine.DeclarationError, match=message):
        engine.register(pickup_process(name="t_broken", **change))
    assert "t_broken" not in engine.REGISTRY


def test_every_product_process_passes_the_check():
    assert {name: engine.check(p) for name, p in engine.REGISTRY.items()} == {
        name: [] for name in engine.REGISTRY}


# --- the system as an actor -------------------------------------------------------------------

def test_the_system_fires_only_what_is_declared_for_it_and_is_audited_as_system(org, declared):
    process = declared(pickup_process())
    case = start(org, process)
    with pytest.raises(engine.NotAllowed):
        engine.fire(case, "finish", None, version=case.version)  # a person's step
    with pytest.raises(engine.NotAllowed):
        engine.fire(case, "open_call", org["hq"], version=case.version)  # the system's step
    engine.fire(case, "open_call", None, version=case.version, now=T0 + timedelta(hours=1))
    db.session.commit()
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "open_call")).one()
    assert (event.actor_id, event.from_state, event.to_state) == (None, "waiting", "call")
    assert case.state == "call"


# --- timers -----------------------------------------------------------------------------------

def test_a_timer_fires_its_transition_once_at_its_moment(org, declared):
    process = declared(pickup_process())
    case = start(org, process)  # Friday: "eod:2" working days → end of Tuesday 24 Nov
    timer = db.session.scalars(select(CaseTimer)).one()
    assert timer.due_at == datetime(2026, 11, 24, 16, 0, tzinfo=timezone.utc)
    with time_machine.travel(timer.due_at - timedelta(seconds=1), tick=False):
        assert process_due()["timer"] == 0
    with time_machine.travel(timer.due_at + timedelta(hours=30), tick=False):  # late: still once
        assert process_due()["timer"] == 1
        assert process_due()["timer"] == 0
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "call"
    [task] = db.session.scalars(select(Task).where(Task.case_id == case.id)).all()
    assert task.name == "call" and task.status == "open"
    assert db.session.get(CaseTimer, timer.id).outcome == "fired"


def test_a_timer_that_comes_due_after_the_case_moved_on_does_nothing(org, declared):
    process = declared(pickup_process())
    case = start(org, process)
    engine.fire(case, "finish", org["hq"], version=case.version, now=T0 + timedelta(hours=2))
    db.session.commit()
    with time_machine.travel(T0 + timedelta(days=10), tick=False):
        assert process_due()["timer"] == 0
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "done"
    assert db.session.scalars(select(CaseTimer.outcome)).one() == "stale"


def test_a_timer_survives_a_redis_flush_and_a_run_that_died_before_commit(org, declared):
    process = declared(pickup_process())
    case = start(org, process)
    redis_conn().flushall()  # the alarm is gone; the row is the truth
    timer = db.session.scalars(select(CaseTimer)).one()
    moment = timer.due_at + timedelta(minutes=1)
    # A worker claimed the timer and was killed before committing: its transaction is lost.
    with time_machine.travel(moment, tick=False):
        from webapp.services import deadlines
        db.session.execute(db.update(CaseTimer).values(fired_at=moment))
        db.session.rollback()  # what the database does with a killed worker's transaction
        assert deadlines.process_due()["timer"] == 1  # the sweeper's next run
        assert deadlines.process_due()["timer"] == 0
    db.session.expire_all()
    assert db.session.get(Case, case.id).state == "call"
    moves = db.session.scalar(select(func.count()).select_from(AuditEvent)
                              .where(AuditEvent.action == "open_call"))
    assert moves == 1


# --- recurring cases --------------------------------------------------------------------------

def monthly_plan():
    return Process(
        name="t_plan", label="月计划", states={"open": "待制订", "set": "已制订"}, initial="open",
        start_roles=frozenset(),
        transitions=(Transition("set", "制订", ("open",), "set", frozenset({Role.STORE_MANAGER})),),
        tasks={"open": TaskSpec("plan", "制订计划", Role.STORE_MANAGER, due_setting="mailbox_check_due")},
        final=frozenset({"set"}),
        recurring=Recurring("monthly", per="store", day=20, title=lambda month: f"回访计划 {month}"))


def plan_cases():
    return db.session.execute(select(Case.store_id, Case.data, Case.dedupe_key)
                              .where(Case.process == "t_plan").order_by(Case.store_id)).all()


def test_one_case_per_store_per_month_from_the_20th_once_even_run_twice_or_late(org, declared):
    declared(monthly_plan())
    before = datetime(2026, 11, 19, 15, 59, tzinfo=timezone.utc)  # 19 Nov 23:59 local
    assert recurring.open_due(now=before).get("t_plan", 0) == 0
    assert plan_cases() == []
    opened_on_20th = datetime(2026, 11, 19, 16, 0, tzinfo=timezone.utc)  # 20 Nov 00:00 local
    assert recurring.open_due(now=opened_on_20th)["t_plan"] == 4
    assert recurring.open_due(now=opened_on_20th)["t_plan"] == 0  # run twice
    # The job was down from the 21st to the 27th: nothing is missing, nothing doubles.
    assert recurring.open_due(now=datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc))["t_plan"] == 0
    rows = plan_cases()
    assert [(r.store_id, r.data["period"]) for r in rows] == [(s.id, "2026-11") for s in org.stores]
    assert rows[0].dedupe_key == f"t_plan:2026-11:{org.stores[0].id}"
    tasks = db.session.scalars(select(Task).where(Task.name == "plan")).all()
    assert len(tasks) == 4 and {t.store_id for t in tasks} == {s.id for s in org.stores}
    # A store opened later in the month still gets its case the next run.
    db.session.add(Store(code="S5", name="5号店", area_id=org.areas[1].id))
    db.session.commit()
    assert recurring.open_due(now=datetime(2026, 11, 28, 3, 0, tzinfo=timezone.utc))["t_plan"] == 1
    # December's cases wait for 20 December.
    assert recurring.open_due(now=datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)).get("t_plan", 0) == 0


def test_monthly_day_is_clamped_in_february():
    rule = Recurring("monthly", per="store", day=30)
    feb_28 = datetime(2027, 2, 27, 16, 0, tzinfo=timezone.utc)  # 28 Feb 00:00 local
    assert recurring.occurrences(rule, feb_28 - timedelta(seconds=1)) == []
    [(key, opens, ends)] = recurring.occurrences(rule, feb_28)
    assert (key, opens, ends) == ("2027-02", feb_28, datetime(2027, 2, 28, 16, 0, tzinfo=timezone.utc))


def test_weekly_opens_on_its_weekday_for_the_monday_to_sunday_week():
    rule = Recurring("weekly", per="store", day=1)
    monday = datetime(2026, 11, 22, 16, 0, tzinfo=timezone.utc)  # Mon 23 Nov 00:00 local
    assert recurring.occurrences(rule, monday - timedelta(seconds=1))[0][0] == "2026-W47"
    [(key, opens, ends)] = recurring.occurrences(rule, monday)
    assert (key, opens, ends) == ("2026-W48", monday, monday + timedelta(days=7))
    # still open (a late job catches up) until Sunday ends; a Thursday rule waits for Thursday
    assert recurring.occurrences(rule, monday + timedelta(days=7) - timedelta(seconds=1))[0][0] == "2026-W48"
    thursday = Recurring("weekly", day=4)
    assert recurring.occurrences(thursday, monday + timedelta(days=2)) == []
    assert recurring.occurrences(thursday, monday + timedelta(days=3))[0][1] == monday + timedelta(days=3)
    # ISO weeks across the new year: Mon 28 Dec 2026 is in 2026-W53, Mon 4 Jan 2027 in 2027-W01
    assert recurring.occurrences(rule, datetime(2027, 1, 1, 4, tzinfo=timezone.utc))[0][0] == "2026-W53"
    assert recurring.occurrences(rule, datetime(2027, 1, 4, 4, tzinfo=timezone.utc))[0][0] == "2027-W01"


def test_a_weekly_rule_needs_an_iso_weekday():
    process = pickup_process(start_roles=frozenset(), recurring=Recurring("weekly", day=8))
    assert any("ISO weekday" in p for p in engine.check(process))


# --- many at once -----------------------------------------------------------------------------

def test_start_many_opens_cases_tasks_audits_and_timers_set_based_and_once(org, declared):
    process = declared(pickup_process())
    source = select(
        (literal("卡 ") + Store.code).label("title"), Store.id.label("store_id"),
        Store.area_id.label("area_id"), literal(None, Integer).label("member_id"),
        (literal("t_pickup:") + Store.code).label("dedupe_key"))
    with time_machine.travel(T0, tick=False):
        ids = engine.start_many(process, source, now=T0)
        db.session.commit()
        assert len(ids) == 4
        assert engine.start_many(process, source, now=T0 + timedelta(hours=1)) == []  # once
        db.session.commit()
    cases = db.session.scalars(select(Case).where(Case.process == "t_pickup")).all()
    assert sorted(c.title for c in cases) == ["卡 S1", "卡 S2", "卡 S3", "卡 S4"]
    assert {c.state for c in cases} == {"waiting"}
    assert db.session.scalar(select(func.count()).select_from(CaseTimer)) == 4
    starts = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "start")).all()
    assert sorted(e.case_id for e in starts) == sorted(ids) and {e.actor_id for e in starts} == {None}
    # Their timers fire like any other.
    with time_machine.travel(T0 + timedelta(days=5), tick=False):
        assert process_due()["timer"] == 4
    assert db.session.scalar(select(func.count()).select_from(Task).where(Task.name == "call")) == 4


def test_start_many_opens_the_first_task_with_its_deadline_and_assignee(org, declared):
    process = declared(pickup_process(
        name="t_call", initial="call", timers={},
        transitions=(Transition("finish", "完成", ("call",), "done", HQ),),
        states={"call": "待致电", "done": "完成"}))
    source = select(literal("致电").label("title"), Store.id.label("store_id"),
                    Store.area_id.label("area_id"), literal(None, Integer).label("member_id"),
                    literal("t_call:S1").label("dedupe_key"),
                    literal(org["hq"].id).label("assignee_id")).where(Store.code == "S1")
    with time_machine.travel(T0, tick=False):
        [case_id] = engine.start_many(process, source, now=T0)
        db.session.commit()
    task = db.session.scalars(select(Task).where(Task.case_id == case_id)).one()
    assert (task.role, task.assignee_id, task.status) == (Role.HQ_SPECIALIST, org["hq"].id, "open")
    assert task.due_at == datetime(2026, 11, 20, 16, 0, tzinfo=timezone.utc)  # end of that day



def test_start_many_reads_its_source_once_so_a_source_may_leave_out_started_rows(org, declared):
    """A source that leaves out the rows whose case exists still gives each case it opens its
    assignee's task and its own timer moment (the source's rows are read before the cases are
    written, not again after); a second batch in the same transaction gets its own rows."""
    process = declared(pickup_process(
        name="t_call", initial="call", states={"call": "待致电", "late": "逾期", "done": "完成"},
        transitions=(Transition("finish", "完成", ("call", "late"), "done", HQ),
                     Transition("mark_late", "逾期", ("call",), "late", frozenset(), system=True)),
        timers={"call": (Timer("mark_late", at=lambda c, n: n),)}))
    due, key = T0 + timedelta(days=3), literal("t_call:") + Store.code
    source = select(literal("致电").label("title"), Store.id.label("store_id"),
                    Store.area_id.label("area_id"), literal(None, Integer).label("member_id"),
                    key.label("dedupe_key"), literal(org["hq"].id).label("assignee_id"),
                    literal(due, engine.TZDateTime).label("timer_at")).where(
        ~select(Case.id).where(Case.dedupe_key == key).exists())
    with time_machine.travel(T0, tick=False):
        first = engine.start_many(process, source.where(Store.code.in_(["S1", "S2"])), now=T0)
        second = engine.start_many(process, source, now=T0)
        db.session.commit()
    assert (len(first), len(second)) == (2, 2)
    ids = sorted(first + second)
    tasks = db.session.scalars(select(Task).where(Task.case_id.in_(ids))).all()
    assert sorted((t.case_id, t.assignee_id) for t in tasks) == [(i, org["hq"].id) for i in ids]
    timers = db.session.scalars(select(CaseTimer).where(CaseTimer.case_id.in_(ids))).all()
    assert sorted((t.case_id, t.due_at) for t in timers) == [(i, due) for i in ids]

# --- cases started by data --------------------------------------------------------------------

def big_spender_process():
    """Starts for a member once their sales reach 1,000 yuan (like the formal-points threshold)."""
    from webapp.models import Member
    from webapp.models import Sale

    def reached(member_ids):
        total = func.sum(Sale.amount_fen)
        return (select((literal("大客户 ") + Member.card_no).label("title"),
                       Member.store_id.label("store_id"), Store.area_id.label("area_id"),
                       Member.id.label("member_id"),
                       (literal("t_big:") + Member.card_no).label("dedupe_key"))
                .join(Store, Store.id == Member.store_id).join(Sale, Sale.member_id == Member.id)
                .where(engine.ids_in(Member.id, member_ids))
                .group_by(Member.id, Member.card_no, Member.store_id, Store.area_id)
                .having(total >= 100_000))
    return Process(
        name="t_big", label="大客户", states={"new": "新", "done": "完成"}, initial="new",
        start_roles=frozenset(),
        transitions=(Transition("done", "完成", ("new",), "done", frozenset({Role.STORE_MANAGER})),),
        tasks={"new": TaskSpec("greet", "致电", Role.STORE_MANAGER, due_setting="mailbox_check_due")},
        final=frozenset({"done"}), started_by=engine.DataRule("sales_recorded", reached))


def big_cases():
    return db.session.scalars(select(Case.title).where(Case.process == "t_big")
                              .order_by(Case.title)).all()


def test_a_sale_that_crosses_the_line_starts_the_case_in_its_transaction_from_import_and_api(
        org, client, declared):
    from tests.sales.builders import bulk_members, sale
    from webapp.services import sales

    declared(big_spender_process())
    m1, m2 = bulk_members(org.stores[0], 2)
    with time_machine.travel(T0, tick=False):
        sales.record(rows=[sale("S1", "A1", "2026-11-19 15:00", "600.00", card=m1["card_no"]),
                           sale("S1", "A2", "2026-11-19 15:05", "999.99", card=m2["card_no"])],
                     actor=org["hq"], source="import")
    assert big_cases() == []  # 600 and 999.99: under the line
    with time_machine.travel(T0, tick=False):
        sales.record(rows=[sale("S1", "A3", "2026-11-19 16:00", "400.00", card=m1["card_no"])],
                     actor=org["hq"], source="import")
    assert big_cases() == [f"大客户 {m1['card_no']}"]
    # The till API: m2 crosses with one more cent; m1's second crossing starts nothing again.
    secret = sales.create_token(actor=org["admin"], store=org.stores[0], name="收银机")[1]
    with time_machine.travel(T0, tick=False):
        response = client.post("/api/v1/sales", headers={"Authorization": f"Bearer {secret}"},
                               json={"sales": [
                                   {"sale_no": "T1", "sold_at": "2026-11-19T17:00:00+08:00",
                                    "amount": "0.01", "items": 1, "member_card": m2["card_no"]},
                                   {"sale_no": "T2", "sold_at": "2026-11-19T17:01:00+08:00",
                                    "amount": "50.00", "items": 1, "member_card": m1["card_no"]}]})
    assert response.status_code == 200, response.get_json()
    assert big_cases() == sorted([f"大客户 {m1['card_no']}", f"大客户 {m2['card_no']}"])
    tasks = db.session.scalars(select(Task).where(Task.name == "greet")).all()
    assert len(tasks) == 2 and {t.role for t in tasks} == {Role.STORE_MANAGER}


def test_a_refused_batch_starts_nothing(org, declared):
    from tests.sales.builders import bulk_members, sale
    from webapp.services import sales

    declared(big_spender_process())
    (m1,) = bulk_members(org.stores[0], 1)
    with pytest.raises(sales.SaleError):
        sales.record(rows=[sale("S1", "B1", "2026-11-19 15:00", "2000.00", card=m1["card_no"]),
                           sale("S1", "B2", "not a time", "1.00")], actor=org["hq"])
    assert big_cases() == []


# --- issue #12: on_event hooks, Recurring.then, per-row timer moments in start_many -------------

def test_an_event_hook_acts_on_open_cases_in_the_sales_transaction(org, declared):
    from tests.sales.builders import bulk_members, sale
    from webapp.services import sales

    seen = []
    declared(pickup_process(on_event=(("sales_recorded", lambda *, now, member_ids: seen.append(
        (now, member_ids))),)))
    (m,) = bulk_members(org.stores[0], 1)
    with time_machine.travel(T0, tick=False):
        sales.record(rows=[sale("S1", "H1", "2026-11-19 15:00", "10.00", card=m["card_no"])],
                     actor=org["hq"], source="import")
    assert seen == [(T0, [m["id"]])]
    with pytest.raises(engine.DeclarationError, match="on_event hook"):
        engine.register(pickup_process(name="t_broken", on_event=(("sales_recorded", "x"),)))


def test_a_recurring_case_runs_its_then_once_per_period(org, declared):
    runs = []
    declared(pickup_process(start_roles=frozenset(), recurring=Recurring(
        "monthly", day=1, then=lambda ids, now: runs.append(len(ids)))))
    for when in (datetime(2026, 12, 1, 1, tzinfo=timezone.utc), datetime(2026, 12, 2, 1, tzinfo=timezone.utc)):
        with time_machine.travel(when, tick=False):
            recurring.open_due(now=when)
    assert runs == [1]


def test_start_many_arms_computed_timers_from_the_source_rows(org, declared):
    process = declared(pickup_process(timers={"waiting": (Timer("open_call", at=lambda c, n: n),)}))
    due = T0 + timedelta(days=3)
    source = select(
        (literal("卡 ") + Store.code).label("title"), Store.id.label("store_id"),
        Store.area_id.label("area_id"), literal(None, Integer).label("member_id"),
        (literal("t_pickup:") + Store.code).label("dedupe_key"),
        literal(due, engine.TZDateTime).label("timer_at"))
    with time_machine.travel(T0, tick=False):
        engine.start_many(process, source, now=T0)
        db.session.commit()
    assert {t.due_at for t in db.session.scalars(select(CaseTimer))} == {due}
    with time_machine.travel(due - timedelta(minutes=1), tick=False):
        assert process_due()["timer"] == 0
    with time_machine.travel(due, tick=False):
        assert process_due()["timer"] == 4
    with pytest.raises(engine.DeclarationError, match="timer_at"):
        engine.start_many(process, select(*source.selected_columns[:5]), now=T0)
