"""Complaint limits remind and escalate at the right moment, once, on the right path."""
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from tests.complaint_helpers import record, step
from webapp.extensions import db
from webapp.models import Notification, Role
from webapp.services import inbox
from webapp.services.deadlines import process_due

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def notes():
    return sorted((n.kind, n.role) for n in db.session.scalars(select(Notification)))


def run_at(moment):
    with time_machine.travel(moment, tick=False):
        return process_due(now=moment)


def test_direct_complaint_reminds_then_escalates_to_the_cs_manager(org):
    case = record(org, now=T0, received_at=T0)
    run_at(T0 + timedelta(hours=19))
    assert notes() == []  # the reminder is 4 h before the 24 h limit
    run_at(T0 + timedelta(hours=20, minutes=1))
    assert notes() == [("remind", Role.HQ_SPECIALIST)]
    run_at(T0 + timedelta(hours=24, minutes=1))
    run_at(T0 + timedelta(hours=25))  # running again changes nothing
    assert notes() == [("escalate", Role.HQ_MANAGER), ("remind", Role.HQ_SPECIALIST)]
    titles = [t.title for t in inbox.inbox_tasks(org["hq_manager"])]
    assert case.title in titles


def test_store_complaint_breach_goes_to_the_supervisor_and_hq(org):
    case = record(org, username="assoc1", kind="store", now=T0, received_at=T0)
    run_at(T0 + timedelta(hours=24, minutes=1))  # first run after the limit: no late reminder
    assert notes() == [("escalate", Role.AREA_SUPERVISOR), ("escalate_also", Role.HQ_SPECIALIST)]
    for username in ("supervisor1", "hq"):
        assert case.title in [t.title for t in inbox.inbox_tasks(org[username])], username
    assert case.title not in [t.title for t in inbox.inbox_tasks(org["supervisor2"])]


def test_solution_limit_runs_from_receipt_not_from_the_reply(org):
    case = record(org, now=T0, received_at=T0)
    with time_machine.travel(T0 + timedelta(hours=40), tick=False):
        step(org, case, "reply", reply_text="抱歉")  # late: the reply limit was 24 h
    run_at(T0 + timedelta(hours=48, minutes=1))
    escalations = [n for n in db.session.scalars(select(Notification)) if n.kind == "escalate"]
    assert len(escalations) == 1 and escalations[0].task.name == "propose"
    assert case.complaint.breaches(T0 + timedelta(hours=49)) == ["reply", "solution"]


def test_hq_told_of_a_breach_can_comment_remind_and_take_over(org, login):
    """Issue #9.20: HQ's inbox row of an overdue store complaint offers what HQ can do."""
    case = record(org, username="assoc1", kind="store", now=T0, received_at=T0)
    moment = T0 + timedelta(hours=24, minutes=1)
    run_at(moment)
    with time_machine.travel(moment, tick=False):
        client = login("hq")
        row = client.get("/").data.decode().split(f'data-case="{case.id}"')[1].split("</tr>")[0]
        assert "#act-take_over" in row and "#watch" in row
        page = client.get(f"/complaints/{case.id}").data.decode()
        assert 'id="watch-comment"' in page and 'id="watch-nudge"' in page
        assert 'id="take_over-comment"' in page  # the reason
        client.post(f"/complaints/{case.id}/watch/comment", data={"version": case.version, "comment": "请今天回电"})
        client.post(f"/complaints/{case.id}/watch/nudge", data={"version": case.version})
        assert ("nudge", Role.STORE_MANAGER) in notes()
        assert [n.user_id for n in db.session.scalars(select(Notification)) if n.kind == "nudge"] == [
            org["assoc1"].id]  # the associate who holds it
        assert "催办" in login("assoc1").get("/notifications").data.decode()
        client = login("hq")
        assert client.post(f"/complaints/{case.id}/take_over",
                           data={"version": case.version}).status_code == 302
        db.session.refresh(case)
        assert case.process == "complaint_store"  # a reason is required
        client.post(f"/complaints/{case.id}/take_over",
                    data={"version": case.version, "comment": "门店联系不上顾客，总部接手"})
        db.session.refresh(case)
        page = client.get(f"/complaints/{case.id}").data.decode()
    assert case.process == "complaint_direct" and case.state == "open"
    assert [t.role for t in inbox.inbox_tasks(org["hq"]) if t.case_id == case.id] == [Role.HQ_SPECIALIST]
    assert "请今天回电" in page and "总部接手处理" in page and "门店联系不上顾客" in page


def test_a_store_user_has_no_watch_actions(org, login):
    case = record(org, username="assoc1", kind="store", now=T0, received_at=T0)
    run_at(T0 + timedelta(hours=24, minutes=1))
    client = login("manager1")
    assert 'id="watch-comment"' not in client.get(f"/complaints/{case.id}").data.decode()
    client.post(f"/complaints/{case.id}/watch/nudge", data={"version": case.version})
    assert [n for n in db.session.scalars(select(Notification)) if n.kind == "nudge"] == []
