"""The month's set of visit forms as one A4 PDF with the Chinese text embedded; a supervisor
(who may not reveal phones) gets them masked, HQ in full and audited. The record form and the
spot-check sheet print on their own; the month's set is a batch the worker renders."""
import subprocess
from datetime import date, datetime, timedelta
from io import BytesIO

import time_machine
from pypdf import PdfReader
from rq import SimpleWorker
from sqlalchemy import select

from tests.sales.builders import bulk_members
from webapp.calendar import local_midnight_utc
from webapp.extensions import db
from webapp.models import AuditEvent, BatchJob
from webapp.queue import queue
from webapp.periods import Month
from webapp.services import recurring
from webapp.services import visit_plan as vp
from webapp.services import printing
from webapp.services.visit_forms import form_pdf, month_set_pdf
from webapp.workflows import engine


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "set.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    (tmp_path / "out.pdf").write_bytes(pdf)
    return "".join(text.split())  # narrow cells wrap


NOV_1 = local_midnight_utc(date(2026, 11, 1)) + timedelta(hours=9)


def a_month(org):
    """A store's November: one planned item for December, one visit recorded and sampled."""
    nov_1 = NOV_1
    recurring.open_due(now=nov_1)
    (m,) = bulk_members(org.stores[0], 1)
    case = vp.plan_case(store_id=org.stores[0].id, month=Month(2026, 12))
    vp.propose_item(actor=org["assoc1"], case=case, card_no=m["card_no"], occasion="圣诞问候",
                    method="call", associate_id=org["assoc1"].id, planned_on=date(2026, 12, 24), now=nov_1)
    engine.fire(case, "set_plan", org["manager1"], version=case.version, now=nov_1)
    db.session.commit()
    vp.record_visit(actor=org["assoc1"], card_no=m["card_no"], method="call",
                    visited_at=nov_1, result="已接通，顾客满意", now=nov_1 + timedelta(hours=1))
    vp.draw_sample(actor=org["hq"], store_id=org.stores[0].id, month=Month(2026, 11), now=nov_1)
    return m


def test_month_set_pdf(org, tmp_path):
    nov_1 = NOV_1
    m = a_month(org)
    store = org.stores[0]
    with time_machine.travel(nov_1, tick=False):
        text = text_of(month_set_pdf(reader=org["supervisor1"], store=store, month=Month(2026, 11)), tmp_path)
    assert "专卖店客户回访情况月报表" in text and "客户回访情况登记表" in text and "客户回访抽查表" in text
    assert "圣诞问候" in text and "已接通，顾客满意" in text
    assert m["mobile"] not in text and m["mobile"][:3] in text  # masked for the supervisor
    assert db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all() == []
    with time_machine.travel(nov_1, tick=False):
        pdf = month_set_pdf(reader=org["hq"], store=store, month=Month(2026, 11))
    assert m["mobile"] in text_of(pdf, tmp_path)
    assert len(db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()) == 1
    (tmp_path / "hq.pdf").write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "hq.pdf")], capture_output=True, text=True).stdout
    assert "yes" in fonts.split("\n", 2)[2]  # embedded


def fonts_embedded(pdf: bytes, tmp_path) -> bool:
    (tmp_path / "f.pdf").write_bytes(pdf)
    lines = subprocess.run(["pdffonts", str(tmp_path / "f.pdf")], capture_output=True,
                           text=True, check=True).stdout.splitlines()[2:]
    return bool(lines) and all(" yes " in line for line in lines)


def test_the_record_form_and_the_spot_check_sheet_on_their_own(org, tmp_path, login):
    m = a_month(org)
    store = org.stores[0]
    with time_machine.travel(NOV_1, tick=False):
        records = form_pdf(reader=org["supervisor1"], store=store, month=Month(2026, 11), form="records")
        check = form_pdf(reader=org["supervisor1"], store=store, month=Month(2026, 11), form="spot_check")
    assert len(PdfReader(BytesIO(records)).pages) == 1 == len(PdfReader(BytesIO(check)).pages)
    text = text_of(records, tmp_path)
    assert "客户回访情况登记表" in text and "已接通，顾客满意" in text
    assert "抽查表" not in text and "月报表" not in text
    text = text_of(check, tmp_path)
    assert "客户回访抽查表" in text and m["card_no"] in text and "登记表" not in text
    assert m["mobile"] not in text and m["mobile"][:3] in text
    assert fonts_embedded(records, tmp_path) and fonts_embedded(check, tmp_path)
    with time_machine.travel(NOV_1, tick=False):
        page = login("supervisor1").get(f"/visits/records.pdf?store={store.id}&month=2026-11")
        assert page.status_code == 200 and page.mimetype == "application/pdf"
        assert "inline" in page.headers["Content-Disposition"]
        assert login("supervisor2").get(f"/visits/spot_check.pdf?store={store.id}&month=2026-11").status_code == 404
        assert login("supervisor1").get(f"/visits/other.pdf?store={store.id}").status_code == 404


def test_the_month_set_is_a_batch_one_store_or_every_store_hq_sees(org, login, in_process_jobs, tmp_path):
    m = a_month(org)
    store = org.stores[0]
    with time_machine.travel(NOV_1, tick=False):
        client = login("hq")
        response = client.post("/visits/month-set", data={"store": store.id, "month": "2026-11"})
        assert response.status_code == 302 and "/batches/" in response.location
        client.post("/visits/month-set", data={"month": "2026-11"})  # every store
        assert login("manager3").post("/visits/month-set",
                                      data={"store": store.id, "month": "2026-11"}).status_code == 404
    one, every = db.session.scalars(select(BatchJob).order_by(BatchJob.id)).all()
    assert (one.kind, one.total, every.total) == ("visit_month_set", 1, 4)
    SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    db.session.expire_all()
    assert (one.status, one.done, every.status, every.done) == ("done", 1, "done", 4)
    pdf = open(one.file_path, "rb").read()
    text = text_of(pdf, tmp_path)
    assert "专卖店客户回访情况月报表" in text and "客户回访情况登记表" in text and "客户回访抽查表" in text
    assert m["mobile"] in text and fonts_embedded(pdf, tmp_path)  # HQ may reveal: in full, audited
    reveals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "reveal")).all()
    assert [(e.object_id, e.data["via"]) for e in reveals] == [(m["id"], "pdf")] * 2
    assert len(PdfReader(every.file_path).pages) == 12  # three sheets for each of the four stores
    assert printing.download_names(one) == ("客户回访月度资料-2026-11-S1.pdf", "visit-month-set-2026-11-S1.pdf")
