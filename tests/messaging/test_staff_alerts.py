"""Staff alerts in WeCom / DingTalk groups, the 09:00 digest, digest e-mails and outgoing
webhooks — each against a real local server (tests/messaging/receivers.py), never a mocked
function: DingTalk's signature and WeCom's body checked by the receiver, a retry after a 5xx and
after a timeout without a second post, a dead webhook that blocks nothing, quiet hours that do
not apply to staff, webhook signatures a receiver verifies."""
import email
import email.policy
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import func, select

import jsonschema_rs

from tests.complaint_helpers import record
from tests.factories import register
from webapp import settings, staff_alerts, webhooks
from webapp.openapi import document
from webapp.extensions import db
from webapp.models import StaffPost
from webapp.services import digest, staff_channels, staff_posts
from webapp.services.cases import fire
from webapp.services.deadlines import process_due

from .receivers import DING_SECRET

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Shanghai
LATE = datetime(2026, 11, 20, 15, 30, tzinfo=timezone.utc)  # 23:30 in Shanghai: quiet hours


def _urgent_within(hours: int) -> None:
    settings.put("staff_alert_urgent_hours", str(hours))
    db.session.commit()


@pytest.fixture
def queued_urgent(org, receiver):
    """An urgent task at T0 (a registration to review) queued for store 1's WeCom group, which
    posts to `receiver`; nothing delivered yet."""
    _urgent_within(100)
    staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                             kind="wecom", name="群", url=receiver.wecom_url)
    with time_machine.travel(T0, tick=False):
        register(org, name="李娜", gender="F", mobile="13811112222")


def _robots(org, receiver):
    wecom = staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                                     kind="wecom", name="1号店群", url=receiver.wecom_url)
    ding = staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                                    kind="dingtalk", name="1号店钉钉", url=receiver.dingtalk_url,
                                    secret=DING_SECRET)
    return wecom, ding


def _posts(**where):
    query = select(StaffPost).order_by(StaffPost.id)
    for key, value in where.items():
        query = query.where(getattr(StaffPost, key) == value)
    return list(db.session.scalars(query))


def test_an_urgent_task_reaches_both_groups_signed_with_a_link_even_in_quiet_hours(org, receiver):
    _urgent_within(100)
    _robots(org, receiver)
    with time_machine.travel(LATE, tick=False):
        case = register(org, name="李娜", gender="F", mobile="13811112222")
    posts = _posts(event="urgent")
    assert [p.status for p in posts] == ["queued", "queued"]
    assert staff_posts.deliver_due(now=LATE) == 2  # 23:30: staff alerts have no quiet hours
    assert receiver.problems == [] and len(receiver.accepted) == 2
    paths = sorted(path for path, _body, _h in receiver.accepted)
    assert paths == ["/cgi-bin/webhook/send", "/robot/send"]
    wecom = next(body for path, body, _h in receiver.accepted if path.startswith("/cgi-bin"))
    assert "审核新会员资料" in wecom["markdown"]["content"]
    assert f"http://localhost:5000/cases/{case.id}" in wecom["markdown"]["content"]
    assert staff_posts.deliver_due(now=LATE + timedelta(hours=1)) == 0  # sent once, never again
    assert len(receiver.requests) == 2


def test_a_task_with_a_distant_deadline_or_another_store_posts_nothing(org, receiver):
    _urgent_within(1)
    _robots(org, receiver)
    with time_machine.travel(T0, tick=False):
        register(org, name="李娜", gender="F", mobile="13811112222")
        _urgent_within(100)
        register(org, "assoc3", name="张伟", gender="M", mobile="13811113333")  # store 3
    assert _posts() == []


def test_a_5xx_is_retried_after_the_back_off_and_posted_once(receiver, queued_urgent):
    receiver.answers = ["5xx", "ok"]
    assert staff_posts.deliver_due(now=T0) == 0
    post = _posts()[0]
    assert (post.status, post.attempts, post.error) == ("queued", 1, "HTTP 500")
    assert staff_posts.deliver_due(now=T0 + timedelta(seconds=30)) == 0  # backing off
    assert len(receiver.requests) == 1
    assert staff_posts.deliver_due(now=T0 + timedelta(minutes=1)) == 1
    assert staff_posts.deliver_due(now=T0 + timedelta(hours=2)) == 0
    db.session.refresh(post)
    assert (post.status, post.attempts) == ("sent", 2)
    assert len(receiver.requests) == 2 and len(receiver.accepted) == 1


def test_a_timeout_is_a_retry(receiver, queued_urgent):
    receiver.answers = ["timeout", "ok"]
    assert staff_posts.deliver_due(now=T0, timeout=0.3) == 0
    post = _posts()[0]
    assert post.status == "queued" and post.next_attempt_at == T0 + timedelta(minutes=1)


def test_a_dead_webhook_blocks_nothing_and_its_failure_is_listed(org):
    _urgent_within(100)
    robot = staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                                     kind="wecom", name="群", url="http://127.0.0.1:9/dead")
    with time_machine.travel(T0, tick=False):
        case = register(org, name="李娜", gender="F", mobile="13811112222")
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    assert case.state == "approved"
    moment = T0
    for _attempt in range(staff_posts.MAX_ATTEMPTS):
        staff_posts.deliver_due(now=moment)
        moment += timedelta(hours=2)
    post = _posts(robot_id=robot.id)[0]
    assert post.status == "failed" and post.attempts == staff_posts.MAX_ATTEMPTS
    assert post in staff_posts.failures()
    assert staff_posts.retry(post_id=post.id, now=moment)
    db.session.refresh(post)
    assert (post.status, post.attempts) == ("queued", 0)


def test_a_worker_killed_between_post_and_commit_never_posts_again(receiver, queued_urgent):
    post = _posts()[0]
    post.status, post.claimed_at = "sending", T0  # claimed, posted, then the worker died
    db.session.commit()
    assert staff_posts.deliver_due(now=T0 + timedelta(minutes=20)) == 0
    db.session.refresh(post)
    assert post.status == "unknown" and receiver.requests == []


def test_overdue_tasks_are_posted_once_per_group_per_sweep(org, receiver):
    _urgent_within(1)
    staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                             kind="dingtalk", name="钉钉", url=receiver.dingtalk_url,
                             secret=DING_SECRET)
    with time_machine.travel(T0, tick=False):
        register(org, name="李娜", gender="F", mobile="13811112222")
        register(org, name="王芳", gender="F", mobile="13811114444")
    later = T0 + timedelta(days=5)
    with time_machine.travel(later, tick=False):
        process_due(now=later)
        process_due(now=later)
    posts = _posts(event="overdue")
    assert len(posts) == 1 and "2 项待办已超期，已升级" in posts[0].body
    assert staff_posts.deliver_due(now=later) == 1 and receiver.problems == []


def test_the_nine_o_clock_digest_lists_today_by_person_once_per_store_per_day(org, receiver):
    wecom, _ding = _robots(org, receiver)
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        register(org, name="李娜", gender="F", mobile="13811112222")
    before = datetime(2026, 11, 20, 0, 59, tzinfo=timezone.utc)  # 08:59 local
    assert digest.queue_digests(now=before) == 0
    nine = datetime(2026, 11, 20, 1, 5, tzinfo=timezone.utc)
    assert digest.queue_digests(now=nine) == 2
    assert digest.queue_digests(now=nine + timedelta(minutes=10)) == 0
    assert digest.queue_digests(now=nine + timedelta(hours=5)) == 0
    text = _posts(robot_id=wecom.id, event="digest")[0].body
    assert "1号店 11月20日 待办汇总" in text and "总部客服专员（未分派）" in text
    assert "审核新会员资料" in text
    assert staff_posts.deliver_due(now=nine) == 2 and receiver.problems == []
    assert digest.queue_digests(now=nine + timedelta(days=1)) == 2  # the next day: again


def test_a_user_who_asked_gets_the_digest_by_mail(org, mailbox):
    staff_channels.set_digest_mail(actor=org["manager1"], email="manager1@example.com",
                                   by_mail=True)
    with time_machine.travel(T0 - timedelta(days=1), tick=False):
        register(org, name="李娜", gender="F", mobile="13811112222")
    nine = datetime(2026, 11, 20, 1, 5, tzinfo=timezone.utc)
    assert digest.queue_digests(now=nine) == 1
    post = _posts(channel="email")[0]
    raw = db.session.scalar(select(func.count()).select_from(StaffPost).where(
        StaffPost.recipient.like("%example.com%")))
    assert raw == 0  # the address is stored encrypted
    assert staff_posts.deliver_due(now=nine) == 1
    rcpt, content = mailbox.messages[0]
    message = email.message_from_string(content, policy=email.policy.default)
    assert rcpt == ["manager1@example.com"] and message["Subject"] == "今日待办 11-20"
    assert "审核新会员资料" in message.get_content() and "**" not in message.get_content()
    db.session.refresh(post)
    assert post.status == "sent"
    with pytest.raises(staff_channels.ChannelRefused):
        staff_channels.set_digest_mail(actor=org["manager1"], email="not-an-address", by_mail=True)


def test_an_outgoing_webhook_is_signed_retried_with_the_same_delivery_id(org, receiver):
    hook, secret = staff_channels.add_webhook(actor=org["admin"], name="ERP",
                                              url=receiver.webhook_url,
                                              events=["member.approved"])
    receiver.webhook_secret = secret
    with time_machine.travel(T0, tick=False):
        case = register(org, name="李娜", gender="F", mobile="13811112222")
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    posts = _posts(channel="webhook")
    assert len(posts) == 1 and posts[0].payload["event"] == "member.approved"
    receiver.answers = ["5xx", "ok"]
    staff_posts.deliver_due(now=T0)
    staff_posts.deliver_due(now=T0 + timedelta(minutes=1))
    assert receiver.problems == [] and len(receiver.accepted) == 1
    ids = {headers["X-CRM-Delivery"] for _p, _raw, headers in receiver.requests}
    assert ids == {f"crm-{posts[0].id}"}
    _path, body, headers = receiver.accepted[0]
    assert body["data"]["member_id"] == case.member_id and "mobile" not in body["data"]
    raw = receiver.requests[-1][1]
    assert webhooks.verify(secret, headers["X-CRM-Timestamp"], raw, headers["X-CRM-Signature"])
    assert not webhooks.verify("wrong", headers["X-CRM-Timestamp"], raw, headers["X-CRM-Signature"])
    # what was posted is what the OpenAPI document's `webhooks` section describes
    operation = document()["webhooks"]["member.approved"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    jsonschema_rs.Draft202012Validator(schema, validate_formats=True).validate(body)
    assert all(headers.get(p["name"]) for p in operation["parameters"])  # case-insensitive


def test_the_openapi_document_describes_every_event(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    assert set(doc["webhooks"]) == set(staff_alerts.EVENTS)


def test_robots_are_managed_within_scope_and_secrets_never_shown(org, receiver):
    with pytest.raises(staff_channels.ChannelRefused):
        staff_channels.add_robot(actor=org["manager3"], scope=f"store:{org.stores[0].id}",
                                 kind="wecom", name="x", url=receiver.wecom_url)
    with pytest.raises(staff_channels.ChannelRefused):
        staff_channels.add_robot(actor=org["assoc1"], scope=f"store:{org.stores[0].id}",
                                 kind="wecom", name="x", url=receiver.wecom_url)
    with pytest.raises(staff_channels.ChannelRefused):
        staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                                 kind="wecom", name="x", url="http://qyapi.example.com/send")
    robot = staff_channels.add_robot(actor=org["area_manager1"], scope=f"area:{org.areas[0].id}",
                                     kind="wecom", name="一区群", url=receiver.wecom_url)
    assert robot.url_hint.endswith("1234") and "local-key" not in robot.url_hint
    assert robot not in staff_channels.robots_visible_to(org["manager1"])
    post = staff_channels.test_robot(actor=org["area_manager1"], robot_id=robot.id, now=T0)
    assert post.status == "sent" and len(receiver.accepted) == 1
    staff_channels.remove_robot(actor=org["area_manager1"], robot_id=robot.id, now=T0)
    assert robot.url is None and robot.secret is None


def test_a_group_gets_at_most_twenty_posts_a_minute_the_rest_wait(org, receiver):
    robot = staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                                     kind="wecom", name="群", url=receiver.wecom_url)
    staff_alerts.queue([{"channel": "robot", "robot_id": robot.id, "event": "test",
                         "dedupe_key": f"burst:{i}", "body": f"第{i}条"} for i in range(22)])
    db.session.commit()
    assert staff_posts.deliver_due(now=T0) == staff_posts.ROBOT_PER_MINUTE
    waiting = _posts(status="queued")
    assert len(waiting) == 2 and all(p.attempts == 0 for p in waiting)
    assert staff_posts.deliver_due(now=T0 + timedelta(minutes=1)) == 2
    assert len(receiver.accepted) == 22


def test_a_filed_complaint_is_an_event_without_the_customers_contact(org):
    hook, _secret = staff_channels.add_webhook(actor=org["admin"], name="客服系统",
                                               url="https://cs.example.com/hooks",
                                               events=["complaint.filed"])
    with time_machine.travel(T0, tick=False):
        case = record(org, name="赵先生", contact="13900001111", store=0)
        register(org, name="李娜", gender="F", mobile="13811112222")  # not subscribed
    posts = _posts(channel="webhook")
    assert len(posts) == 1 and posts[0].webhook_id == hook.id
    data = posts[0].payload["data"]
    assert data["case_id"] == case.id and data["store_code"] == "S1"
    assert "13900001111" not in str(posts[0].payload) and "赵" not in str(posts[0].payload)
    staff_channels.remove_webhook(actor=org["admin"], webhook_id=hook.id)
    with time_machine.travel(T0 + timedelta(hours=1), tick=False):
        record(org, name="钱女士", contact="13900002222", store=0)
    assert len(_posts(channel="webhook")) == 1


def test_which_groups_hear_of_a_task(org, receiver):
    store1, store3 = org.stores[0], org.stores[2]
    mine = staff_channels.add_robot(actor=org["manager1"], scope=f"store:{store1.id}",
                                    kind="wecom", name="1号店", url=receiver.wecom_url)
    area = staff_channels.add_robot(actor=org["area_manager1"], scope=f"area:{org.areas[0].id}",
                                    kind="wecom", name="一区", url=receiver.wecom_url)
    hq = staff_channels.add_robot(actor=org["admin"], scope="company", kind="wecom", name="总部",
                                  url=receiver.wecom_url)
    from webapp.models import Role
    assert staff_alerts.robots_for(store1.id, store1.area_id, {Role.ASSOCIATE}) == [mine.id]
    assert staff_alerts.robots_for(store1.id, store1.area_id,
                                   {Role.ASSOCIATE, Role.AREA_SUPERVISOR}) == [mine.id, area.id]
    assert staff_alerts.robots_for(store3.id, store3.area_id, {Role.HQ_MANAGER}) == [hq.id]
    assert staff_alerts.robots_for(None, org.areas[0].id, {Role.AREA_MANAGER}) == [area.id]
    assert staff_alerts.robots_for(None, None, {Role.HQ_SPECIALIST}) == [hq.id]


def test_renewals_by_waiver_and_by_payment_are_events(org):
    from tests.sales.builders import bulk_members, sale
    from webapp.models import Case
    from webapp.services import sales
    from webapp.services.recurring import open_due
    from webapp.workflows import engine

    staff_channels.add_webhook(actor=org["admin"], name="会员卡", url="https://cards.example.com/h",
                               events=["card.renewed"])
    waived, paying = bulk_members(org.stores[0], 2, expires=datetime(2027, 1, 15).date())
    with time_machine.travel(datetime(2026, 6, 1, 4, 0, tzinfo=timezone.utc), tick=False):
        sales.record(rows=[sale("S1", "D1", "2026-06-01 12:00", "1000.00",
                                card=waived["card_no"])], actor=org["hq"], source="import")
    dec1 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
    with time_machine.travel(dec1, tick=False):
        open_due(now=dec1)
    case = db.session.scalars(select(Case).where(Case.process == "expiry_call",
                                                 Case.member_id == paying["id"])).one()
    with time_machine.travel(dec1 + timedelta(days=1), tick=False):
        engine.fire(case, "renew_paid", org["hq"], version=case.version,
                    data={"fee_fen": 5000, "store_id": org.stores[0].id})
        db.session.commit()
    events = {p.payload["data"]["member_id"]: p.payload["data"] for p in _posts(channel="webhook")}
    assert events[waived["id"]]["kind"] == "waiver"
    assert events[waived["id"]]["card_expires_on"] == "2028-01-15"
    assert (events[paying["id"]]["kind"], events[paying["id"]]["fee_yuan"]) == ("payment", "50.00")


def test_the_administrator_edits_the_urgent_alert_text(org, login, receiver):
    admin = login("admin")
    page = admin.get("/admin/templates/").get_data(as_text=True)
    assert "工作群：新的紧急待办" in page and "工作群消息" in page
    preview = admin.post("/admin/templates/staff_urgent/preview",
                         data={"body": "急：{待办} {标题} {链接}"}).get_json()
    assert preview["text"].startswith("急：审核新会员资料 新会员") and preview["errors"] == {}
    bad = admin.post("/admin/templates/staff_urgent/preview", data={"body": "{积分}"}).get_json()
    assert bad["errors"]["body"]
    response = admin.post("/admin/templates/staff_urgent",
                          data={"action": "save", "body": "急：{待办}，{门店}，{期限} {链接}"})
    assert response.status_code in (200, 302)
    _urgent_within(100)
    staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                             kind="wecom", name="群", url=receiver.wecom_url)
    with time_machine.travel(T0, tick=False):
        case = register(org, name="李娜", gender="F", mobile="13811112222")
    assert _posts()[0].body == f"急：审核新会员资料，1号店，11-23 24:00 http://localhost:5000/cases/{case.id}"
