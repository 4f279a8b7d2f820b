"""The month's expiry list pages (issue #12): store scoping, filters, xlsx, the PDF batch, renew and pay."""
import re
import subprocess
from datetime import date, datetime, timezone
from io import BytesIO

import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader
from rq import SimpleWorker
from sqlalchemy import select, update

from tests.sales.builders import bulk_members
from webapp.extensions import db
from webapp.models import BatchJob, CardRenewal, Case, Member
from webapp.queue import queue
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


def test_the_list_shows_each_members_tier_and_filters_by_it(org, login):
    a, b = listed(org)
    db.session.execute(update(Member).where(Member.id == b["id"]).values(tier="A"))
    db.session.commit()
    with time_machine.travel(LATER, tick=False):
        hq = login("hq")
        page = hq.get("/expiry/?month=2027-01").get_data(as_text=True)
        assert "<th>级别</th>" in page and "<td>A</td><td>3号店</td>" in page
        only_a = hq.get("/expiry/?month=2027-01&tier=A").get_data(as_text=True)
        assert b["card_no"] in only_a and a["card_no"] not in only_a
        assert '<option value="A" selected>' in only_a and 'name="tier" value="A"' in only_a
        only_c = hq.get("/expiry/list.xlsx?month=2027-01&tier=C").data
        cells = [c.value for row in load_workbook(BytesIO(only_c)).active.iter_rows() for c in row]
        assert a["card_no"] in cells and b["card_no"] not in cells and "C" in cells
        hq.post("/expiry/list/print", data={"month": "2027-01", "tier": "A"})
    batch = db.session.scalars(select(BatchJob)).one()
    assert batch.total == 1 and batch.params["tier"] == "A"  # only b's store has a section


def test_a_bad_month_is_a_message_not_an_error(org, login):
    listed(org)
    with time_machine.travel(LATER, tick=False):
        response = login("hq").get("/expiry/?month=2027-13")
    assert response.status_code == 200 and "月份格式应为" in response.get_data(as_text=True)


def work():
    SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    db.session.expire_all()


def test_xlsx_and_the_pdf_batch_of_the_list(org, login, tmp_path, in_process_jobs):
    """The list's PDF is a filing batch the worker renders: one section per store, the store
    manager's only their own, an empty filter a message and no batch."""
    a, b = listed(org)
    with time_machine.travel(LATER, tick=False):
        client = login("manager1")
        book = load_workbook(BytesIO(client.get("/expiry/list.xlsx?month=2027-01").data))
        cells = [c.value for row in book.active.iter_rows() for c in row]
        assert a["card_no"] in cells and b["card_no"] not in cells and a["mobile"] not in cells
        response = client.post("/expiry/list/print", data={"month": "2027-01"})
        assert response.status_code == 302 and "/batches/" in response.location
        batch = db.session.scalars(select(BatchJob)).one()
        assert (batch.kind, batch.total, batch.status) == ("expiry_list", 1, "queued")
        work()
        assert client.get(f"/batches/{batch.id}?format=json").json == {"status": "done", "done": 1, "total": 1}
        download = client.get(f"/batches/{batch.id}/download")
        assert download.mimetype == "application/pdf"
        path = tmp_path / "list.pdf"
        path.write_bytes(download.data)
        text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                              text=True).stdout
        assert "01月到期会员名单" in text and a["card_no"] in text and b["card_no"] not in text
        assert a["mobile"] not in text and "2026-12-02" in text  # masked; the day it was asked for
        assert "级别" in text and re.search(a["card_no"] + r".*\bC\b\s+1号店", text)  # the tier column
        # HQ: every store, one section (page) each; a filter with nobody → a message, no batch
        hq = login("hq")
        hq.post("/expiry/list/print", data={"month": "2027-01"})
        empty = hq.post("/expiry/list/print", data={"month": "2027-01", "state": "lapsed"},
                        follow_redirects=True)
        assert "名单上没有可打印的会员" in empty.get_data(as_text=True)
        bad = hq.post("/expiry/list/print", data={"month": "2027-13"}, follow_redirects=True)
        assert "月份格式应为" in bad.get_data(as_text=True)
        assert db.session.query(BatchJob).count() == 2
        work()
    full = db.session.scalars(select(BatchJob).order_by(BatchJob.id.desc())).first()
    reader = PdfReader(full.file_path)
    assert full.total == 2 and len(reader.pages) == 2
    assert b["card_no"] in reader.pages[1].extract_text() and a["card_no"] in reader.pages[0].extract_text()


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
