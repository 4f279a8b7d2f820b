"""The pages of issue 15's staff channels: robots registered, tested and removed within the
manager's scope (secrets never shown back), the administrator's delivery and webhook pages,
a user's digest by e-mail; refusals are messages, never a 500."""
from sqlalchemy import select

from tests.messaging.receivers import DING_SECRET, Receiver
from webapp.extensions import db
from webapp.models import GroupRobot, OutgoingWebhook, StaffPost


def test_a_store_manager_registers_tests_and_removes_the_store_robot(org, login):
    receiver = Receiver()
    try:
        client = login("manager1")
        page = client.get("/robots").get_data(as_text=True)
        assert f'value="store:{org.stores[0].id}"' in page
        assert f'value="store:{org.stores[2].id}"' not in page
        response = client.post("/robots", data={
            "scope": f"store:{org.stores[0].id}", "kind": "dingtalk", "name": "1号店钉钉",
            "url": receiver.dingtalk_url, "secret": DING_SECRET})
        assert response.status_code == 302
        robot = db.session.scalar(select(GroupRobot))
        page = client.get("/robots").get_data(as_text=True)
        assert "1号店钉钉" in page and "local-token-5678" not in page and DING_SECRET not in page
        assert "…5678" in page
        client.post(f"/robots/{robot.id}/test")
        assert len(receiver.accepted) == 1 and receiver.problems == []
        assert "测试消息已发送到群" in client.get("/robots").get_data(as_text=True)
        assert login("manager3").post(f"/robots/{robot.id}/remove").status_code == 404
        assert login("assoc1").get("/robots").status_code == 403
        client = login("manager1")
        assert client.post(f"/robots/{robot.id}/remove").status_code == 302
        db.session.refresh(robot)
        assert robot.removed_at is not None and robot.url is None
    finally:
        receiver.close()


def test_bad_robot_input_is_a_message_and_nothing_is_saved(org, login):
    client = login("manager1")
    for data in ({"scope": f"store:{org.stores[2].id}", "kind": "wecom", "name": "x",
                  "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=1"},
                 {"scope": f"store:{org.stores[0].id}", "kind": "wecom", "name": "x",
                  "url": "ftp://example.com"},
                 {"scope": "store:abc", "kind": "xx", "name": "", "url": ""},
                 {"scope": f"store:{org.stores[0].id}", "kind": "dingtalk", "name": "x",
                  "url": "https://oapi.dingtalk.com/robot/send?access_token=1", "secret": "nope"}):
        response = client.post("/robots", data=data)
        assert response.status_code == 422, data
    assert db.session.scalar(select(GroupRobot)) is None


def test_the_administrator_configures_a_webhook_and_sees_its_secret_once(org, login):
    client = login("admin")
    response = client.post("/admin/webhooks", data={
        "name": "ERP", "url": "https://erp.example.com/hooks", "events": ["member.approved",
                                                                         "card.renewed"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "whsec_" in page
    hook = db.session.scalar(select(OutgoingWebhook))
    assert hook.events == ["member.approved", "card.renewed"]
    assert hook.secret not in client.get("/admin/webhooks").get_data(as_text=True)
    assert client.post("/admin/webhooks", data={"name": "x", "url": "https://e.com",
                                                 "events": []}).status_code == 422
    assert client.get("/admin/staff-posts").status_code == 200
    assert login("hq_manager").get("/admin/webhooks").status_code == 403
    assert login("manager1").get("/admin/staff-posts").status_code == 403


def test_a_user_chooses_the_digest_by_mail(org, login):
    client = login("assoc1")
    assert client.post("/account/digest", data={"email": "bad", "by_mail": "y"}).status_code == 422
    assert client.post("/account/digest", data={"by_mail": "y"}).status_code == 422
    response = client.post("/account/digest", data={"email": "a1@example.com", "by_mail": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert org["assoc1"].digest_by_mail and org["assoc1"].email == "a1@example.com"
    assert db.session.scalar(select(StaffPost)) is None
