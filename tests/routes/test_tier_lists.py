"""The tier folders of the complaints list and the outbox ("different tiers kept in different
folders", SPEC §2): ?tier=A|B|C keeps the rows that concern a member of that tier, rows without a
member show under 全部 only, any other value filters nothing (no error page), and the outbox's
count and pages are those of the folder."""
from datetime import datetime, timedelta, timezone

import time_machine

from tests.complaint_helpers import record
from tests.factories import register
from webapp.extensions import db
from webapp.models import OutboxMessage

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai


def _rows(page: str) -> list[str]:
    return page.split("<tr>")[2:]  # after the header row


def _member(org, tier: str, mobile: str, name: str, username: str = "assoc1"):
    member = register(org, username=username, mobile=mobile, name=name).member
    member.tier = tier
    db.session.commit()
    return member


def test_complaints_by_tier(org, login):
    with time_machine.travel(T0, tick=False):
        _member(org, "A", "13700000001", "甲会员")
        _member(org, "B", "13700000002", "乙会员")
        _member(org, "A", "13700000003", "丙会员", username="assoc3")  # S3's member
        record(org, name="甲会员", contact="13700000001", store=0)
        record(org, name="乙会员", contact="13700000002", store=0)
        record(org, name="丙会员", contact="13700000003", store=0)  # complained at S1
        record(org, name="路人甲", contact="13900009999", store=0)  # no member

    hq = login("hq")
    page = hq.get("/complaints/").get_data(as_text=True)
    assert len(_rows(page)) == 4 and "路人甲" in page
    page = hq.get("/complaints/?tier=A").get_data(as_text=True)
    names = "".join(_rows(page))
    assert len(_rows(page)) == 2 and "甲会员" in names and "丙会员" in names
    assert '<option value="A" selected' in page
    page = hq.get("/complaints/?tier=B&kind=direct").get_data(as_text=True)
    assert len(_rows(page)) == 1 and "乙会员" in _rows(page)[0]
    page = hq.get("/complaints/?tier=C").get_data(as_text=True)
    assert "该级别会员暂无投诉。" in page and "路人甲" not in page

    # S1's associate sees every complaint received at S1, but under a tier only those about
    # members they may see: S3's member's tier is not theirs to learn
    assoc = login("assoc1")
    assert len(_rows(assoc.get("/complaints/").get_data(as_text=True))) == 4
    page = assoc.get("/complaints/?tier=A").get_data(as_text=True)
    assert len(_rows(page)) == 1 and "甲会员" in page and "丙会员" not in page

    # an unknown tier filters nothing, and says nothing went wrong
    for bad in ("D", "a", "", "%E4%B8%AD", "A'--"):
        response = hq.get(f"/complaints/?tier={bad}")
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert len(_rows(page)) == 4 and '<option value="" selected' not in page
        assert "selected" not in page.split('name="tier"')[1].split("</select>")[0]


def _messages(member_id, n: int, store_id: int, label: str):
    db.session.add_all(OutboxMessage(
        channel="sms", store_id=store_id, member_id=member_id, recipient=f"1390000{i:04d}",
        recipient_name=f"顾客{i}", template="welcome_temporary", body=f"短信{label}-{i}",
        created_at=T0 + timedelta(hours=i)) for i in range(n))
    db.session.commit()


def test_outbox_by_tier_counts_and_pages(org, login):
    with time_machine.travel(T0, tick=False):
        a = _member(org, "A", "13700000001", "甲会员")
        b = _member(org, "B", "13700000002", "乙会员")
    db.session.query(OutboxMessage).delete()  # whatever registering wrote
    s1 = org.stores[0].id
    _messages(a.id, 60, s1, "A")
    _messages(b.id, 5, s1, "B")
    _messages(None, 3, s1, "N")  # no member (a complaint's customer, a contact)
    hq = login("hq")

    page = hq.get("/outbox?tier=A").get_data(as_text=True)
    assert "<small>60</small>" in page and "第 1 / 2 页" in page
    assert len(_rows(page)) == 50 and all("短信A-" in r for r in _rows(page))
    assert "tier=A" in page.split('class="pager"')[1]  # the folder survives paging
    page = hq.get("/outbox?tier=A&page=2").get_data(as_text=True)
    assert len(_rows(page)) == 10 and "第 2 / 2 页" in page and "短信A-0<" in page
    page = hq.get("/outbox?tier=B").get_data(as_text=True)
    assert "<small>5</small>" in page and len(_rows(page)) == 5 and 'class="pager"' not in page
    assert all("短信B-" in r and "139****" in r for r in _rows(page))
    assert "13900000001" not in page  # still masked
    page = hq.get("/outbox?tier=C").get_data(as_text=True)
    assert "<small>0</small>" in page and "发给该级别会员的短信暂无。" in page
    # with the other filters
    page = hq.get(f"/outbox?tier=B&store_id={org.stores[1].id}").get_data(as_text=True)
    assert "<small>0</small>" in page
    page = hq.get("/outbox?tier=A&first_day=2026-11-21&last_day=2026-11-21").get_data(as_text=True)
    assert "<small>24</small>" in page  # hours 14..37 of the A member's messages

    # unknown values: the whole outbox, no error
    for bad in ("X", "ab", "%FF", "1"):
        response = hq.get(f"/outbox?tier={bad}")
        assert response.status_code == 200 and "<small>68</small>" in response.get_data(as_text=True)

    # a manager of another store sees none of S1's messages in any folder
    page = login("manager3").get("/outbox?tier=A").get_data(as_text=True)
    assert "<small>0</small>" in page
