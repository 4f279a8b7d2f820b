"""The weekly routine's pages: the manager's week page in each state, the associate's Friday
check (answer, then the score), the inbox panel; other stores get 404, bad input a message."""
from datetime import date, timedelta

import pytest
import time_machine
from sqlalchemy import update

from tests.workflows.test_weekly_routine import local, members, sweep, week  # noqa: F401
from webapp.extensions import db
from webapp.models import Case, RoutineQuestion
from webapp.services import routine


def test_plan_check_review_report_through_the_pages(org, week, members, login, client):  # noqa: F811
    case = week["S1"]
    a1, a1b = org["assoc1"], org["assoc1b"]
    with time_machine.travel(local(23, 9), tick=False):
        login("manager1")
        page = client.get(f"/cases/{case.id}", follow_redirects=True).get_data(as_text=True)
        assert "plan-form" in page and "assoc1b名" in page
        bad = client.post(f"/routine/{case.id}/plan", data={
            "version": case.version, "method_A": "visit", "method_B": "call", "method_C": "sms",
            f"profiles_{a1.id}": "abc"}, follow_redirects=True).get_data(as_text=True)
        assert "须为 0—20 的整数" in bad
        ok = client.post(f"/routine/{case.id}/plan", data={
            "version": case.version, "method_A": "visit", "method_B": "call", "method_C": "sms",
            f"profiles_{a1.id}": "3", f"profiles_{a1b.id}": "2", f"visits_{a1.id}": "2",
            f"visits_{a1b.id}": "1", "note": "本周重点：A 类客户上门"}, follow_redirects=True)
        assert "本周计划已制订" in ok.get_data(as_text=True)
    db.session.refresh(case)
    assert case.state == "memorising" and case.data["plan"]["profiles"][str(a1.id)] == 3
    sweep(local(27, 0))
    with time_machine.travel(local(27, 10), tick=False):
        client.post(f"/routine/{case.id}/check")
        questions = routine.my_questions(actor=a1, case=case)
        assert len(questions) == 4
        client.get("/logout")
        login("assoc1")
        inbox = client.get("/").get_data(as_text=True)
        assert "routine-panel" in inbox and f"/routine/check/{case.id}" in inbox
        form = client.get(f"/routine/check/{case.id}").get_data(as_text=True)
        assert "check-form" in form
        client.post(f"/routine/check/{case.id}", data={f"q_{q.id}": "A" for q in questions})
        done = client.get(f"/routine/check/{case.id}").get_data(as_text=True)
        assert "得分" in done and "check-form" not in done
        client.get("/logout")
        login("assoc3")  # another store: no such page
        assert client.get(f"/routine/check/{case.id}").status_code == 404
        assert client.get(f"/routine/{case.id}").status_code == 404
        client.get("/logout")


def test_hostile_input_gets_a_message_not_a_500(org, week, login, client):  # noqa: F811
    case = week["S1"]
    with time_machine.travel(local(23, 9), tick=False):
        login("manager1")
        for url, data in ((f"/routine/{case.id}/plan", {"version": "x", "method_A": "<b>"}),
                          (f"/routine/{case.id}/report", {"version": "1", "best_advisor_id": "x"}),
                          (f"/routine/{case.id}/finish_check", {"version": "1"}),
                          (f"/routine/{case.id}/check", {})):
            response = client.post(url, data=data, follow_redirects=True)
            assert response.status_code == 200
        assert client.post("/routine/questions/999999/judge").status_code == 404
        assert client.get("/routine/999999").status_code == 404
        assert client.get("/routine", follow_redirects=False).status_code == 302
