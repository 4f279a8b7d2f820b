"""The engine on the registration declaration: permissions, states, versions, audit, tasks."""
import pytest
from sqlalchemy import select

from tests.factories import register
from webapp.extensions import db
from webapp.models import AuditEvent, Role, Task
from webapp.workflows import engine
from webapp.workflows.registration import registration


def open_tasks(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).all()


def test_start_opens_hq_review_task_with_deadline(org):
    case = register(org)
    [task] = open_tasks(case)
    assert (case.state, task.name, task.role) == ("review", "review", Role.HQ_SPECIALIST)
    assert task.escalate_to == Role.HQ_MANAGER
    assert task.remind_at < task.due_at


@pytest.mark.parametrize("username,transition,allowed", [
    ("hq", "approve", True), ("hq_manager", "approve", True), ("assoc1", "approve", False),
    ("manager1", "approve", False), ("supervisor1", "approve", False), ("admin", "approve", False),
    ("hq", "send_back", True), ("assoc1", "send_back", False),
])
def test_who_may_fire_from_review(org, username, transition, allowed):
    case = register(org)
    if allowed:
        engine.fire(case, transition, org[username], version=case.version, comment="缺地址")
        assert case.state != "review"
    else:
        with pytest.raises(engine.NotAllowed):
            engine.fire(case, transition, org[username], version=case.version, comment="x")
        assert case.state == "review"


def test_resubmit_only_by_the_store_of_the_member(org):
    case = register(org)
    engine.fire(case, "send_back", org["hq"], version=case.version, comment="缺少单位地址")
    with pytest.raises(engine.NotAllowed):
        engine.fire(case, "resubmit", org["assoc3"], version=case.version)
    engine.fire(case, "resubmit", org["assoc1b"], version=case.version)
    assert case.state == "review"


def test_send_back_needs_a_comment(org):
    case = register(org)
    with pytest.raises(engine.WorkflowError, match="意见"):
        engine.fire(case, "send_back", org["hq"], version=case.version, comment="  ")
    assert case.state == "review"


def test_stale_version_is_refused_with_who_and_when(org):
    case = register(org)
    old = case.version
    engine.fire(case, "approve", org["hq"], version=old)
    db.session.commit()
    with pytest.raises(engine.Conflict) as err:
        engine.fire(case, "approve", org["hq_manager"], version=old)
    assert "hq名" in str(err.value) and "已由" in str(err.value)


def test_transition_writes_audit_and_moves_tasks(org):
    case = register(org)
    engine.fire(case, "send_back", org["hq"], version=case.version, comment="缺少地址")
    db.session.commit()
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id)
                                .order_by(AuditEvent.id)).all()
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("start", None, "review"), ("send_back", "review", "returned")]
    assert events[1].comment == "缺少地址" and events[1].actor_id == org["hq"].id
    [task] = open_tasks(case)
    assert (task.name, task.role, task.assignee_id) == ("complete", Role.ASSOCIATE, org["assoc1"].id)
    closed = db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "done")).all()
    assert [t.closed_by_id for t in closed] == [org["hq"].id]


def test_unknown_transition_and_wrong_state(org):
    case = register(org)
    with pytest.raises(engine.WorkflowError):
        engine.fire(case, "teleport", org["hq"], version=case.version)
    with pytest.raises(engine.Conflict):
        engine.fire(case, "resubmit", org["assoc1"], version=case.version)


def test_declaration_is_consistent():
    states = set(registration.states)
    assert registration.initial in states
    for t in registration.transitions:
        assert set(t.source) <= states and t.target in states
    assert set(registration.tasks) <= states and registration.final <= states


def test_diagram_is_drawn_from_the_declaration():
    from webapp.workflows.diagram import process_svg, to_dot

    dot = to_dot(registration)
    assert "待总部审核" in dot and "退回补全" in dot
    assert process_svg(registration).lstrip().startswith("<?xml") or "<svg" in process_svg(registration)


def test_every_process_has_a_page_with_its_diagram(org, login):
    client = login("hq")
    index = client.get("/processes/").data.decode()
    for name in engine.REGISTRY:
        assert f"/processes/{name}" in index
        assert client.get(f"/processes/{name}").status_code == 200
        assert b"<svg" in client.get(f"/processes/{name}.svg").data
