"""The generic workflow engine: processes are declared as data; `start` and `fire` apply them.

A transition is, in one database transaction: a permission check, a state and version check
(a conditional UPDATE, so of two simultaneous clicks exactly one wins), an audit event,
the state's open tasks closed and the next state's task opened with its deadline. Nothing
here commits; the calling service does, and Redis is touched only after that commit
(see services/deadlines.py).

Besides people, the system is an actor (`actor=None`, shown as 系统): it may fire a transition
declared with `system=True`, by a timer of the state (`timers=`), and it opens cases by a
calendar rule (`recurring=`, services/recurring.py) or many at once (`start_many`).
A declaration is checked when it is registered: an inconsistent one fails at import.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import (ARRAY, JSON, Integer, String, any_, cast, false, func, insert, literal,
                        select, text, true, update)
from sqlalchemy.schema import CreateTableAs

from .. import clock, permissions, staff_alerts
from ..alarms import schedule_after_commit
from ..extensions import db
from ..calendar import to_local
from ..i18n_labels import N_, Label, Refusal
from ..models.base import insert_ignoring_duplicates
from ..models import STORE_ROLES, AuditEvent, Case, CaseTimer, Role, StandIn, Task, TZDateTime, User

Guard = Callable[[Case, dict], "str | None"]  # an N_-marked refusal message, or None to allow
Effect = Callable[[Case, User, dict, datetime], None]
Assignee = Callable[[Case], "int | None"]


class WorkflowError(Refusal):
    """A transition was refused; str() is the message in the user's language."""


class NotAllowed(WorkflowError):
    pass


class Conflict(WorkflowError):
    """Somebody else moved the case first."""


@dataclass(frozen=True)
class TaskSpec:
    """What entering a state asks of whom, by when, and what the deadline does."""

    name: str
    label: str
    role: Role
    due_setting: str | None = None  # settings key holding the due rule, e.g. "eod:1"
    remind_setting: str | None = None  # settings key: hours before the due time
    escalate_to: Role | None = None
    assignee: Assignee | None = None
    # Alternative to due_setting when the limit runs from a moment on the record (e.g. receipt).
    due: Callable[[Case, datetime], datetime] | None = None
    escalate_also: Role | None = None
    co_role: Role | None = None  # handles the task with `role` from the start (Task.co_role)
    script: str | None = None  # the call script shown with the task (outbox.SCRIPTS key)
    # settings key (bool): a dated deadline whose day is not a working day moves to the
    # previous working day when it is on (calendar.before_holiday); as is when off.
    holiday_setting: str | None = None


@dataclass(frozen=True)
class Transition:
    name: str
    label: str
    source: tuple[str, ...]
    target: str
    roles: frozenset[Role]
    comment_required: bool = False
    guard: Guard | None = None
    effect: Effect | None = None
    style: str = "primary"  # how the button looks: primary, danger, plain
    asks: bool = False  # the step needs a form (text, a time…): no one-click button in inboxes
    system: bool = False  # the system may fire it (a timer, a data rule, a scheduled job)


@dataclass(frozen=True)
class Timer:
    """On entering its state, the system fires `transition` at a moment: a due rule kept in a
    setting (`due_setting`, e.g. "eod:5") or computed (`at(case, now)`). It does nothing when
    the case has moved on by then; firing it twice or late moves the case once."""

    transition: str
    due_setting: str | None = None
    at: Callable[[Case, datetime], datetime] | None = None


@dataclass(frozen=True)
class Recurring:
    """The system opens one case per period (and per store or area, or one for the company).

    cadence "daily": opens at the start of each local day, for that day;
    "weekly": opens on ISO weekday `day` (1 = Monday) of each Monday-to-Sunday local week;
    "monthly": opens on local day `day` of each month (clamped to the month's end);
    "yearly": opens on `month`/`day` each year. An occurrence can be opened until its period
    ends, so a job that runs late, twice or after an outage opens each exactly once.
    `title(period_key)` names the case; the period key ("2026-11-29", "2026-W48", "2026-11",
    "2026") is
    in the case's data as "period" and in its dedupe key."""

    cadence: str  # daily | weekly | monthly | yearly
    per: str = "company"  # company | area | store
    day: int = 1
    month: int = 1
    title: Callable[[str], str] = str
    # after the period's cases opened (their ids), in the same transaction: e.g. build a list
    then: Callable[[list[int], datetime], None] | None = None


@dataclass(frozen=True)
class DataRule:
    """The process starts when data crosses a line: on `event` (e.g. "sales_recorded", emitted by
    the service that wrote the data, in its transaction), `source(**values)` gives the rows to
    start (a SELECT as `start_many` takes it, with dedupe keys so that a case starts once)."""

    event: str
    source: Callable[..., object]
    then: Callable[[list[int], datetime], None] | None = None  # after the cases started (their ids)


@dataclass(frozen=True)
class Process:
    name: str
    label: str
    states: dict[str, str]  # state -> Chinese label
    initial: str
    start_roles: frozenset[Role]
    transitions: tuple[Transition, ...]
    tasks: dict[str, TaskSpec] = field(default_factory=dict)
    final: frozenset[str] = frozenset()
    timers: dict[str, tuple[Timer, ...]] = field(default_factory=dict)
    recurring: Recurring | None = None
    started_by: DataRule | None = None
    # (event, hook): `emit(event, now=, **values)` calls hook(now=now, **values) in the same
    # transaction, for what a process does to its open cases when data changes (set-based)
    on_event: tuple[tuple[str, Callable[..., None]], ...] = ()

    def transition(self, name: str, state: str | None = None) -> Transition:
        """The transition called `name` leaving `state` (a name may leave several states,
        with different roles from each)."""
        named = [t for t in self.transitions if t.name == name]
        if not named:
            raise WorkflowError(N_("未知的操作:%(name)s"), name=name)
        return next((t for t in named if state in t.source), named[0])

    def label_of(self, name: str, state: str | None = None) -> str:
        """The label of a step in a case's timeline; a case that changed process (a store
        complaint HQ took over) keeps steps of its first process, found there."""
        if any(t.name == name for t in self.transitions):
            return self.transition(name, state).label
        for other in REGISTRY.values():
            if any(t.name == name for t in other.transitions):
                return other.transition(name, state).label
        return name

    def available(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]


REGISTRY: dict[str, Process] = {}


class DeclarationError(Exception):
    """A process declaration is inconsistent (raised at import, never at run time)."""


def register(process: Process) -> Process:
    """Check a declared process and make it known to the engine (called at import of its module)."""
    problems = check(process)
    if problems:
        raise DeclarationError(f"process {process.name!r}: " + "; ".join(problems))
    REGISTRY[process.name] = process
    return process


def check(process: Process) -> list[str]:
    """What is wrong with a declaration (empty when it is consistent)."""
    states, problems = set(process.states), []
    if process.initial not in states:
        problems.append(f"initial state {process.initial!r} is not declared")
    problems += [f"final state {s!r} is not declared" for s in process.final - states]
    for t in process.transitions:
        problems += [f"transition {t.name!r} leaves unknown state {s!r}" for s in t.source
                     if s not in states]
        if t.target not in states:
            problems.append(f"transition {t.name!r} goes to unknown state {t.target!r}")
        if not t.roles and not t.system:
            problems.append(f"transition {t.name!r} has no role and is not a system transition")
        problems += [f"transition {t.name!r}: {kind} is not callable"
                     for kind, hook in (("guard", t.guard), ("effect", t.effect))
                     if hook is not None and not callable(hook)]
    for state, spec in process.tasks.items():
        if state not in states:
            problems.append(f"task {spec.name!r} belongs to unknown state {state!r}")
        if (spec.due_setting is None) == (spec.due is None):
            problems.append(f"task {spec.name!r} needs exactly one due rule (due_setting or due)")
    for state, timers in process.timers.items():
        if state not in states:
            problems.append(f"timer of unknown state {state!r}")
        for timer in timers:
            leaving = [t for t in process.transitions if t.name == timer.transition
                       and state in t.source]
            if not leaving or not all(t.system for t in leaving):
                problems.append(f"timer of {state!r} fires {timer.transition!r}, which is not a "
                                f"system transition leaving that state")
            if (timer.due_setting is None) == (timer.at is None):
                problems.append(f"timer {timer.transition!r} needs exactly one due rule")
    reachable, frontier = {process.initial}, [process.initial]
    while frontier:
        here = frontier.pop()
        for t in process.transitions:
            if here in t.source and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)
    problems += [f"state {s!r} cannot be reached" for s in sorted(states - reachable)]
    if process.started_by and not callable(process.started_by.source):
        problems.append("the data rule's source is not callable")
    problems += [f"on_event hook for {event!r} is not callable" for event, hook in process.on_event
                 if not callable(hook)]
    rule = process.recurring
    if rule and rule.cadence not in ("daily", "weekly", "monthly", "yearly"):
        problems.append(f"unknown cadence {rule.cadence!r}")
    if rule and rule.cadence == "weekly" and not 1 <= rule.day <= 7:
        problems.append(f"weekly day {rule.day} is not an ISO weekday (1 = Monday … 7 = Sunday)")
    return problems


def get_process(name: str) -> Process:
    return REGISTRY[name]


def state_label(state: str, process: str) -> str:
    """The Chinese label of a state of a declared process (translate it with _ in templates)."""
    return get_process(process).states.get(state, state)


def allowed_transitions(user: User, case: Case) -> list[Transition]:
    """The buttons this user may press on this case now (`case`: a Case, or anything with its
    process, state, store_id and area_id, such as an inbox row)."""
    process = get_process(case.process)
    return [t for t in process.available(case.state) if permissions.can_fire(user, t, case)]


def start(process: Process, actor: User | None, *, title: str, store_id: int | None, area_id: int | None,
          member_id: int | None = None, data: dict | None = None, now: datetime | None = None,
          attach: Callable[[Case], None] | None = None, dedupe_key: str | None = None) -> Case:
    """Create a case in the process's initial state and open its first task.

    `attach` links the process's own record (e.g. the complaint) to the new case before the
    first task is opened, so that task's due time can be read from it."""
    now = now or clock.now()
    if actor is not None:  # None: the system opens a scheduled case
        if not actor.active or actor.role not in process.start_roles:
            raise NotAllowed(N_("您没有权限发起此流程"))
        if not permissions.in_scope(actor, store_id, area_id):
            raise NotAllowed(N_("该门店不在您的权限范围内"))
    case = Case(process=process.name, state=process.initial, version=1, title=title,
                store_id=store_id, area_id=area_id, member_id=member_id, dedupe_key=dedupe_key,
                created_by_id=actor.id if actor else None, created_at=now, updated_at=now,
                data=data or {})
    db.session.add(case)
    db.session.flush()
    if attach:
        attach(case)
    _audit(case, actor, "start", None, process.initial, "", data or {}, now)
    _open_task(process, case, now)
    _set_timers(process, case, now)
    return case


def fire(case: Case, name: str, actor: User | None, *, version: int, comment: str = "",
         data: dict | None = None, now: datetime | None = None) -> Case:
    """Apply transition `name` to `case` if `actor` may and nobody moved it since `version`.

    `actor=None` is the system: allowed only where the transition declares `system=True`."""
    now = now or clock.now()
    process = get_process(case.process)
    transition = process.transition(name, case.state)
    data = data or {}
    allowed = transition.system if actor is None else permissions.can_fire(actor, transition, case)
    if not allowed:
        raise NotAllowed(N_("您没有权限执行此操作"))
    if case.version != version or case.state not in transition.source:
        raise conflict(case)
    if transition.comment_required and not comment.strip():
        raise WorkflowError(N_("请填写意见说明"))
    refusal = transition.guard(case, data) if transition.guard else None
    if refusal:
        raise WorkflowError(refusal)
    moved = db.session.execute(
        update(Case).where(Case.id == case.id, Case.version == version)
        .values(state=transition.target, version=version + 1, updated_at=now,
                closed_at=now if transition.target in process.final else None)
        .execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        db.session.refresh(case)
        raise conflict(case)
    from_state = case.state
    db.session.refresh(case)
    _audit(case, actor, name, from_state, transition.target, comment, data, now,
           on_behalf_of=_stood_in_for(case, actor, now))
    _close_tasks(case, actor, now)
    if transition.effect:
        transition.effect(case, actor, data, now)
    # an effect may hand the case to another process (a store complaint HQ takes over)
    process = get_process(case.process)
    _open_task(process, case, now)
    _set_timers(process, case, now)
    return case


def _stood_in_for(case: Case, actor: User | None, now: datetime) -> int | None:
    """The away colleague whose task `actor` is doing as their stand-in, if any."""
    if actor is None:
        return None
    assignees = db.session.scalars(select(Task.assignee_id).where(
        Task.case_id == case.id, Task.status == "open", Task.assignee_id.is_not(None),
        Task.assignee_id != actor.id)).all()
    if not assignees:
        return None
    return db.session.scalar(select(StandIn.user_id).where(
        StandIn.user_id.in_(assignees), StandIn.stand_in_id == actor.id,
        StandIn.cancelled_at.is_(None), StandIn.starts_at <= now, StandIn.ends_at > now).limit(1))


def conflict(case: Case) -> Conflict:
    """'Already handled by X at T' — what the slower of two clickers reads."""
    last = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                              .order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is None:
        return Conflict(N_("该事项状态已变化,请刷新后重试"))
    who = last.actor.display_name if last.actor else Label(N_("系统"))
    return Conflict(N_("该事项已由%(who)s于%(at)s处理,当前状态:%(state)s"), who=who,
                    at=to_local(last.at).strftime("%Y-%m-%d %H:%M"), state=Label(get_process(case.process).states[case.state]))


def _audit(case, actor, action, from_state, to_state, comment, data, now, *,
           on_behalf_of: int | None = None) -> None:
    db.session.add(AuditEvent(case_id=case.id, object_type="case", object_id=case.id,
                              actor_id=actor.id if actor else None, on_behalf_of_id=on_behalf_of,
                              at=now, action=action, from_state=from_state, to_state=to_state,
                              comment=comment or "", data=data))


def _close_tasks(case: Case, actor: User | None, now: datetime) -> None:
    db.session.execute(update(Task).where(Task.case_id == case.id, Task.status == "open")
                       .values(status="done", closed_at=now, closed_by_id=actor.id if actor else None)
                       .execution_options(synchronize_session=False))


def _timer_due(timer: Timer, case: Case | None, now: datetime) -> datetime:
    from .. import settings
    from ..calendar import parse_rule

    if timer.at:
        return timer.at(case, now)
    return parse_rule(settings.get(timer.due_setting)).due(now, settings.calendar_policy())


def _set_timers(process: Process, case: Case, now: datetime) -> None:
    """Arm the timers of the state the case has just entered (the alarm after commit)."""
    for timer in process.timers.get(case.state, ()):
        due_at = _timer_due(timer, case, now)
        db.session.add(CaseTimer(case_id=case.id, state=case.state, transition=timer.transition,
                                 case_version=case.version, due_at=due_at))
        schedule_after_commit(due_at)


def _task_times(spec: TaskSpec, case: Case | None, now: datetime):
    """(due_at, remind_at, calendar gap) of a task opened now; the gap names the years whose
    holidays the working-day count did not know (the inbox marks such deadlines)."""
    from .. import settings
    from ..calendar import before_holiday, parse_rule, uncovered_years

    gap: tuple[int, ...] = ()
    if spec.due:
        due_at = spec.due(case, now)
    else:
        rule, policy = parse_rule(settings.get(spec.due_setting)), settings.calendar_policy()
        due_at = rule.due(now, policy)
        if spec.holiday_setting and settings.get_bool(spec.holiday_setting):
            due_at = before_holiday(rule, due_at, policy, now)
        gap = uncovered_years(rule, now, policy)
    remind_at = None
    if spec.remind_setting:
        remind_at = max(now, due_at - timedelta(hours=settings.get_int(spec.remind_setting)))
    return due_at, remind_at, ",".join(map(str, gap)) or None


def _open_task(process: Process, case: Case, now: datetime) -> Task | None:
    spec = process.tasks.get(case.state)
    if spec is None:
        return None
    due_at, remind_at, gap = _task_times(spec, case, now)
    task = Task(case_id=case.id, name=spec.name, role=spec.role, store_id=case.store_id,
                area_id=case.area_id, assignee_id=spec.assignee(case) if spec.assignee else None,
                due_at=due_at, remind_at=remind_at, escalate_to=spec.escalate_to,
                escalate_also=spec.escalate_also, co_role=spec.co_role, created_at=now,
                calendar_gap=gap)
    db.session.add(task)
    schedule_after_commit(remind_at, due_at)
    # an urgent one: its group hears of it
    staff_alerts.task_opened(task, case, spec.label, process.label, now)
    return task


def task_label(task) -> str:
    """The Chinese label of a task (a Task, or an inbox row), from its process declaration."""
    process = get_process(task.process if hasattr(task, "process") else task.case.process)
    return next((s.label for s in process.tasks.values() if s.name == task.name), task.name)



def start_many(process: Process, source, *, now: datetime | None = None,
               data: dict | None = None) -> list[int]:
    """Open a case (system actor) for every row of `source`, set-based; returns the new ids.

    `source` is a SELECT with labelled columns title, store_id, area_id, member_id and
    optionally dedupe_key, assignee_id and timer_at (the due time of the initial state's
    timers declared with `at=`, computed by the source for each row). A row whose dedupe key already names a case is
    skipped (ON CONFLICT DO NOTHING), so starting the same set twice opens nothing twice.
    Cases, their first tasks, start audits and timers are written by INSERT … SELECT
    statements, so 100,000 cases cost a handful of statements (bench/bench_start_many.py);
    each store group hears of its new tasks in one summary (staff_alerts.tasks_opened_in_bulk).
    The source is read once, before the cases are written (PostgreSQL: a CTE; SQLite: a TEMP
    table when the tasks or timers need its rows), so it may leave out rows already started.
    A task's due callable (TaskSpec.due) is not available here: a process started in bulk
    declares its task's due rule as a setting, and its timers' moments as a setting or, for
    `Timer(at=)`, as the source's timer_at column.
    """
    now = now or clock.now()
    cols = source.selected_columns
    if any(t.at for t in process.timers.get(process.initial, ())) and "timer_at" not in cols:
        raise DeclarationError(f"{process.name}: a timer started in bulk needs a due setting "
                               "or the source's timer_at")
    if ("assignee_id" in cols or "timer_at" in cols) and "dedupe_key" not in cols:
        raise DeclarationError("start_many: a source with assignee_id or timer_at needs dedupe_key too")
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: the source is read once and the new cases never leave the server
        # (data-modifying CTEs feed the audits, tasks and timers from the INSERT's RETURNING).
        rows = source.cte("rows")
        new_cases = _insert_cases(process, rows, cols, now, data).returning(*_NEW_CASE).cte("new_cases")
        statement = select(new_cases.c.id)
        for follow_up in _follow_ups(process, new_cases, rows, cols, now):
            statement = statement.add_cte(follow_up.cte())
        return db.session.execute(statement).scalars().all()
    joined = "assignee_id" in cols or "timer_at" in cols  # follow-ups join rows by dedupe key
    rows = _rows_read_once(source) if joined else source.subquery("rows")
    ids = db.session.execute(_insert_cases(process, rows, cols, now, data)
                             .returning(Case.__table__.c.id)).scalars().all()
    if ids:
        new_cases = select(*_NEW_CASE).where(ids_in(Case.__table__.c.id, ids)).subquery("new_cases")
        for follow_up in _follow_ups(process, new_cases, rows, cols, now):
            db.session.execute(follow_up)
    if joined:
        db.session.execute(text(f"DROP TABLE temp.{_ROWS}"))
    return ids


_ROWS = "start_many_rows"


def _rows_read_once(source):
    """SQLite: the source's rows, read once into a TEMP table indexed by dedupe key (dropped
    by start_many, or by the next call after a rollback). As a subquery, SQLite inlined the
    source into each follow-up's join and ran it again for every new case (2,000 cases 0.9 s,
    20,000 82 s); now every statement reads the same rows, as the CTE does on PostgreSQL.
    The table is created empty (its column types the source's), then filled by an INSERT: pysqlite
    runs DDL outside the transaction, the INSERT inside, so a rollback takes the rows with it."""
    db.session.execute(text(f"DROP TABLE IF EXISTS temp.{_ROWS}"))
    rows = source.subquery("rows")
    created = CreateTableAs(select(rows).where(false()), _ROWS, temporary=True)
    db.session.execute(created)
    db.session.execute(text(f"CREATE INDEX temp.{_ROWS}_key ON {_ROWS} (dedupe_key)"))
    db.session.execute(insert(created.table).from_select(list(rows.c.keys()), source))
    return created.table


_NEW_CASE = tuple(Case.__table__.c[name] for name in (
    "id", "state", "version", "store_id", "area_id", "member_id", "dedupe_key"))


def _insert_cases(process: Process, rows, cols, now: datetime, data: dict | None = None):
    dedupe = rows.c.dedupe_key if "dedupe_key" in cols else literal(None, String)
    case_rows = select(literal(process.name), literal(process.initial), literal(1),
                       func.substr(rows.c.title, 1, 200), rows.c.store_id, rows.c.area_id,
                       rows.c.member_id, literal(now, TZDateTime), literal(now, TZDateTime),
                       literal(data or {}, JSON), dedupe).where(true())  # SQLite: INSERT … SELECT … WHERE before ON CONFLICT
    return insert_ignoring_duplicates(Case.__table__).from_select(
        ["process", "state", "version", "title", "store_id", "area_id", "member_id",
         "created_at", "updated_at", "data", "dedupe_key"], case_rows)


def _follow_ups(process: Process, cases, rows, cols, now: datetime) -> list:
    """The INSERT … SELECTs giving the new `cases` their start audit, first task and timers."""
    return [_insert_start_audits(cases, now),
            *_insert_first_tasks(process, cases, rows, "assignee_id" in cols, now),
            *_insert_timers(process, cases, rows, "timer_at" in cols, now)]


def emit(event: str, *, now: datetime | None = None, **values) -> dict[str, int]:
    """Data changed (in the caller's transaction): start the cases that processes declare for
    `event`, set-based; returns how many each process started. Nothing commits here."""
    started = {}
    for process in REGISTRY.values():
        rule = process.started_by
        if rule is not None and rule.event == event:
            ids = start_many(process, rule.source(**values), now=now)
            if ids and rule.then:
                rule.then(ids, now or clock.now())
            started[process.name] = len(ids)
    for process in list(REGISTRY.values()):
        for name, hook in process.on_event:
            if name == event:
                hook(now=now or clock.now(), **values)
    return started


def ids_in(column, ids: list[int]):
    """`column IN ids` as one bound value: an array on PostgreSQL, a JSON list on SQLite."""
    return values_in(column, ids, Integer)


def values_in(column, values: list, type_=String):
    """`column IN values` as one bound value, however many (a 500-item IN list costs more to
    send and plan than the lookup itself): an array on PostgreSQL, a JSON list on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(cast(literal(list(values), ARRAY(type_)), ARRAY(type_)))
    each = func.json_each(literal(json.dumps(list(values)))).table_valued("value")
    return column.in_(select(each.c.value))


def _insert_start_audits(cases, now: datetime):
    return insert(AuditEvent.__table__).from_select(
        ["case_id", "object_type", "object_id", "at", "action", "to_state", "comment", "data"],
        select(cases.c.id, literal("case"), cases.c.id, literal(now, TZDateTime), literal("start"),
               cases.c.state, literal(""), literal({}, JSON)))


def _insert_first_tasks(process: Process, cases, rows, with_assignee: bool, now: datetime) -> list:
    """The new cases' first tasks, and their summary to each store's group (staff_alerts)."""
    spec = process.tasks.get(process.initial)
    if spec is None:
        return []
    if spec.due is not None:
        raise DeclarationError(f"{process.name}: a task started in bulk needs a due setting")
    due_at, remind_at, gap = _task_times(spec, None, now)
    assignee = rows.c.assignee_id if with_assignee else literal(None, Integer)
    task_rows = select(cases.c.id, literal(spec.name), literal(spec.role.name), cases.c.store_id,
                       cases.c.area_id, assignee, literal("open"),
                       literal(due_at, TZDateTime), literal(remind_at, TZDateTime),
                       literal(spec.escalate_to.name if spec.escalate_to else None, String),
                       literal(spec.escalate_also.name if spec.escalate_also else None, String),
                       literal(spec.co_role.name if spec.co_role else None, String),
                       literal(now, TZDateTime), literal(gap, String))
    if with_assignee:  # the source row's assignee, matched by the case's dedupe key (equality)
        task_rows = task_rows.select_from(cases).join(rows, rows.c.dedupe_key == cases.c.dedupe_key)
    schedule_after_commit(remind_at, due_at)
    # the store's group hears of the store's own work; HQ's tasks (making cards) are not theirs
    summary = (staff_alerts.tasks_opened_in_bulk(process.name, spec.label, cases, due_at, now)
               if spec.role in STORE_ROLES else None)
    return [insert(Task.__table__).from_select(
        ["case_id", "name", "role", "store_id", "area_id", "assignee_id", "status", "due_at",
         "remind_at", "escalate_to", "escalate_also", "co_role", "created_at", "calendar_gap"],
        task_rows), *([summary] if summary is not None else [])]


def _insert_timers(process: Process, cases, rows, with_at: bool, now: datetime) -> list:
    inserts = []
    for timer in process.timers.get(process.initial, ()):
        per_row = timer.at is not None and with_at  # each row's own moment (source's timer_at)
        due_at = None if per_row else _timer_due(timer, None, now)
        query = select(cases.c.id, cases.c.state, literal(timer.transition), cases.c.version,
                       rows.c.timer_at if per_row else literal(due_at, TZDateTime))
        if per_row:
            query = query.select_from(cases).join(rows, rows.c.dedupe_key == cases.c.dedupe_key)
        inserts.append(insert(CaseTimer.__table__).from_select(
            ["case_id", "state", "transition", "case_version", "due_at"], query))
        if due_at is not None:  # per-row moments: the every-minute sweeper rings them
            schedule_after_commit(due_at)
    return inserts
