"""Compliance figures checked against a hand-computed set of complaints."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from io import BytesIO

import pytest
import time_machine
from openpyxl import load_workbook

from tests.complaint_helpers import record, step
from webapp.services import complaint_stats

NOW = datetime(2026, 11, 20, 0, 0, tzinfo=timezone.utc)


def at(moment, fn, *args, **kw):
    with time_machine.travel(moment, tick=False):
        return fn(*args, **kw)


def handle(org, case, start, reply_h, solve_h=None, revisit_d=None, score=None):
    at(start + timedelta(hours=reply_h), step, org, case, "reply", reply_text="收到")
    if solve_h is None:
        return
    at(start + timedelta(hours=solve_h - 1), step, org, case, "propose", solution_text="退款")
    at(start + timedelta(hours=solve_h - 1), step, org, case, "consent", consent_by="顾客", consent_how="phone")
    at(start + timedelta(hours=solve_h), step, org, case, "carry_out")
    if revisit_d is not None:
        solved = start + timedelta(hours=solve_h)
        at(solved + timedelta(days=revisit_d), step, org, case, "revisit", revisit_note="已回访")
        at(solved + timedelta(days=revisit_d), step, org, case, "survey", survey_score=score)


@pytest.fixture
def month_of_complaints(org):
    def new(day, store):
        start = datetime(2026, 11, day, 2, 0, tzinfo=timezone.utc)
        return start, at(start, record, org, store=store, received_at=start, now=start)

    start, a = new(2, 0)
    handle(org, a, start, reply_h=2, solve_h=30, revisit_d=3, score=5)   # all on time
    start, b = new(3, 0)
    handle(org, b, start, reply_h=30, solve_h=50, revisit_d=9, score=3)  # all three late
    start, c = new(10, 0)
    handle(org, c, start, reply_h=1)                                     # solution overdue, open
    new(5, 1)                                                            # never answered
    at(datetime(2026, 10, 30, 2, 0, tzinfo=timezone.utc), record, org, store=0)  # October: not counted
    return org


def test_figures_match_the_hand_computation(month_of_complaints):
    org = month_of_complaints
    rows = complaint_stats.compliance(user=org["hq"], scope="company", scope_id=None,
                                      month=date(2026, 11, 1), now=NOW)
    table = complaint_stats.table(rows)
    assert table == [
        ["1号店", 3, "66.7%", "33.3%", "50.0%", "4.0", 1, 1],
        ["2号店", 1, "0.0%", "0.0%", "—", "—", 1, 0],
        ["合计", 4, "50.0%", "25.0%", "50.0%", "4.0", 2, 1],
    ]
    assert rows[-1].rates["solution"] == Decimal("25.0")


def test_area_supervisor_sees_only_their_area(month_of_complaints):
    org = month_of_complaints
    rows = complaint_stats.compliance(user=org["supervisor1"], scope="area",
                                      scope_id=org.areas[0].id, month=date(2026, 11, 1), now=NOW)
    assert [r.name for r in rows] == ["1号店", "2号店", "合计"]
    with pytest.raises(complaint_stats.ScopeRefused):
        complaint_stats.compliance(user=org["supervisor2"], scope="area", scope_id=org.areas[0].id,
                                   month=date(2026, 11, 1), now=NOW)
    with pytest.raises(complaint_stats.ScopeRefused):
        complaint_stats.compliance(user=org["manager3"], scope="store", scope_id=org.stores[0].id,
                                   month=date(2026, 11, 1), now=NOW)


def test_xlsx_holds_the_table_and_a_chart(month_of_complaints):
    org = month_of_complaints
    rows = complaint_stats.compliance(user=org["hq"], scope="company", scope_id=None,
                                      month=date(2026, 11, 1), now=NOW)
    sheet = load_workbook(BytesIO(complaint_stats.xlsx(rows, "2026-11"))).active
    assert sheet["A3"].value == "1号店" and sheet["C3"].value == pytest.approx(66.7)
    assert len(sheet._charts) == 1


def test_compliance_page_and_download(month_of_complaints, login):
    client = login("hq")
    page = client.get("/complaints/compliance?scope=company&month=2026-11").data.decode()
    assert "66.7%" in page and "<svg" in page
    response = client.get("/complaints/compliance?scope=company&month=2026-11&format=xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    assert login("manager3").get(
        f"/complaints/compliance?scope=area&scope_id=1&month=2026-11").status_code == 404


def test_the_figures_judge_the_first_contact_and_the_proposal(org):
    """Issue #9.1/#9.2 on the compliance page: a reply time agreed after 24 h is a late reply;
    a solution proposed at +10 h and agreed by the customer at +50 h is on time."""
    start = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)
    late = at(start, record, org, received_at=start, now=start)
    at(start + timedelta(hours=30), step, org, late, "escalate", agreed_reply_at=start + timedelta(hours=40))
    at(start + timedelta(hours=35), step, org, late, "propose", username="hq_manager", solution_text="退款")
    quick = at(start, record, org, received_at=start, now=start)
    at(start + timedelta(hours=10), step, org, quick, "reply", reply_text="收到")
    at(start + timedelta(hours=10), step, org, quick, "propose", solution_text="换货")
    at(start + timedelta(hours=50), step, org, quick, "consent", consent_by="赵先生", consent_how="phone")
    at(start + timedelta(hours=51), step, org, quick, "carry_out")
    total = complaint_stats.compliance(user=org["hq"], scope="company", scope_id=None,
                                       month=date(2026, 11, 1), now=start + timedelta(hours=60))[-1]
    assert total.reply == (1, 2) and total.solution == (2, 2) and total.late == 1
