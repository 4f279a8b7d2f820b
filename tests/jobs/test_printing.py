"""A day's approved application forms render as one PDF in a real RQ worker, with progress; a
batch that fails (its render raised, or its worker died) says so on its page, with the reason and
a button that renders it again."""
from datetime import datetime, timedelta, timezone

import time_machine
from pypdf import PdfReader
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import func, select

from tests.factories import register
from webapp.extensions import db
from webapp.models import BatchJob, Role
from webapp.queue import queue
from webapp.services import batch_jobs
from webapp.services.cases import fire
from webapp.services.printing import render_batch, start_batch, start_day_batch

ASKED = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai


def work() -> None:
    SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    db.session.expire_all()


def an_approved_form(org) -> None:
    with time_machine.travel(ASKED, tick=False):
        case = register(org, name="甲一")
        fire(actor=org["hq"], case=case, transition="approve", version=case.version)


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


def test_a_batch_whose_render_raises_says_why_stops_reloading_and_renders_again(
        org, login, in_process_jobs, monkeypatch, caplog):
    """The page shows a short reason, not the error's text (it may quote a member's data); the
    worker's log keeps the traceback. 重新生成 asks again with the same day, as a new batch."""
    an_approved_form(org)

    def broken(*args, **kwargs):
        raise RuntimeError("模板 application_form.html 第3行: 13800001234")

    with time_machine.travel(ASKED, tick=False):
        client = login("hq")
        batch_id = int(client.post("/registrations/print", data={"day": "2026-11-20"})
                       .location.rsplit("/", 1)[1])
        assert 'http-equiv="refresh"' in client.get(f"/batches/{batch_id}").get_data(as_text=True)
        with monkeypatch.context() as patch:
            patch.setattr("webapp.pdf.render_many", broken)
            work()
        failed = db.session.get(BatchJob, batch_id)
        assert (failed.status, failed.error) == ("failed", "生成PDF时出错，详情已记入日志")
        assert "Traceback" in caplog.text and "13800001234" in caplog.text
        page = client.get(f"/batches/{batch_id}").get_data(as_text=True)
        assert "生成失败" in page and "生成PDF时出错，详情已记入日志" in page and "retry-button" in page
        assert 'http-equiv="refresh"' not in page and "13800001234" not in page
        assert "RuntimeError" not in page and "location.reload" not in page
        assert client.get(f"/batches/{batch_id}?format=json").json["status"] == "failed"
        retry = client.post(f"/batches/{batch_id}/retry")
        new = db.session.scalars(select(BatchJob).order_by(BatchJob.id.desc())).first()
        assert retry.location.endswith(f"/batches/{new.id}") and new.id != batch_id
        assert (new.kind, new.params, new.status) == ("application_forms", {"day": "2026-11-20"}, "queued")
        work()
        assert db.session.get(BatchJob, new.id).status == "done"
        assert "下载PDF" in client.get(f"/batches/{new.id}").get_data(as_text=True)
        again = client.post(f"/batches/{new.id}/retry")  # done: nothing to render again
        assert again.location.endswith(f"/batches/{new.id}") and _count() == 2


def test_render_again_checks_the_permission_again_and_is_the_owners_alone(org, login, in_process_jobs):
    an_approved_form(org)
    with time_machine.travel(ASKED, tick=False):
        batch = start_batch(user=org["hq"], kind="application_forms", params={"day": "2026-11-20"})
        batch_jobs.fail(batch, batch_jobs.FAILED)
        assert login("hq_manager").post(f"/batches/{batch.id}/retry").status_code == 404
        org["hq"].role = Role.STORE_MANAGER  # moved to a store since
        db.session.commit()
        page = login("hq").post(f"/batches/{batch.id}/retry", follow_redirects=True).get_data(as_text=True)
    assert "你已没有打印这批资料的权限" in page and "retry-button" in page and _count() == 1


def test_a_batch_whose_job_was_lost_shows_failed_after_the_grace_period(org, login, in_process_jobs):
    """A worker killed hard records nothing: the queue no longer holding the job (or holding it
    as failed) is what tells, two minutes after the request at the earliest."""
    an_approved_form(org)
    with time_machine.travel(ASKED, tick=False):
        lost = start_batch(user=org["hq"], kind="application_forms", params={"day": "2026-11-20"})
        broken = start_batch(user=org["hq"], kind="application_forms", params={"day": "2026-11-20"})
    rq_job = Job.fetch(f"batch-{broken.id}", connection=queue().connection)
    rq_job.set_status("failed")  # the work horse died: RQ says failed, the row says queued
    Job.fetch(f"batch-{lost.id}", connection=queue().connection).delete()
    client = login("hq")
    with time_machine.travel(ASKED + timedelta(minutes=1), tick=False):  # within the grace period
        page = client.get(f"/batches/{lost.id}").get_data(as_text=True)
        assert "正在生成" in page and 'http-equiv="refresh"' in page
    with time_machine.travel(ASKED + timedelta(minutes=3), tick=False):
        for batch in (lost, broken):
            page = client.get(f"/batches/{batch.id}").get_data(as_text=True)
            assert "后台任务已中断（工作进程退出或任务丢失）" in page and "retry-button" in page
            assert 'http-equiv="refresh"' not in page
        retry = client.post(f"/batches/{lost.id}/retry")
    db.session.expire_all()
    assert (lost.status, lost.error) == ("failed", batch_jobs.LOST) and _count() == 3
    render_batch(lost.id)  # the old job, should it turn up, renders nothing
    assert db.session.get(BatchJob, lost.id).file_path is None
    assert retry.location.endswith(f"/batches/{db.session.scalar(select(func.max(BatchJob.id)))}")


def _count() -> int:
    return db.session.query(BatchJob).count()


def test_a_batch_asked_while_the_queue_is_down_says_so_and_is_recorded_failed(org, login, redis_down):
    an_approved_form(org)
    client = login("hq")
    response = client.post("/registrations/print", data={"day": "2026-11-20"},
                           headers={"Referer": "http://localhost/registrations/print"})
    assert response.status_code == 303 and response.headers["Location"] == "/registrations/print"
    page = client.get("/registrations/print").get_data(as_text=True)
    assert "后台任务队列暂不可用，请稍后重试" in page
    batch = db.session.scalars(select(BatchJob)).one()
    assert batch.status == "failed" and batch.error == batch_jobs.QUEUE_DOWN
