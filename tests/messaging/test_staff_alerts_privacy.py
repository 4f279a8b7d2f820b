"""Robot posts (urgent, overdue, the store's and the area's digest) and the digest e-mail leave
the company (WeCom, DingTalk, a mailbox outside): they name a case by its process and number and
link into the app, never by its title, which may carry the member's name, salutation, card
number or mobile. Checked on what the local receivers (tests/messaging/receivers.py) were sent,
for a member whose particulars are known, with a case title carrying every one of them."""
import email
import email.policy
import json
from datetime import datetime, timedelta, timezone

import time_machine
from sqlalchemy import select

from tests.factories import register
from webapp import outbox, settings
from webapp.extensions import db
from webapp.models import MessageTemplateVersion, StaffPost
from webapp.services import digest, staff_channels, staff_posts
from webapp.services.deadlines import process_due
from webapp.workflows import engine
from webapp.workflows.registration import registration

from .receivers import DING_SECRET

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # Friday 10:00 in Shanghai
NINE = datetime(2026, 11, 20, 1, 5, tzinfo=timezone.utc)  # 09:05 in Shanghai
NAME, MOBILE = "王建国", "13811116789"
LABEL = "审核新会员资料"


def _urgent_within(hours: int) -> None:
    settings.put("staff_alert_urgent_hours", str(hours))
    db.session.commit()


def _robots(org, receiver) -> None:
    store = f"store:{org.stores[0].id}"
    staff_channels.add_robot(actor=org["manager1"], scope=store, kind="wecom", name="1号店群",
                             url=receiver.wecom_url)
    staff_channels.add_robot(actor=org["manager1"], scope=store, kind="dingtalk",
                             name="1号店钉钉", url=receiver.dingtalk_url, secret=DING_SECRET)


def _member_cases(org, at: datetime) -> list:
    """The member's registration (its title names them) and a second case about them whose
    title carries all a title can: the card number (as the formal card's and the expiry call's
    have it), the salutation, the mobile."""
    with time_machine.travel(at, tick=False):
        first = register(org, name=NAME, gender="M", mobile=MOBILE)
    return [first, _titled_case(org, first.member, at)]


def _titled_case(org, member, at: datetime):
    store = org.stores[0]
    with time_machine.travel(at, tick=False):
        case = engine.start(registration, org["assoc1"], store_id=store.id,
                            area_id=store.area_id, member_id=member.id, now=at,
                            title=f"正式会员卡 {member.card_no} 新会员 王先生 {member.mobile}")
        db.session.commit()
    return case


def _personal(case) -> list[str]:
    member = case.member
    assert (member.name, member.mobile, outbox.salutation(member)) == (NAME, MOBILE, "王先生")
    return [NAME, "王先生", member.card_no, MOBILE, MOBILE[-4:]]


def _posted(receiver) -> list[str]:
    """Every payload the groups were sent, as text (Chinese unescaped)."""
    assert receiver.problems == []
    return [json.dumps(body, ensure_ascii=False) for _path, body, _h in receiver.accepted]


def _assert_useful_and_clean(text: str, cases: list) -> None:
    for value in _personal(cases[0]):
        assert value not in text
    assert LABEL in text and "1号店" in text
    for case in cases:
        assert f"http://localhost:5000/cases/{case.id}" in text
        assert f"新会员入会登记 #{case.id}" in text


def test_an_urgent_post_names_the_case_by_number_not_the_member(org, receiver):
    _urgent_within(100)
    _robots(org, receiver)
    cases = _member_cases(org, T0)
    assert staff_posts.deliver_due(now=T0) == 4  # two cases, two groups
    posted = _posted(receiver)
    assert len(posted) == 4
    for text in posted:
        case = next(c for c in cases if f"/cases/{c.id})" in text)
        _assert_useful_and_clean(text, [case])
        assert "11-23 24:00" in text  # the deadline


def test_an_overdue_post_names_the_cases_by_number_not_the_member(org, receiver):
    _urgent_within(1)  # not urgent when opened: only the overdue post
    _robots(org, receiver)
    cases = _member_cases(org, T0)
    later = T0 + timedelta(days=5)
    with time_machine.travel(later, tick=False):
        process_due(now=later)
    assert [p.event for p in db.session.scalars(select(StaffPost))] == ["overdue", "overdue"]
    assert staff_posts.deliver_due(now=later) == 2
    posted = _posted(receiver)
    assert len(posted) == 2
    for text in posted:
        assert "2 项待办已超期" in text
        _assert_useful_and_clean(text, cases)


def test_the_store_and_area_digests_name_cases_by_number_not_the_member(org, receiver):
    _robots(org, receiver)
    staff_channels.add_robot(actor=org["area_manager1"], scope=f"area:{org.areas[0].id}",
                             kind="wecom", name="一区群", url=receiver.wecom_url)
    cases = _member_cases(org, T0 - timedelta(days=1))
    assert digest.queue_digests(now=NINE) == 3
    assert staff_posts.deliver_due(now=NINE) == 3
    posted = _posted(receiver)
    stores = [t for t in posted if "1号店 11月20日 待办汇总" in t]
    assert len(stores) == 2
    for text in stores:
        _assert_useful_and_clean(text, cases)
    [area] = [t for t in posted if "一区 11月20日 门店待办汇总" in t]
    assert "1号店：未完成 2" in area
    for value in _personal(cases[0]):
        assert value not in area


def test_the_digest_mail_names_cases_by_number_not_the_member(org, mailbox):
    staff_channels.set_digest_mail(actor=org["manager1"], email="manager1@example.com",
                                   by_mail=True)
    cases = _member_cases(org, T0 - timedelta(days=1))
    assert digest.queue_digests(now=NINE) == 1
    assert staff_posts.deliver_due(now=NINE) == 1
    [(rcpt, content)] = mailbox.messages
    text = email.message_from_string(content, policy=email.policy.default).get_content()
    assert rcpt == ["manager1@example.com"]
    _assert_useful_and_clean(text, cases)  # each line with its store


def test_no_placeholder_brings_the_member_back_into_a_post(org, login, receiver):
    admin = login("admin")
    for key in ("staff_urgent", "staff_overdue_line", "staff_bulk_opened"):
        for field in ("{姓名}", "{称呼}", "{卡号}", "{name}", "{salutation}", "{card_no}"):
            answer = admin.post(f"/admin/templates/{key}/preview",
                                data={"body": f"{{待办}} {field}"}).get_json()
            assert answer["errors"]["body"].startswith("未知的占位符"), (key, field)
    page = admin.get("/admin/templates/staff_urgent").get_data(as_text=True)
    assert "{编号}" in page and "{姓名}" not in page
    # {标题} (the older name, kept in saved texts) is the case's reference
    response = admin.post("/admin/templates/staff_urgent",
                          data={"action": "save", "body": "急：{待办} {标题}（{门店}） {链接}"})
    assert response.status_code in (200, 302)
    _urgent_within(100)
    staff_channels.add_robot(actor=org["manager1"], scope=f"store:{org.stores[0].id}",
                             kind="wecom", name="群", url=receiver.wecom_url)
    [first, _second] = _member_cases(org, T0)
    assert staff_posts.deliver_due(now=T0) == 2
    text = _posted(receiver)[0]
    assert f"急：{LABEL} 新会员入会登记 #{first.id}（1号店） http://localhost:5000/cases/{first.id}" in text
    # a text written past the editor (straight into the table) that asks for the member: the
    # post falls back to the default, which has no such placeholder
    db.session.add(MessageTemplateVersion(key="staff_urgent", version=99, created_at=T0,
                                          body="{待办} {姓名} {称呼} {卡号} {链接}"))
    db.session.commit()
    receiver.accepted.clear()
    third = _titled_case(org, first.member, T0 + timedelta(minutes=1))
    assert staff_posts.deliver_due(now=T0 + timedelta(minutes=1)) == 1
    text = next(t for t in _posted(receiver) if f"/cases/{third.id})" in t)
    _assert_useful_and_clean(text, [third])
