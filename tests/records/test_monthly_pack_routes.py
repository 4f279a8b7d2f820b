"""The pack's pages: HQ reviews from the page and downloads the month as one PDF and one workbook
(a sheet per analysis and scope level); a store sees its own archived page only."""
import io
from datetime import datetime, timezone

import time_machine
from openpyxl import load_workbook
from pypdf import PdfReader

from sqlalchemy import func, select

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.extensions import db
from webapp.models import BatchJob
from webapp.services import monthly_pack, printing

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)


def test_review_from_the_page_and_download_the_pack(org, login):
    members = bulk_members(org.stores[0], 10)
    import_sales(org["hq"], [sale("S1", "A1", "2026-10-12 15:00", "300", card=members[0]["card_no"])])
    client = login("hq")
    with time_machine.travel(NOW, tick=False):
        assert client.get("/pack/").headers["Location"].endswith("/pack/2026-10")
        page = client.get("/pack/2026-10?scope=store:%d" % org.stores[1].id).get_data(as_text=True)
        assert "尚未审核" in page and "本月没有销售" in page
        refused = client.post("/pack/2026-10/pack.pdf", follow_redirects=True)  # nothing archived yet
        assert "尚未审核存档" in refused.get_data(as_text=True)
        assert db.session.scalar(select(func.count()).select_from(BatchJob)) == 0
        response = client.post("/pack/2026-10/review", data={"comment": "已核对"})
        assert response.status_code == 302  # to the review's page: a worker files the month
        monthly_pack.run_review(db.session.scalars(select(BatchJob.id)).one())  # what it runs
    page = client.get("/pack/2026-10").get_data(as_text=True)
    assert "已审核存档" in page and "已核对" in page
    batch = client.post("/pack/2026-10/pack.pdf")  # a filing batch: a worker lays it out
    assert "/batches/" in batch.headers["Location"]
    job = db.session.scalars(select(BatchJob).where(BatchJob.kind == "analysis_pack")).one()
    assert job.kind == "analysis_pack" and job.total == 7  # the company, 2 areas, 4 stores
    printing.render_batch(job.id)  # what the worker runs
    pdf = client.get(f"/batches/{job.id}/download")
    assert "analysis-pack-2026-10.pdf" in pdf.headers["Content-Disposition"]
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "会员消费水平分析表" in text and "1号店" in text and "hq名" in text
    book = load_workbook(io.BytesIO(client.get("/pack/2026-10/pack.xlsx").data))
    assert len(book.sheetnames) == 12 and "会员消费水平分析表-门店" in book.sheetnames
    # a store manager: their own archived page, not another store's, and no review button
    manager = login("manager1")
    own = manager.get("/pack/2026-10")
    assert own.status_code == 200 and "已审核存档" in own.get_data(as_text=True)
    assert "review-button" not in own.get_data(as_text=True)
    assert manager.get("/pack/2026-10?scope=store:%d" % org.stores[2].id).status_code == 404
    assert manager.post("/pack/2026-10/review").status_code == 403
    sheets = load_workbook(io.BytesIO(manager.get("/pack/2026-10/pack.xlsx").data)).sheetnames
    assert sheets == [s for s in sheets if s.endswith("-门店")] and len(sheets) == 4


def test_bad_month_is_404(org, login):
    client = login("hq")
    assert client.get("/pack/2026-13").status_code == 404
    assert client.get("/pack/2026").status_code == 404
