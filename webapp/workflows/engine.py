"""The generic workflow engine: processes are declared as data; `start` and `fire` apply them.

A transition is, in one database transaction: a permission check, a state and version check
(a conditional UPDATE, so of two simultaneous clicks exactly one wins), an audit event,
the state's open tasks closed and the next state's task opened with its deadline. Nothing
here commits; the calling service does, and Redis is touched only after that commit
(see services/deadlines.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select, update

from .. import clock, permissions
from ..extensions import db
from ..i18n_labels import N_, Label, Refusal
from ..models import AuditEvent, Case, Role, Task, User

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

    def transition(self, name: str, state: str | None = None) -> Transition:
        """The transition called `name` leaving `state` (a name may leave several states,
        with different roles from each)."""
        named = [t for t in self.transitions if t.name == name]
        if not named:
            raise WorkflowError(N_("未知的操作:%(name)s"), name=name)
        return next((t for t in named if state in t.source), named[0])

    def available(self, state: str) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]


REGISTRY: dict[str, Process] = {}


def register(process: Process) -> Process:
    """Make a declared process known to the engine (called at import of its module)."""
    REGISTRY[process.name] = process
    return process


def get_process(name: str) -> Process:
    return REGISTRY[name]


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
    return case


def fire(case: Case, name: str, actor: User, *, version: int, comment: str = "",
         data: dict | None = None, now: datetime | None = None) -> Case:
    """Apply transition `name` to `case` if `actor` may and nobody moved it since `version`."""
    now = now or clock.now()
    process = get_process(case.process)
    transition = process.transition(name, case.state)
    data = data or {}
    if not permissions.can_fire(actor, transition, case):
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
    _audit(case, actor, name, from_state, transition.target, comment, data, now)
    _close_tasks(case, actor, now)
    if transition.effect:
        transition.effect(case, actor, data, now)
    # an effect may hand the case to another process (a store complaint HQ takes over)
    _open_task(get_process(case.process), case, now)
    return case


def conflict(case: Case) -> Conflict:
    """'Already handled by X at T' — what the slower of two clickers reads."""
    from ..formatting import local_time

    last = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                              .order_by(AuditEvent.id.desc()).limit(1)).first()
    if last is None:
        return Conflict(N_("该事项状态已变化,请刷新后重试"))
    who = last.actor.display_name if last.actor else Label(N_("系统"))
    return Conflict(N_("该事项已由%(who)s于%(at)s处理,当前状态:%(state)s"), who=who,
                    at=local_time(last.at), state=Label(get_process(case.process).states[case.state]))


def _audit(case, actor, action, from_state, to_state, comment, data, now) -> None:
    db.session.add(AuditEvent(case_id=case.id, object_type="case", object_id=case.id,
                              actor_id=actor.id if actor else None, at=now, action=action,
                              from_state=from_state, to_state=to_state, comment=comment or "",
                              data=data))


def _close_tasks(case: Case, actor: User, now: datetime) -> None:
    db.session.execute(update(Task).where(Task.case_id == case.id, Task.status == "open")
                       .values(status="done", closed_at=now, closed_by_id=actor.id)
                       .execution_options(synchronize_session=False))


def _open_task(process: Process, case: Case, now: datetime) -> Task | None:
    spec = process.tasks.get(case.state)
    if spec is None:
        return None
    from .. import settings
    from ..calendar import parse_rule

    if spec.due:
        due_at = spec.due(case, now)
    else:
        due_at = parse_rule(settings.get(spec.due_setting)).due(now, settings.calendar_policy())
    remind_at = None
    if spec.remind_setting:
        remind_at = max(now, due_at - timedelta(hours=settings.get_int(spec.remind_setting)))
    task = Task(case_id=case.id, name=spec.name, role=spec.role, store_id=case.store_id,
                area_id=case.area_id, assignee_id=spec.assignee(case) if spec.assignee else None,
                due_at=due_at, remind_at=remind_at, escalate_to=spec.escalate_to,
                escalate_also=spec.escalate_also, co_role=spec.co_role, created_at=now)
    db.session.add(task)
    from ..services.deadlines import schedule_after_commit

    schedule_after_commit(remind_at, due_at)
    return task


def task_label(task) -> str:
    """The Chinese label of a task (a Task, or an inbox row), from its process declaration."""
    process = get_process(task.process if hasattr(task, "process") else task.case.process)
    return next((s.label for s in process.tasks.values() if s.name == task.name), task.name)
