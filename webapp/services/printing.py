"""Printing: one form in the request, a day's forms as a batch job with progress."""
from __future__ import annotations

from datetime import date
from pathlib import Path

from flask import current_app

from ..extensions import db
from ..models import BatchJob, Member, User
from . import members as member_service


def member_form_pdf(member: Member) -> bytes:
    """One 《入会申请表》 with its temporary card."""
    from ..pdf import render_pdf

    return render_pdf("application_form.html", forms=[member_service.form_context(member)])


def start_day_batch(*, user: User, day: date) -> BatchJob:
    """Queue the filing batch of a day's approved applications; the worker renders it."""
    total = len(member_service.approved_on(user, day))
    batch = BatchJob(kind="application_forms", requested_by_id=user.id,
                     params={"day": day.isoformat()}, total=total)
    db.session.add(batch)
    db.session.commit()
    from ..queue import queue

    queue().enqueue("jobs.printing.render_batch", batch.id, job_id=f"batch-{batch.id}",
                    job_timeout=1800)
    return batch


def render_batch(batch_id: int) -> None:
    """Worker side: render every form of the batch, recording progress as it goes."""
    from ..pdf import render_many

    batch = db.session.get(BatchJob, batch_id)
    if batch is None or batch.status == "done":
        return
    user = db.session.get(User, batch.requested_by_id)
    members = member_service.approved_on(user, date.fromisoformat(batch.params["day"]))
    batch.status, batch.total, batch.done = "running", len(members), 0
    db.session.commit()

    def progress(done: int, total: int) -> None:
        batch.done = done
        db.session.commit()

    data = render_many("application_form.html", [member_service.form_context(m) for m in members],
                       progress=progress)
    path = Path(current_app.instance_path) / "batches" / f"batch-{batch.id}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    batch.file_path, batch.status, batch.done = str(path), "done", len(members)
    db.session.commit()
