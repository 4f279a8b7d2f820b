"""Complaint pages through HTTP: the audited contact reveal, another store's member, the step
forms (no reply time to agree once answered; labelled survey scores)."""
import pytest
from sqlalchemy import select

from tests.complaint_helpers import record, step
from tests.factories import register
from webapp.extensions import db
from webapp.models import AuditEvent, Complaint


def reveals():
    return [(e.object_type, e.object_id, e.actor.username, e.data)
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal"))]


def test_a_handler_reveals_the_contact_and_it_is_audited(org, login):
    case = record(org, contact="13900001111", name="王喆")
    client = login("hq")
    page = client.get(f"/complaints/{case.id}").data.decode()
    assert "139****1111" in page and "13900001111" not in page and "显示完整" in page
    response = client.post(f"/complaints/{case.id}/reveal")
    assert response.status_code == 200 and response.json["value"] == "13900001111"
    assert reveals() == [("complaint", case.complaint.id, "hq", {"field": "contact"})]


@pytest.mark.parametrize("username", ["supervisor1", "area_manager1"])
def test_masked_roles_have_no_reveal(org, login, username):
    case = record(org, username="assoc1", kind="store", contact="13900001111")
    client = login(username)
    page = client.get(f"/complaints/{case.id}").data.decode()
    assert "139****1111" in page and "显示完整" not in page
    assert client.post(f"/complaints/{case.id}/reveal").status_code == 403
    assert reveals() == []


def test_another_area_cannot_reveal(org, login):
    case = record(org, username="assoc1", kind="store")
    assert login("assoc3").post(f"/complaints/{case.id}/reveal").status_code == 404
    assert reveals() == []


def form(org, **overrides):
    return {"channel": "in_store", "contact": "13700002222", "customer_name": "",
            "store_id": str(org.stores[0].id), "product": "衬衫", "description": "掉色",
            "customer_wants": "", "received_at": "", **overrides}


def test_another_stores_member_is_not_named(org, login):
    member = register(org, username="assoc3", mobile="13700002222", name="陈强").member
    client = login("assoc1")
    response = client.post("/complaints/new/store", data=form(org))
    page = response.data.decode()
    assert response.status_code == 422
    assert "已是其他门店的会员" in page and "陈强" not in page and member.card_no not in page
    assert db.session.scalar(select(Complaint.id)) is None
    response = client.post("/complaints/new/store", data=form(org, customer_name="陈先生"))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).data.decode()
    assert "陈先生" in page and "陈强" not in page and member.card_no not in page
    assert "其他门店的会员" in page


def test_own_stores_member_is_named(org, login):
    member = register(org, username="assoc1", mobile="13700002222", name="钱会员").member
    client = login("assoc1")
    response = client.post("/complaints/new/store", data=form(org))
    page = client.get(response.headers["Location"]).data.decode()
    assert "钱会员" in page and member.card_no in page


def test_escalating_after_the_reply_asks_no_reply_time(org, login):
    case = record(org)
    client = login("hq")
    assert 'id="escalate-agreed_reply_at"' in client.get(f"/complaints/{case.id}").data.decode()
    step(org, case, "reply", reply_text="收到")
    page = client.get(f"/complaints/{case.id}").data.decode()
    assert 'id="act-escalate"' in page and 'id="escalate-agreed_reply_at"' not in page


def test_survey_scores_have_labels(org, login):
    case = record(org)
    for name, data in (("reply", {"reply_text": "收到"}), ("propose", {"solution_text": "退款"}),
                       ("consent", {"consent_by": "赵", "consent_how": "phone"}), ("carry_out", {}),
                       ("revisit", {"revisit_note": "好"})):
        step(org, case, name, **data)
    page = login("hq").get(f"/complaints/{case.id}").data.decode()
    assert "非常满意" in page and "非常不满意" in page


def test_a_future_receipt_time_is_refused(org, login):
    import time_machine
    from datetime import datetime, timezone

    with time_machine.travel(datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc), tick=False):
        response = login("assoc1").post("/complaints/new/store", data=form(
            org, customer_name="陈先生", received_at="2026-11-23T12:00"))  # 2 h ahead in Shanghai
    assert response.status_code == 422 and "受理时间不能晚于现在" in response.data.decode()
    assert db.session.scalar(select(Complaint.id)) is None
