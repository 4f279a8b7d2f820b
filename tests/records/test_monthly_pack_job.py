"""HQ's review of the month runs in a worker: the click is checked and recorded, one review per
month runs at a time whoever clicks, the page says 审核中… until the reviewed month shows, and a
review that failed says why and can be asked again. The month's task is ticked off by the
reviewer (the audit names them, not 系统), in the job's transaction."""
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from rq import SimpleWorker
from rq.job import Job
from sqlalchemy import func, select

from tests.sales.builders import bulk_members, import_sales, sale
from webapp.extensions import db
from webapp.models import AnalysisSnapshot, AuditEvent, BatchJob, Case, Role
from webapp.queue import queue
from webapp.services import batch_jobs, monthly_pack, recurring

DEC_1 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # Tuesday 1 December, 09:00 Shanghai
LATER = DEC_1 + timedelta(hours=1)


@pytest.fixture
def november(org):
    """A sale in November and the month's review case, opened on 1 December."""
    members = bulk_members(org.stores[0], 5)
    import_sales(org["hq"], [sale("S1", "N1", "2026-11-12 15:00", "300", card=members[0]["card_no"])])
    with time_machine.travel(DEC_1, tick=False):
        recurring.open_due(now=DEC_1)
    return db.session.scalars(select(Case).where(Case.process == "monthly_pack")).one()


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_one_review_per_month_runs_in_the_worker_and_the_reviewer_ticks_the_task(
        org, november, in_process_jobs):
    with time_machine.travel(LATER, tick=False):
        job, created = monthly_pack.request_review(actor=org["hq"], period="2026-11", comment="已核对")
        assert created and job.status == "queued" and job.params["comment"] == "已核对"
        assert (job.requested_by.username, job.total) == ("hq", 7)  # the company, 2 areas, 4 stores
        again, created = monthly_pack.request_review(actor=org["hq_manager"], period="2026-11")
        assert (again.id, created) == (job.id, False)  # a second click starts nothing
        assert _count(BatchJob) == 1 and queue().count == 1
        assert _count(AnalysisSnapshot) == 0 and november.state == "due"  # nothing filed yet
        SimpleWorker([queue()], connection=queue().connection).work(burst=True)
    db.session.expire_all()
    job = db.session.get(BatchJob, job.id)
    assert (job.status, job.params["version"], job.active_key, job.done) == ("done", 1, None, 7)
    snapshot = monthly_pack.latest(period="2026-11", scope="company")
    assert (snapshot.reviewed_by.username, snapshot.comment, snapshot.reviewed_at) == ("hq", "已核对", LATER)
    assert db.session.get(Case, november.id).state == "reviewed"
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == november.id,
                                                        AuditEvent.action == "reviewed")).one()
    assert audit.actor.username == "hq" and audit.comment == "已核对"
    with time_machine.travel(LATER, tick=False):  # done: the month may be reviewed again
        assert monthly_pack.request_review(actor=org["hq_manager"], period="2026-11")[1]


def test_refusals_write_and_queue_nothing(org, november, login):
    with time_machine.travel(LATER, tick=False):
        for actor, period, comment, message in (
                ("manager1", "2026-11", "", "只有总部客服可以审核月度分析"),
                ("hq", "2026-12", "", "2026-12 尚未结束，不能审核"),
                ("hq", "2027-01", "", "2027-01 尚未结束，不能审核"),
                ("hq", "2026-11", "长" * 2001, "审核意见不能超过2000字")):
            with pytest.raises(monthly_pack.Refused, match=message):
                monthly_pack.request_review(actor=org[actor], period=period, comment=comment)
        client = login("hq")
        response = client.post("/pack/2026-12/review", data={"comment": "早了"}, follow_redirects=True)
        assert "2026-12 尚未结束，不能审核" in response.get_data(as_text=True)
        assert login("manager1").post("/pack/2026-11/review").status_code == 403
    assert _count(BatchJob) == 0 and queue().count == 0 and _count(AnalysisSnapshot) == 0


def test_the_page_says_reviewing_then_shows_the_reviewed_month(org, november, login):
    with time_machine.travel(LATER, tick=False):
        client = login("hq")
        response = client.post("/pack/2026-11/review", data={"comment": "11月已核对", "scope": "company"})
        assert response.headers["Location"].endswith("/pack/2026-11/review?scope=company")
        status = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "审核中…" in status and 'http-equiv="refresh"' in status and "11月已核对" in status
        assert "审核中…" in client.get("/pack/2026-11").get_data(as_text=True)  # and no second form
        other = login("hq_manager").post("/pack/2026-11/review", data={"comment": "再点一次"},
                                         follow_redirects=True).get_data(as_text=True)
        assert "的审核已在进行中" in other and "未重复提交" in other and _count(BatchJob) == 1
        [job] = db.session.scalars(select(BatchJob)).all()
        assert monthly_pack.run_review(job.id) == 1  # what the worker runs
        done = client.get("/pack/2026-11/review?scope=company", follow_redirects=True).get_data(as_text=True)
    assert "已审核 2026-11 的月度分析（第1版）" in done and "已审核存档" in done and "11月已核对" in done


def test_a_failed_review_says_why_and_is_asked_again(org, november, login):
    with time_machine.travel(LATER, tick=False):
        job, _ = monthly_pack.request_review(actor=org["hq"], period="2026-11", comment="第一次")
        org["hq"].role = Role.STORE_MANAGER  # moved to a store before the worker got to it
        db.session.commit()
        assert monthly_pack.run_review(job.id) is None
        db.session.expire_all()
        job = db.session.get(BatchJob, job.id)
        assert (job.status, job.error, job.active_key) == ("failed", "只有总部客服可以审核月度分析", None)
        assert _count(AnalysisSnapshot) == 0 and db.session.get(Case, november.id).state == "due"
        client = login("hq_manager")
        page = client.get("/pack/2026-11/review").get_data(as_text=True)
        assert "审核未完成" in page and "只有总部客服可以审核月度分析" in page and "retry-button" in page
        assert 'http-equiv="refresh"' not in page and "第一次" in page  # the comment, to send again
        assert "上次审核未完成" in client.get("/pack/2026-11").get_data(as_text=True)
        retry = client.post("/pack/2026-11/review", data={"comment": "第一次"})
        assert retry.status_code == 302 and _count(BatchJob) == 2
        again = db.session.scalars(select(BatchJob).order_by(BatchJob.id.desc())).first()
        assert monthly_pack.run_review(again.id) == 1
    assert db.session.get(Case, november.id).state == "reviewed"
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.case_id == november.id,
                                                        AuditEvent.action == "reviewed")).one()
    assert audit.actor.username == "hq_manager"


def test_a_review_whose_job_was_lost_frees_the_month(org, november, login):
    """A worker killed hard (or Redis emptied) records nothing: the queue no longer holding the
    job is what tells the request died."""
    with time_machine.travel(LATER, tick=False):
        job, _ = monthly_pack.request_review(actor=org["hq"], period="2026-11")
    with time_machine.travel(LATER + timedelta(hours=3), tick=False):  # waiting in a long queue
        assert monthly_pack.request_review(actor=org["hq"], period="2026-11") == (job, False)
        assert "审核中…" in login("hq").get("/pack/2026-11/review").get_data(as_text=True)
        Job.fetch(f"batch-{job.id}", connection=queue().connection).delete()  # lost
        page = login("hq").get("/pack/2026-11/review").get_data(as_text=True)
        assert "后台任务已中断" in page and "retry-button" in page
        new, created = monthly_pack.request_review(actor=org["hq"], period="2026-11")
    assert created and new.id != job.id
    assert (job.status, job.error) == ("failed", batch_jobs.LOST)
    assert monthly_pack.run_review(job.id) is None  # the old one, should it turn up, does nothing
