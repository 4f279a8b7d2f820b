"""A day's approved application forms render as one PDF in a real RQ worker, with progress."""
from datetime import datetime, timezone

import time_machine
from pypdf import PdfReader
from rq import SimpleWorker

from tests.factories import register
from webapp.extensions import db
from webapp.models import BatchJob
from webapp.queue import queue
from webapp.services.cases import fire
from webapp.services.printing import start_batch, start_day_batch


def test_batch_of_a_days_approved_forms(org, in_process_jobs):
    day = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai
    with time_machine.travel(day, tick=False):
        names = ["甲一", "乙二", "丙三"]
        for name in names:
            case = register(org, name=name)
            fire(actor=org["hq"], case=case, transition="approve", version=case.version)
        register(org, name="未审")  # pending: not part of the filing batch
        batch = start_day_batch(user=org["hq"], day=day.date())
    assert batch.total == 3 and batch.status == "queued"
    SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    db.session.expire_all()
    batch = db.session.get(BatchJob, batch.id)
    assert (batch.status, batch.done) == ("done", 3)
    reader = PdfReader(batch.file_path)
    text = "".join(page.extract_text() for page in reader.pages)
    assert len(reader.pages) == 3
    assert all(name in text for name in names) and "未审" not in text


def test_batch_page_is_private_to_who_asked(org, login, client, in_process_jobs):
    batch = start_batch(user=org["hq"], kind="application_forms", params={"day": "2026-11-20"})
    assert login("hq").get(f"/batches/{batch.id}?format=json").json["status"] == "queued"
    client.post("/logout")
    assert login("hq_manager").get(f"/batches/{batch.id}").status_code == 404


def test_the_day_of_a_batch_is_the_local_day_of_approval(org, login, in_process_jobs):
    """Approved at 00:28 in Shanghai on 30 Nov (16:28 UTC on the 29th): the 30th's form, asked
    for at 00:30 local that night; the 29th has none and says so instead of a blank PDF."""
    with time_machine.travel(datetime(2026, 11, 29, 16, 28, tzinfo=timezone.utc), tick=False):
        case = register(org, name="午夜后")
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)
    with time_machine.travel(datetime(2026, 11, 29, 16, 30, tzinfo=timezone.utc), tick=False):
        client = login("hq")
        assert 'value="2026-11-30"' in client.get("/registrations/print").data.decode()
        empty = client.post("/registrations/print", data={"day": "2026-11-29"})
        assert empty.status_code == 422
        assert "2026-11-29 没有审核通过的入会申请，无需打印。" in empty.data.decode()
        assert db.session.query(BatchJob).count() == 0
        response = client.post("/registrations/print", data={"day": "2026-11-30"})
    assert response.status_code == 302
    batch = db.session.query(BatchJob).one()
    assert batch.total == 1
    SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    db.session.expire_all()
    text = "".join(p.extract_text() for p in PdfReader(db.session.get(BatchJob, batch.id)
                                                       .file_path).pages)
    assert "午夜后" in text
