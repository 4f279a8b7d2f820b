"""The month's expiry list pages (issue #12): store scoping, filters, xlsx, PDF, renew and pay."""
import subprocess
from datetime import date, datetime, timezone
from io import BytesIO

import time_machine
from openpyxl import load_workbook
from sqlalchemy import select

from tests.sales.builders import bulk_members
from webapp.extensions import db
from webapp.models import CardRenewal, Case, Member
from webapp.services.recurring import open_due

DEC1 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
LATER = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)


def listed(org):
    a = bulk_members(org.stores[0], 1, expires=date(2027, 1, 15))[0]
    b = bulk_members(org.stores[2], 1, expires=date(2027, 1, 31))[0]
    with time_machine.travel(DEC1, tick=False):
        open_due(now=DEC1)
    return a, b


def case_of(m):
    return db.session.scalars(select(Case).where(Case.member_id == m["id"],
                                                 Case.process == "expiry_call")).one()


def test_hq_sees_every_store_and_a_store_manager_only_their_own(org, login):
    a, b = listed(org)
    with time_machine.travel(LATER, tick=False):
        page = login("hq").get("/expiry/?month=2027-01").get_data(as_text=True)
        assert a["card_no"] in page and b["card_no"] in page and "《01月到期会员名单》" in page
        assert "139" in page and a["mobile"] not in page  # masked
        only = login("hq").get(f"/expiry/?month=2027-01&store={org.stores[2].id}").get_data(as_text=True)
        assert a["card_no"] not in only and b["card_no"] in only
        page = login("manager1").get("/expiry/?month=2027-01").get_data(as_text=True)
        assert a["card_no"] in page and b["card_no"] not in page
        page = login("manager1").get(f"/expiry/?month=2027-01&store={org.stores[2].id}").get_data(as_text=True)
        assert b["card_no"] not in page


def test_a_bad_month_is_a_message_not_an_error(org, login):
    listed(org)
    with time_machine.travel(LATER, tick=False):
        response = login("hq").get("/expiry/?month=2027-13")
    assert response.status_code == 200 and "月份格式应为" in response.get_data(as_text=True)


def test_xlsx_and_pdf_of_the_list(org, login, tmp_path):
    a, b = listed(org)
    with time_machine.travel(LATER, tick=False):
        client = login("manager1")
        book = load_workbook(BytesIO(client.get("/expiry/list.xlsx?month=2027-01").data))
        cells = [c.value for row in book.active.iter_rows() for c in row]
        assert a["card_no"] in cells and b["card_no"] not in cells and a["mobile"] not in cells
        response = client.get("/expiry/list.pdf?month=2027-01")
    assert response.mimetype == "application/pdf"
    path = tmp_path / "list.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True).stdout
    assert "01月到期会员名单" in text and a["card_no"] in text and b["card_no"] not in text


def test_hq_renews_and_pays_from_the_old_expiry_date_bad_fee_changes_nothing(org, login):
    a, _ = listed(org)
    case = case_of(a)
    with time_machine.travel(LATER, tick=False):
        client = login("hq")
        response = client.post(f"/expiry/cases/{case.id}/renew",
                               data={"fee": "abc", "store_id": org.stores[1].id, "version": case.version})
        assert response.status_code == 422 and "年费金额" in response.get_data(as_text=True)
        assert db.session.scalars(select(CardRenewal)).all() == []
        response = client.post(f"/expiry/cases/{case.id}/renew",
                               data={"fee": "50.00", "store_id": org.stores[1].id, "version": case.version})
        assert response.status_code == 302
        page = client.get(f"/members/{a['id']}").get_data(as_text=True)
    assert "2028-01-15" in page
    db.session.expire_all()
    assert db.session.get(Member, a["id"]).card_expires_on == date(2028, 1, 15)
    [r] = db.session.scalars(select(CardRenewal)).all()
    assert (r.fee_fen, r.paid_store_id) == (5000, org.stores[1].id)


def test_a_store_cannot_record_a_renewal(org, login):
    a, _ = listed(org)
    with time_machine.travel(LATER, tick=False):
        response = login("manager1").post(f"/expiry/cases/{case_of(a).id}/renew",
                                          data={"fee": "0", "store_id": org.stores[0].id, "version": 1})
    assert response.status_code == 403


def test_figures_per_store(org, login):
    a, b = listed(org)
    with time_machine.travel(LATER, tick=False):
        client = login("hq")
        client.post(f"/expiry/cases/{case_of(a).id}/renew",
                    data={"fee": "50", "store_id": org.stores[0].id, "version": 1})
        page = client.get("/expiry/?month=2027-01").get_data(as_text=True)
    figures = page.split('id="expiry-figures"')[1]
    assert "<td>1号店</td><td>1</td><td>0</td><td>1</td>" in figures
    assert "<td>3号店</td><td>1</td><td>0</td><td>0</td>" in figures


def test_the_member_list_labels_an_expired_card(org, login):
    bulk_members(org.stores[0], 1, expires=date(2026, 11, 1))
    with time_machine.travel(LATER, tick=False):
        page = login("hq").get("/members").get_data(as_text=True)
    assert "已过期" in page


def test_the_store_manager_is_notified_that_the_list_is_out(org, login):
    listed(org)
    with time_machine.travel(LATER, tick=False):
        page = login("manager1").get("/notifications").get_data(as_text=True)
        assert "到期名单已发布" in page and "/expiry/?month=2027-01" in page
        assert "到期名单已发布" not in login("assoc1").get("/notifications").get_data(as_text=True)
