"""Claiming a pool task takes it out of colleagues' inboxes; one claimer wins."""
from sqlalchemy import select

from tests.factories import register
from webapp.extensions import db
from webapp.models import Role, Task, User
from webapp.services import tasks


def review_task(case):
    return db.session.scalars(select(Task).where(Task.case_id == case.id, Task.status == "open")).one()


def second_specialist(org):
    other = User(username="hq2", display_name="hq2名", role=Role.HQ_SPECIALIST,
                 password_hash=org["hq"].password_hash)
    db.session.add(other)
    db.session.commit()
    return other


def test_claimed_task_leaves_colleagues_inbox(org, login, client):
    case = register(org, name="认领测试")
    second_specialist(org)
    login("hq").post(f"/tasks/{review_task(case).id}/claim")
    assert review_task(case).assignee_id == org["hq"].id
    client.post("/logout")
    assert "认领测试" not in login("hq2").get("/").data.decode()


def test_second_claim_is_refused_with_the_winner(org):
    case = register(org)
    other = second_specialist(org)
    task = review_task(case)
    tasks.claim(user=org["hq"], task=task)
    try:
        tasks.claim(user=other, task=task)
        raised = None
    except tasks.ClaimRefused as exc:
        raised = str(exc)
    assert raised == "此待办已由hq名认领"


def test_release_returns_it_to_the_pool(org, login):
    case = register(org)
    client = login("hq")
    task_id = review_task(case).id
    client.post(f"/tasks/{task_id}/claim")
    client.post(f"/tasks/{task_id}/release")
    assert review_task(case).assignee_id is None


def test_claim_outside_role_or_scope(org, login):
    case = register(org)
    task_id = review_task(case).id
    assert login("assoc3").post(f"/tasks/{task_id}/claim").status_code == 404
    response = login("assoc1").post(f"/tasks/{task_id}/claim", follow_redirects=True)
    assert "此待办不属于您的角色或范围" in response.data.decode()
    assert review_task(case).assignee_id is None


def test_complaint_steps_that_ask_for_text_link_to_their_form(org, login):
    from tests.complaint_helpers import record
    case = record(org)
    page = login("hq").get("/").data.decode()
    assert f'href="/cases/{case.id}#act-reply"' in page
    assert f'action="/cases/{case.id}/reply"' not in page
