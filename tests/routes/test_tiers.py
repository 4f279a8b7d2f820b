"""Tier pages: the store manager's proposal list (filtered by tier, bulk apply), the manual
change with a reason on the member page, HQ's recompute on demand; who may and may not."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from tests.sales.builders import bulk_members
from webapp.extensions import db
from webapp.models import Case, Member
from webapp.services import tiers

NIGHT = datetime(2026, 11, 28, 19, 0, tzinfo=timezone.utc)


def members_with(org, points, tier="C", store=0):
    rows = bulk_members(org.stores[store], len(points))
    for row, p in zip(rows, points):
        db.session.execute(db.update(Member).where(Member.id == row["id"]).values(points=p, tier=tier))
    db.session.commit()
    return rows


def test_manager_filters_by_tier_and_applies_in_bulk(org, login):
    a, b = members_with(org, [6000, 2500])
    (c,) = members_with(org, [6000], tier="B")
    tiers.review(now=NIGHT)
    client = login("manager1")
    page = client.get("/tiers?tier=C").data.decode()
    assert a["card_no"] in page and b["card_no"] in page and c["card_no"] not in page
    assert "C→A" in page and 'name="case"' in page
    ids = db.session.scalars(select(Case.id).where(Case.process == "tier_change",
                                                   Case.member_id.in_([a["id"], b["id"]]))).all()
    response = client.post("/tiers", data={"action": "apply", "case": [str(i) for i in ids],
                                           "tier": "C"}, follow_redirects=True)
    assert "已处理 2 条" in response.data.decode()
    db.session.expire_all()
    assert [db.session.get(Member, m["id"]).tier for m in (a, b, c)] == ["A", "B", "B"]
    detail = client.get(f"/members/{a['id']}").data.decode()
    assert "C级 → A级" in detail and "manager1名" in detail


def test_an_associate_sees_the_list_but_may_not_decide(org, login):
    (a,) = members_with(org, [6000])
    tiers.review(now=NIGHT)
    client = login("assoc1")
    page = client.get("/tiers").data.decode()
    assert a["card_no"] in page and 'name="case"' not in page
    case_id = db.session.scalar(select(Case.id).where(Case.process == "tier_change"))
    assert client.post("/tiers", data={"action": "apply", "case": str(case_id)}).status_code == 403
    assert client.post(f"/members/{a['id']}/tier", data={"tier": "A", "reason": "x"},
                       follow_redirects=True).status_code == 200
    db.session.expire_all()
    assert db.session.get(Member, a["id"]).tier == "C"


def test_bad_input_is_a_message_and_changes_nothing(org, login):
    (a,) = members_with(org, [100])
    client = login("manager1")
    page = client.post(f"/members/{a['id']}/tier", data={"tier": "A", "reason": " "},
                       follow_redirects=True).data.decode()
    assert "手工调整等级须填写原因" in page
    page = client.post(f"/members/{a['id']}/tier", data={"tier": "Z", "reason": "特殊"},
                       follow_redirects=True).data.decode()
    assert "请选择A、B或C类" in page
    assert "请先勾选等级调整建议" in client.post("/tiers", data={"action": "apply", "case": "abc"},
                                               follow_redirects=True).data.decode()
    assert client.post("/tiers", data={"action": "drop"}).status_code == 400
    db.session.expire_all()
    assert db.session.get(Member, a["id"]).tier == "C"
    other = members_with(org, [100], store=2)[0]
    assert client.post(f"/members/{other['id']}/tier", data={"tier": "A", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("status, message", [("pending", "该会员尚在总部审核中，审核通过后才能调整等级"),
                                             ("lapsed", "会员卡已失效，续卡后才能调整等级")])
def test_no_manual_change_for_a_member_who_is_not_active(org, login, status, message):
    (m,) = bulk_members(org.stores[0], 1, status=status)
    client = login("manager1")
    form = f'action="/members/{m["id"]}/tier"'
    assert form not in client.get(f"/members/{m['id']}").data.decode()
    page = client.post(f"/members/{m['id']}/tier", data={"tier": "A", "reason": "团购大客户"},
                       follow_redirects=True).data.decode()
    assert message in page and "已调整客户等级" not in page
    db.session.expire_all()
    assert db.session.get(Member, m["id"]).tier == "C"
    assert not tiers.history(db.session.get(Member, m["id"]))
    (active,) = bulk_members(org.stores[0], 1)
    assert f'action="/members/{active["id"]}/tier"' in client.get(f"/members/{active['id']}").data.decode()


def test_manual_change_with_a_reason_shows_in_the_timeline(org, login):
    (a,) = members_with(org, [100])
    client = login("manager1")
    page = client.post(f"/members/{a['id']}/tier", data={"tier": "B", "reason": "团购大客户"},
                       follow_redirects=True).data.decode()
    assert "已调整客户等级" in page and "C级 → B级" in page and "团购大客户" in page


def test_hq_recomputes_on_demand(org, login):
    members_with(org, [6000])
    client = login("hq")
    page = client.post("/tiers/recompute", follow_redirects=True).data.decode()
    assert "新增调整建议 1 条" in page
    assert login("manager1").post("/tiers/recompute").status_code == 403


def test_member_upkeep_pages(org, login):
    (a,) = members_with(org, [100])
    client = login("manager1")
    page = client.get(f"/members/{a['id']}").data.decode()
    assert "更换分管导购" in page and "标记为空号/停机" in page
    page = client.post(f"/members/{a['id']}/associate", data={"associate_id": str(org["assoc1b"].id)},
                       follow_redirects=True).data.decode()
    assert "已更换分管导购" in page
    page = client.post(f"/members/{a['id']}/associate", data={"associate_id": "x"},
                       follow_redirects=True).data.decode()
    assert "请选择本店在职的导购" in page
    page = client.post(f"/members/{a['id']}/mobile-status", data={"dead": "1"},
                       follow_redirects=True).data.decode()
    assert "已更新号码状态" in page and "号码已更正/可接通" in page
    assert a["card_no"] in client.get(f"/members?q={a['mobile'][-4:]}").data.decode()
    response = client.get("/members/roster.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert "attachment" in response.headers["Content-Disposition"]
    assert login("hq").get("/members/roster.xlsx").status_code == 403
    assert "更换分管导购" not in login("assoc1").get(f"/members/{a['id']}").data.decode()
