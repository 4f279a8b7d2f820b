"""Visit plan pages: who may open which, the plan's forms, recording a visit, HQ's pages; bad
input gets a message and writes nothing; another area's store is a 404."""
from datetime import date, datetime, timedelta, timezone
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from tests.sales.builders import bulk_members
from webapp.calendar import local_midnight_utc
from webapp.extensions import db
from webapp.models import Case, Member, PlanItem, VisitRecord
from webapp.periods import Month
from webapp.services import recurring
from webapp.services import visit_plan as vp

NOV_20 = local_midnight_utc(date(2026, 11, 20)) + timedelta(hours=10)
DEC = Month(2026, 12)


@pytest.fixture
def clock_nov_20():
    with time_machine.travel(NOV_20, tick=False):
        yield


@pytest.fixture
def case(org, clock_nov_20):
    recurring.open_due(now=NOV_20)
    return vp.plan_case(store_id=org.stores[0].id, month=DEC)


@pytest.fixture
def member(org):
    return bulk_members(org.stores[0], 1)[0]


def post_item(client, case, member, **overrides):
    data = {"card_no": member["card_no"], "occasion": "生日回访", "method": "call",
            "associate_id": "", "planned_on": "2026-12-03", "month": "2026-12"}
    data.update(overrides)
    return client.post(f"/visits/plan/{case.id}/items", data=data)


def test_an_associate_proposes_on_the_page_and_bad_input_writes_nothing(org, login, case, member):
    client = login("assoc1")
    page = client.get("/visits/plan").get_data(as_text=True)
    assert "2026-12 客户回访计划" in page and "建议回访项" in page
    response = post_item(client, case, member, associate_id=str(org["assoc1"].id), planned_on="2026-13-01")
    assert response.status_code == 302
    follow = client.get(response.location).get_data(as_text=True)
    assert "回访日期须在2026-12内" in follow
    response = post_item(client, case, member, card_no="NOPE", associate_id=str(org["assoc1"].id))
    assert "请填写本店有效会员的卡号" in client.get(response.location).get_data(as_text=True)
    assert db.session.scalar(select(func.count(PlanItem.id))) == 0
    post_item(client, case, member, associate_id=str(org["assoc1"].id))
    assert db.session.scalar(select(func.count(PlanItem.id))) == 1
    assert "生日回访" in client.get("/visits/plan").get_data(as_text=True)


def test_the_plan_lists_each_members_tier_and_filters_by_it(org, login, case):
    a, c = bulk_members(org.stores[0], 2)
    db.session.execute(update(Member).where(Member.id == a["id"]).values(tier="A"))
    db.session.commit()
    client = login("manager1")
    for m, day in ((a, "2026-12-03"), (c, "2026-12-04")):
        post_item(client, case, m, associate_id=str(org["manager1"].id), planned_on=day)
    every = client.get("/visits/plan?month=2026-12").get_data(as_text=True)
    assert a["card_no"] in every and c["card_no"] in every
    only_a = client.get("/visits/plan?month=2026-12&tier=A").get_data(as_text=True)
    assert a["card_no"] in only_a and c["card_no"] not in only_a
    assert '<option value="A" selected>' in only_a


def test_scoping_and_roles(org, login, case):
    assert login("supervisor2").get(f"/visits/plan?store={org.stores[0].id}").status_code == 404
    assert login("assoc1").get("/visits/hq").status_code == 403
    assert login("assoc1").get("/visits/scorecard").status_code == 403
    assert login("supervisor1").get("/visits/record").status_code == 403
    assert login("hq").get("/visits/plan?month=garbage").status_code == 200


def test_submit_without_remarks_is_refused_and_the_case_page_leads_to_the_plan(org, login, case, member):
    vp.propose_item(actor=org["assoc1"], case=case, card_no=member["card_no"], occasion="x",
                    method="visit", associate_id=org["assoc1"].id, planned_on=date(2026, 12, 3))
    client = login("manager1")
    client.post(f"/cases/{case.id}/set_plan", data={"version": case.version, "comment": ""})
    db.session.refresh(case)
    assert case.state == "reporting"
    response = client.post(f"/visits/plan/{case.id}/submit", data={"version": case.version, "remarks": " "})
    assert "请填写本月回访情况说明" in client.get(response.location).get_data(as_text=True)
    # the generic button cannot skip the report's form either
    client.post(f"/cases/{case.id}/submit", data={"version": case.version, "comment": ""})
    db.session.refresh(case)
    assert case.state == "reporting"
    client.post(f"/visits/plan/{case.id}/submit", data={"version": case.version, "remarks": "完成良好"})
    db.session.refresh(case)
    assert case.state == "review"
    assert client.get(f"/cases/{case.id}").location.endswith(f"/visits/case/{case.id}")


def test_an_item_task_leads_to_the_phone_form_and_a_visit_is_recorded(org, login, case, member):
    [item] = [vp.propose_item(actor=org["assoc1"], case=case, card_no=member["card_no"], occasion="生日",
                              method="call", associate_id=org["assoc1"].id, planned_on=date(2026, 12, 3))]
    from webapp.workflows import engine
    engine.fire(case, "set_plan", org["manager1"], version=case.version)
    db.session.commit()
    dec_3 = local_midnight_utc(date(2026, 12, 3)) + timedelta(hours=10)
    with time_machine.travel(dec_3, tick=False):
        vp.open_item_tasks(now=dec_3)
        db.session.refresh(item)
        client = login("assoc1")
        assert client.get(f"/visits/case/{item.task_case_id}").location.endswith(f"/visits/record?item={item.id}")
        bad = client.post(f"/visits/record?item={item.id}", data={"method": "call", "visited_at": "2026-12-04T10:00",
                                                                  "result": "已接通"})
        assert bad.status_code == 422 and "不能晚于现在" in bad.get_data(as_text=True)
        assert db.session.scalar(select(func.count(VisitRecord.id))) == 0
        ok = client.post(f"/visits/record?item={item.id}", data={"method": "call", "visited_at": "2026-12-03T09:30",
                                                                 "result": "已接通", "follow_up": "1"})
        assert ok.status_code == 302
        assert db.session.get(Case, item.task_case_id).state == "done"
        page = login("supervisor1").get(f"/visits/records?store={org.stores[0].id}&month=2026-12&method=call")
        assert "已接通" in page.get_data(as_text=True)
        assert "已接通" not in login("supervisor1").get(
            f"/visits/records?store={org.stores[0].id}&month=2026-12&method=sms").get_data(as_text=True)


def test_hq_pages_archive_spot_check_and_scorecard_xlsx(org, login, case, member):
    client = login("hq")
    page = client.get("/visits/hq?month=2026-12").get_data(as_text=True)
    assert "S1" in page and "S4" in page
    response = client.post("/visits/hq/archive", data={"month": "2026-12"})
    assert "没有待归档的计划" in client.get(response.location).get_data(as_text=True)
    assert client.get(f"/visits/spot-check?store={org.stores[0].id}&month=2026-11").status_code == 200
    response = client.post("/visits/spot-check", data={"store": org.stores[0].id, "month": "2026-11"})
    assert "该门店本月没有回访记录" in client.get(response.location).get_data(as_text=True)
    assert "门店回访考核" in client.get("/visits/scorecard?month=2026-11").get_data(as_text=True)
    xlsx = client.get("/visits/scorecard.xlsx?month=2026-11")
    sheet = load_workbook(BytesIO(xlsx.data)).active
    assert sheet["A3"].value == "S1" and sheet["B2"].value == "门店"


def test_area_summary_page_for_the_supervisor_only_in_their_area(org, login, clock_nov_20):
    nov_25 = local_midnight_utc(date(2026, 11, 25)) + timedelta(hours=9)
    with time_machine.travel(nov_25, tick=False):
        recurring.open_due(now=nov_25)
        client = login("supervisor1")
        page = client.get("/visits/area-summary").get_data(as_text=True)
        assert "分管终端月度客户回访情况总结报告" in page and "S2" in page and "S3" not in page
        assert login("supervisor2").get(f"/visits/area-summary?area={org.areas[0].id}").status_code == 404
        assert login("manager1").get("/visits/area-summary").status_code == 404
        client = login("supervisor1")
        case = vp.area_summary_case(area_id=org.areas[0].id, month=Month(2026, 11))
        response = client.post("/visits/area-summary", data={"version": case.version, "text": ""})
        assert "请填写总结" in client.get(response.location).get_data(as_text=True)
        client.post("/visits/area-summary", data={"version": case.version, "text": "执行良好"})
        db.session.refresh(case)
        assert case.state == "submitted"
        assert "执行良好" in client.get("/visits/area-summary").get_data(as_text=True)


def test_plan_xlsx_one_store_for_the_store_every_store_for_hq(org, login, case, member):
    vp.propose_item(actor=org["assoc1"], case=case, card_no=member["card_no"], occasion="=生日",
                    method="call", associate_id=org["assoc1"].id, planned_on=date(2026, 12, 3))
    book = load_workbook(BytesIO(login("manager1").get("/visits/plans.xlsx?month=2026-12").data))
    summary, items = book.worksheets
    assert [summary.cell(r, 1).value for r in range(3, summary.max_row + 1)] == ["S1"]
    assert items["F2"].value == "=生日" and items["F2"].data_type == "s"  # text, never a formula
    assert items["I2"].value == "建议"
    book = load_workbook(BytesIO(login("hq").get("/visits/plans.xlsx?month=2026-12").data))
    assert [book.worksheets[0].cell(r, 1).value for r in range(3, 7)] == ["S1", "S2", "S3", "S4"]
    assert login("supervisor2").get(f"/visits/plans.xlsx?store={org.stores[0].id}").status_code == 404


def test_records_are_scoped_and_phones_masked(org, login, case, member):
    vp.record_visit(actor=org["assoc1"], card_no=member["card_no"], method="call",
                    visited_at=NOV_20 - timedelta(hours=1), result="已接通")
    assert login("supervisor2").get(f"/visits/records?store={org.stores[0].id}&month=2026-11").status_code == 404
    page = login("supervisor1").get(f"/visits/records?store={org.stores[0].id}&month=2026-11").get_data(as_text=True)
    assert "已接通" in page and member["mobile"] not in page
    client = login("hq")
    vp.draw_sample(actor=org["hq"], store_id=org.stores[0].id, month=Month(2026, 11))
    page = client.get(f"/visits/spot-check?store={org.stores[0].id}&month=2026-11").get_data(as_text=True)
    assert member["mobile"][-4:] in page and member["mobile"] not in page  # revealed (and audited) on the member page


def test_the_plan_page_speaks_english(org, login, case):
    client = login("manager1")  # the first page rendered in the test (the locale is cached per context)
    assert client.get("/lang/en").status_code == 302
    page = client.get("/visits/plan").get_data(as_text=True)
    assert "customer visit plan 2026-12" in page
    assert "Set next month" in page
    assert "客户回访计划" not in page and "制订下月回访计划" not in page
