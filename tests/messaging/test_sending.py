"""SMS leaving through Alibaba Cloud or Tencent Cloud: their official SDKs against local servers
that check each request's signature as the provider documents it; each outbox row sent once,
retried after a temporary failure, never twice after a worker dies; quiet hours for marketing,
opt-out by reply, dead numbers skipped, delivery receipts on a signed URL."""
import os
import re
import signal
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from sqlalchemy import select

from tests.factories import register
from webapp import outbox, sms
from webapp.extensions import db
from webapp.models import Member, OutboxMessage
from webapp.services.cases import fire
from webapp.services.sending import send_queued

from .providers import ProviderServer

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


@pytest.fixture(params=["aliyun", "tencent"])
def provider(request):
    server = ProviderServer(request.param)
    yield server
    server.close()


def _approve(org, name="李娜", mobile="13811112222") -> OutboxMessage:
    with time_machine.travel(T0, tick=False):
        case = register(org, name=name, gender="F", mobile=mobile)
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient_name == name))


def _send(provider, now=T0, environ=None):
    return send_queued(now=now, sender=sms.sender(environ or provider.environ()))


def _sent_to(provider, request) -> str:
    return request["PhoneNumbers"] if provider.provider == "aliyun" else request["PhoneNumberSet"][0]


def test_a_welcome_goes_out_signed_with_the_mapped_template_and_is_delivered(org, provider, client):
    message = _approve(org)
    assert message.status == "queued" and message.segments == outbox.sms_segments(message.body)
    assert _send(provider) == 1
    assert provider.bad_signatures == 0 and len(provider.requests) == 1
    request = provider.requests[0]
    assert _sent_to(provider, request) in ("13811112222", "+8613811112222")
    if provider.provider == "aliyun":
        assert request["TemplateCode"] == "SMS_100" and request["OutId"] == f"crm-{message.id}"
        assert '"salutation": "李女士"' in request["TemplateParam"]
    else:
        assert request["TemplateId"] == "SMS_100" and request["SessionContext"] == f"crm-{message.id}"
        assert request["TemplateParamSet"][0] == "李女士" and request["SignName"] == "某男装"
    db.session.refresh(message)
    assert message.status == "sent" and message.provider == provider.provider
    assert message.provider_message_id in ("biz-1", "serial-1") and message.attempts == 1

    # the provider's receipt on the signed URL: delivered; an unsigned URL changes nothing
    receipt = ({"out_id": f"crm-{message.id}", "biz_id": "biz-1", "success": True,
                "err_code": "DELIVERED"} if provider.provider == "aliyun" else
               {"sid": "serial-1", "report_status": "SUCCESS", "errmsg": "DELIVRD",
                "mobile": "13811112222"})
    assert client.post(f"/sms/receipts/{provider.provider}/forged", json=[receipt]).status_code == 404
    db.session.refresh(message)
    assert message.status == "sent"
    token = sms.callback_token(provider.provider, "receipts")
    assert client.post(f"/sms/receipts/{provider.provider}/{token}", json=[receipt]).status_code == 200
    db.session.refresh(message)
    assert message.status == "delivered" and message.delivered_at is not None

    # a second run sends nothing again
    assert _send(provider, now=T0 + timedelta(hours=1)) == 0 and len(provider.requests) == 1


def test_a_wrong_secret_is_refused_by_the_provider_and_the_message_fails(org, provider):
    message = _approve(org)
    environ = provider.environ()
    key = "ALIYUN_ACCESS_KEY_SECRET" if provider.provider == "aliyun" else "TENCENTCLOUD_SECRET_KEY"
    _send(provider, environ=environ | {key: "wrong"})
    assert provider.bad_signatures == 1 and provider.requests == []
    db.session.refresh(message)
    assert message.status == "failed" and message.error


def test_retry_after_a_5xx_and_throttling_with_back_off_then_give_up_on_a_hard_failure(org, provider):
    message = _approve(org)
    provider.answers = ["5xx", "throttle", "ok"]
    _send(provider)
    db.session.refresh(message)
    assert message.status == "queued" and message.attempts == 1
    assert message.next_attempt_at == T0 + timedelta(minutes=1)
    assert _send(provider, now=T0 + timedelta(seconds=30)) == 0 and len(provider.requests) == 1
    _send(provider, now=T0 + timedelta(minutes=1))          # throttled: wait 5 minutes more
    db.session.refresh(message)
    assert message.status == "queued" and message.attempts == 2
    assert _send(provider, now=T0 + timedelta(minutes=6, seconds=1)) == 1
    db.session.refresh(message)
    assert message.status == "sent" and len(provider.requests) == 3

    other = _approve(org, name="王芳", mobile="13822223333")
    provider.answers = ["fail"]
    _send(provider, now=T0 + timedelta(minutes=7))
    db.session.refresh(other)
    assert other.status == "failed" and other.attempts == 1 and "13822223333" not in other.error


@pytest.mark.commits  # a real worker process must see the committed message
def test_a_worker_killed_between_the_send_and_the_commit_never_sends_twice(org, provider, app):
    message = _approve(org)
    provider.release.clear()                     # the provider answers only when we say
    pid = os.fork()
    if pid == 0:                                 # the worker: its own connections
        try:
            db.engine.dispose(close=False)
            with app.app_context():
                _send(provider)
        finally:
            os._exit(0)
    assert provider.received.wait(20)            # the provider has the message …
    os.kill(pid, signal.SIGKILL)                 # … and the worker dies before it records that
    os.waitpid(pid, 0)
    provider.release.set()
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "sending"

    assert _send(provider, now=T0 + timedelta(minutes=1)) == 0     # another worker: not its row
    assert _send(provider, now=T0 + timedelta(minutes=11)) == 0    # stale: unknown, not resent
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.status == "unknown" and len(provider.requests) == 1


def test_marketing_waits_for_daytime_carries_the_opt_out_and_respects_it(org, provider, client):
    welcome = _approve(org)
    member = welcome.member
    evening = datetime(2026, 11, 20, 14, 30, tzinfo=timezone.utc)   # 22:30 in Shanghai
    with time_machine.travel(evening, tick=False):
        launch = outbox.queue_sms(member, "season_launch")
        db.session.commit()
    assert launch.body.endswith("回TD退订")
    _send(provider, now=evening)
    db.session.refresh(launch)
    assert launch.status == "queued" and [r for r in provider.requests if "SMS_200" in str(r)] == []
    assert launch.next_attempt_at == datetime(2026, 11, 21, 0, 0, tzinfo=timezone.utc)  # 08:00
    _send(provider, now=datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc))
    db.session.refresh(launch)
    assert launch.status == "queued"
    _send(provider, now=datetime(2026, 11, 21, 0, 0, tzinfo=timezone.utc))
    db.session.refresh(launch)
    assert launch.status == "sent"

    # the member replies TD through the provider's uplink: no more marketing, service still goes
    token = sms.callback_token(provider.provider, "uplink")
    reply = ({"phone_number": "13811112222", "content": "TD", "sign_name": "某男装"}
             if provider.provider == "aliyun" else {"mobile": "13811112222", "text": "td"})
    assert client.post(f"/sms/uplink/{provider.provider}/{token}", json=[reply]).status_code == 200
    db.session.refresh(member)
    assert member.sms_opt_out_at is not None
    morning = datetime(2026, 11, 21, 2, 0, tzinfo=timezone.utc)
    with time_machine.travel(morning, tick=False):
        again = outbox.queue_sms(member, "season_launch")
        service = outbox.queue_sms(member, "welcome_formal")
        db.session.commit()
    before = len(provider.requests)
    _send(provider, now=morning)
    db.session.refresh(again)
    db.session.refresh(service)
    assert again.status == "failed" and "退订" in again.error
    assert service.status == "sent" and len(provider.requests) == before + 1


def test_a_dead_number_gets_nothing(org, provider):
    message = _approve(org)
    db.session.get(Member, message.member_id).mobile_dead_at = T0
    db.session.commit()
    _send(provider)
    db.session.refresh(message)
    assert message.status == "failed" and provider.requests == []


def test_outbox_only_by_default_and_no_plain_http_to_another_host(org):
    message = _approve(org)
    assert sms.sender({}) is None and send_queued(now=T0, sender=None) == 0
    db.session.refresh(message)
    assert message.status == "queued"
    with pytest.raises(sms.ConfigError):
        sms.sender({"SMS_PROVIDER": "aliyun", "ALIYUN_ACCESS_KEY_ID": "a",
                    "ALIYUN_ACCESS_KEY_SECRET": "b", "ALIYUN_SMS_SIGN_NAME": "c",
                    "ALIYUN_SMS_ENDPOINT": "http://sms.example.com"})


def test_per_store_and_month_sent_delivered_failed_and_parts_on_the_page_and_in_xlsx(org, login):
    from io import BytesIO

    from openpyxl import load_workbook

    s1, s3 = org.stores[0], org.stores[2]

    def row(store, status, at, segments=1, sent=True):
        db.session.add(OutboxMessage(channel="sms", store_id=store.id, recipient="13900000000",
                                     template="welcome_temporary", body="x", status=status,
                                     segments=segments, created_at=at,
                                     sent_at=at if sent else None))
    nov = datetime(2026, 11, 10, 2, tzinfo=timezone.utc)
    row(s1, "delivered", nov, 2)
    row(s1, "failed", nov, 1)                     # reached the provider, then failed
    row(s1, "failed", nov, 1, sent=False)         # never left (dead number): no cost
    row(s1, "queued", nov, 3, sent=False)
    row(s1, "sent", datetime(2026, 11, 30, 16, 30, tzinfo=timezone.utc))  # 12-01 00:30 local
    row(s3, "delivered", nov, 1)
    db.session.commit()

    page = login("hq").get("/outbox/stats?year=2026").get_data(as_text=True)
    rows = page.split("<tr>")[2:]
    assert len(rows) == 3
    assert "2026-11" in rows[0] and s1.name in rows[0]
    assert [c for c in re.findall(r"<td>(\d+)</td>", rows[0])] == ["2", "1", "2", "3"]
    assert "2026-12" in rows[2] and s1.name in rows[2]
    book = load_workbook(BytesIO(login("hq").get("/outbox/stats.xlsx?year=2026").data))
    assert [c.value for c in book.active[2]] == ["2026-11", s1.name, 2, 1, 2, 3]

    page = login("manager1").get("/outbox/stats?year=2026").get_data(as_text=True)
    assert s3.name not in page and s1.name in page            # a store sees its own
    for bad in ("abc", "²", "99999"):
        assert login("manager1").get(f"/outbox/stats?year={bad}").status_code == 200


def test_staff_mark_a_member_as_opted_out_of_marketing(org, login):
    member = _approve(org).member
    page = login("manager1").get(f"/members/{member.id}").get_data(as_text=True)
    assert "标记为不接收" in page
    response = login("manager1").post(f"/members/{member.id}/sms-opt-out", data={"opt_out": "1"})
    assert response.status_code == 302
    db.session.refresh(member)
    assert member.sms_opt_out_at is not None
    page = login("manager1").get(f"/members/{member.id}").get_data(as_text=True)
    assert "已退订" in page and "恢复接收" in page
    # outside the store's scope: as if it did not exist; the administrator may not
    login("manager1").post("/logout")
    assert login("manager3").post(f"/members/{member.id}/sms-opt-out",
                                  data={"opt_out": "0"}).status_code == 404
    login("manager3").post("/logout")
    assert login("admin").post(f"/members/{member.id}/sms-opt-out",
                               data={"opt_out": "0"}).status_code == 404
    db.session.refresh(member)
    assert member.sms_opt_out_at is not None


def test_a_rate_limit_per_provider_holds_the_rest_for_the_next_second(org, provider, monkeypatch):
    first = _approve(org)
    second = _approve(org, name="王芳", mobile="13822223333")
    monkeypatch.setenv("SMS_RATE_PER_SECOND", "1")
    at = T0 + timedelta(seconds=7)   # a second of its own in Redis
    assert _send(provider, now=at) == 1
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.status == "sent" and second.status == "queued"
    assert second.next_attempt_at == at + timedelta(seconds=1) and second.attempts == 0
    assert _send(provider, now=at + timedelta(seconds=1)) == 1 and len(provider.requests) == 2
