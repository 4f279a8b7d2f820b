"""A day's approved application forms render as one PDF in a real RQ worker, with progress."""
from datetime import datetime, timezone

import pytest
import time_machine
from pypdf import PdfReader
from rq import SimpleWorker

from tests.factories import register
from webapp.extensions import db
from webapp.models import BatchJob
from webapp.queue import queue
from webapp.services.cases import fire
from webapp.services.printing import start_day_batch


@pytest.fixture
def in_process_jobs(app, monkeypatch):
    """Jobs build their app lazily; in tests they must use the test app."""
    import jobs

    monkeypatch.setattr(jobs, "app", lambda: app)


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
    batch = start_day_batch(user=org["hq"], day=datetime(2026, 11, 20).date())
    assert login("hq").get(f"/batches/{batch.id}?format=json").json["status"] == "queued"
    client.post("/logout")
    assert login("hq_manager").get(f"/batches/{batch.id}").status_code == 404
