"""The outbox: newest first, filtered by store, kind, status and days, a page at a time, each
message with its recipient's name and masked number — for a complaint's customer too."""
from datetime import datetime, timedelta, timezone

import time_machine

from tests.complaint_helpers import record, step
from tests.factories import register
from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.services.cases import fire

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


def _rows(page: str) -> list[str]:
    return page.split("<tr>")[2:]  # after the header row


def test_newest_first_with_the_recipients_name_and_masked_number(org, login):
    with time_machine.travel(T0 - timedelta(days=3), tick=False):
        complaint = record(org, name="赵先生", contact="13900001111", store=0)
        step(org, complaint, "reply", reply_text="已致电致歉。")
    with time_machine.travel(T0, tick=False):
        case = register(org, name="李娜", gender="F", mobile="13811112222")
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    # written last, but the oldest: the list goes by time, not by row number
    db.session.add(OutboxMessage(channel="sms", store_id=org.stores[0].id, recipient="13700007777",
                                 recipient_name="钱女士", template="complaint_reply",
                                 body="最早的一条", created_at=T0 - timedelta(days=30)))
    db.session.commit()

    for username in ("hq", "admin", "manager1"):  # admin sees masked data only
        page = login(username).get("/outbox").get_data(as_text=True)
        rows = _rows(page)
        assert len(rows) == 3
        assert "赵先生" in rows[1] and "139****1111" in rows[1] and "投诉回复" in rows[1]
        assert "李娜" in rows[0] and "138****2222" in rows[0] and "李女士" in rows[0]
        assert "钱女士" in rows[2] and "最早的一条" in rows[2]
        for number in ("13811112222", "13900001111", "13700007777"):
            assert number not in page


def _messages(org, n: int, store: int, template: str, start: datetime):
    db.session.add_all(OutboxMessage(
        channel="sms", store_id=org.stores[store].id, recipient=f"1390000{i:04d}",
        recipient_name=f"顾客{i}", template=template, body=f"短信{store}-{i}",
        created_at=start + timedelta(hours=i)) for i in range(n))
    db.session.commit()


def test_filters_and_pages(org, login):
    _messages(org, 60, 0, "welcome_temporary", T0)          # S1: 11-20 10:00 … 11-22 21:00
    _messages(org, 5, 1, "complaint_reply", T0)             # S2
    _messages(org, 3, 2, "complaint_reply", T0)             # S3, another area
    hq = login("hq")

    page = hq.get("/outbox").get_data(as_text=True)
    assert len(_rows(page)) == 50 and "第 1 / 2 页" in page and "短信0-59" in _rows(page)[0]
    page = hq.get("/outbox?page=2").get_data(as_text=True)
    assert len(_rows(page)) == 18 and "第 2 / 2 页" in page

    s2 = org.stores[1].id
    page = hq.get(f"/outbox?store_id={s2}").get_data(as_text=True)
    assert len(_rows(page)) == 5 and all("短信1-" in r for r in _rows(page))
    page = hq.get("/outbox?template=complaint_reply").get_data(as_text=True)
    assert len(_rows(page)) == 8
    page = hq.get("/outbox?status=sent").get_data(as_text=True)
    assert "暂无短信" in page
    # local days, both included: 11-21 00:00 to 11-21 24:00 Shanghai = hours 14..37 of S1's
    page = hq.get("/outbox?store_id=%d&first_day=2026-11-21&last_day=2026-11-21"
                  % org.stores[0].id).get_data(as_text=True)
    assert len(_rows(page)) == 24
    assert "短信0-37" in _rows(page)[0] and "短信0-14" in _rows(page)[-1]
    # the filters survive paging
    page = hq.get("/outbox?template=welcome_temporary&page=2").get_data(as_text=True)
    assert "template=welcome_temporary" in page and len(_rows(page)) == 10

    # bad input: a message, that filter ignored, no error page
    response = hq.get("/outbox?first_day=2026-13-01&last_day=1999-01-01&store_id=x&page=-3")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "日期格式不正确" in page and "日期应在2000年至2100年之间" in page
    assert len(_rows(page)) == 50
    page = hq.get("/outbox?first_day=2026-11-22&last_day=2026-11-21").get_data(as_text=True)
    assert "截止日期不能早于起始日期" in page

    # a store manager sees their store only, whatever store is asked for
    manager = login("manager1")
    page = manager.get(f"/outbox?store_id={org.stores[2].id}").get_data(as_text=True)
    assert "短信2-" not in page
    assert "短信0-" in manager.get("/outbox").get_data(as_text=True)


def test_past_the_count_cap_the_page_says_more_than_and_pages_on(org, login, monkeypatch):
    from webapp.services import messages

    monkeypatch.setattr(messages, "COUNT_CAP", 60)  # 10,000 in the product
    _messages(org, 68, 0, "welcome_temporary", T0)
    hq = login("hq")
    page = hq.get("/outbox").get_data(as_text=True)
    assert "<small>60+</small>" in page and "第 1 页" in page and "/ 2 页" not in page
    assert "page=2" in page and len(_rows(page)) == 50
    page = hq.get("/outbox?page=2").get_data(as_text=True)
    assert len(_rows(page)) == 18 and "第 2 页" in page and "page=3" not in page
    monkeypatch.setattr(messages, "COUNT_CAP", 68)  # exactly the cap: the count is exact
    page = hq.get("/outbox").get_data(as_text=True)
    assert "<small>68</small>" in page and "第 1 / 2 页" in page
