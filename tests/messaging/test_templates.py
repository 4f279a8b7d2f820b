"""Message templates the administrator edits: placeholders by their Chinese names, a preview with
a real member and the SMS count, every save a version, and the next message uses the new text."""
import re
from datetime import datetime, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import register
from webapp import outbox
from webapp.extensions import db
from webapp.models import AuditEvent, MessageTemplateVersion, OutboxMessage
from webapp.services.cases import fire

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)


def _approve(org, **member):
    with time_machine.travel(T0, tick=False):
        case = register(org, **member)
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    return case


def _sms(name: str) -> OutboxMessage:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_name == name))


def test_the_seed_texts_use_full_width_punctuation():
    for key, (_label, text) in (outbox.TEMPLATES | outbox.SCRIPTS).items():
        assert not re.search(r"[,!?;:()]", text), key


def test_sms_segments_70_then_67_per_part():
    assert outbox.sms_segments("短" * 70) == 1
    assert outbox.sms_segments("短" * 71) == 2
    assert outbox.sms_segments("短" * 134) == 2
    assert outbox.sms_segments("短" * 135) == 3
    assert outbox.sms_segments("a" * 160) == 1


def test_admin_edits_the_welcome_and_the_next_approval_uses_it(org, login):
    _approve(org, name="李娜", gender="F", mobile="13811112222")
    first = _sms("李娜").body
    assert first.startswith("李女士，诚挚感谢您选择") and "," not in first

    admin = login("admin")
    page = admin.get("/admin/templates/welcome_temporary").get_data(as_text=True)
    assert "{称呼}，诚挚感谢您选择{品牌}" in page and "{姓名}" in page  # placeholders by name
    response = admin.post("/admin/templates/welcome_temporary", data={
        "action": "save", "body": "{姓名}您好，欢迎加入{品牌}{门店}，您的积分是{积分}分。"})
    assert response.status_code == 302
    page = admin.get("/admin/templates/welcome_temporary").get_data(as_text=True)
    assert "第 1 版" in page and "已保存为第 1 版" in page

    _approve(org, name="王强", gender="M", mobile="13822223333", username="assoc1")
    assert re.fullmatch(r"王强您好，欢迎加入.+，您的积分是\d+分。", _sms("王强").body)
    assert _sms("李娜").body == first  # what went out stays as it was
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "template_saved"))

    admin.post("/admin/templates/welcome_temporary", data={"action": "save", "body": "{称呼}，欢迎！"})
    page = admin.get("/admin/templates/welcome_temporary").get_data(as_text=True)
    assert "第 2 版" in page and "第 1 版" in page
    assert outbox.template_text("welcome_temporary") == "{称呼}，欢迎！"


@pytest.mark.parametrize("body, message", [
    ("{称呼}，您的{余额}元", "未知的占位符：{余额}"),
    ("{称呼，您好", "花括号不成对"),
    ("   ", "模板内容不能为空"),
    ("{回复内容}", "未知的占位符：{回复内容}"),  # a welcome has no complaint reply to fill
])
def test_a_bad_template_is_refused_with_a_message_and_nothing_saved(org, login, body, message):
    admin = login("admin")
    response = admin.post("/admin/templates/welcome_temporary", data={"action": "save", "body": body})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(MessageTemplateVersion)) is None


def test_live_preview_with_a_real_member_and_the_sms_count(org, login):
    _approve(org, name="李娜", gender="F", mobile="13811112222")
    member = _sms("李娜").member
    admin = login("admin")
    preview = admin.post("/admin/templates/points_formal/preview", data={
        "body": "{称呼}，您在{消费日期}消费{消费金额}元，积分{积分}分。", "card_no": member.card_no}).get_json()
    assert preview["text"].startswith("李女士，您在") and preview["segments"] == 1
    assert member.card_no in preview["member"] and preview["errors"] == {}
    preview = admin.post("/admin/templates/points_formal/preview", data={
        "body": "{称呼}" + "长" * 80}).get_json()
    assert preview["length"] == 83 and preview["segments"] == 2
    preview = admin.post("/admin/templates/points_formal/preview", data={
        "body": "{称呼}", "card_no": "000"}).get_json()
    assert "没有找到这个卡号的会员" in preview["errors"]["card_no"]


def test_call_scripts_are_edited_the_same_way(org, login):
    admin = login("admin")
    assert admin.post("/admin/templates/pickup_call", data={
        "action": "save", "body": "{称呼}，您好，我是{门店}的{导购}。"}).status_code == 302
    _approve(org, name="李娜", gender="F", mobile="13811112222")
    member = _sms("李娜").member
    assert outbox.script_text("pickup_call", member).startswith("李女士，您好，我是")


def test_only_the_administrator_and_unknown_keys_are_404(org, login):
    for username in ("hq", "manager1", "assoc1"):
        client = login(username)
        assert client.get("/admin/templates/").status_code == 403
        assert client.post("/admin/templates/welcome_temporary",
                           data={"action": "save", "body": "x"}).status_code == 403
        client.post("/logout")
    admin = login("admin")
    assert admin.get("/admin/templates/").status_code == 200
    assert admin.get("/admin/templates/nope").status_code == 404
    assert admin.post("/admin/templates/nope/preview", data={"body": "x"}).status_code == 404


def test_the_points_e_mail_and_the_holiday_greeting_preview_with_their_own_blanks(org, login):
    """The care batch's e-mail (issue #14) previews with the member's usable points and an
    occasion, as the holiday greeting does; its default text has them all."""
    _approve(org, name="李娜", gender="F", mobile="13811112222")
    admin = login("admin")
    for key in ("care_points_email", "care_holiday"):
        body = outbox.display_text(outbox.default_text(key))
        preview = admin.post(f"/admin/templates/{key}/preview", data={"body": body}).get_json()
        assert preview["errors"] == {} and preview["text"].startswith("李女士"), (key, preview)
    assert "可用积分0分" in admin.post("/admin/templates/care_points_email/preview", data={
        "body": "{称呼}，可用积分{可用积分}分"}).get_json()["text"]
