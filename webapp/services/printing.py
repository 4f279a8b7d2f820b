"""Printing: one form in the request; filing batches (a day's applications, a month's complaints)
rendered by a worker with progress recorded on the BatchJob row."""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from .. import permissions
from ..periods import Month
from ..crypto import mask_days, mask_mobile, mask_text
from ..extensions import db
from ..i18n_labels import N_, Refusal
from ..models import BatchJob, Case, Complaint, Member, User
from . import batch_jobs, members as member_service

class NothingToPrint(Refusal, ValueError):
    """The batch would be empty: said so instead of a blank PDF."""


TITLES = {"application_forms": "入会申请表", "complaint_forms": "顾客投诉意见处理表",
          "daily_sheets": "今日工作单", "visit_month_set": "客户回访月度资料",
          "expiry_list": "到期会员名单", "analysis_pack": "月度会员分析"}
# The application form's personal fields, masked as the member page masks them.
MEMBER_MASKS = {"mobile": mask_mobile, "address": lambda v: mask_text(v, 3),
                "work_address": lambda v: mask_text(v, 3), "email": lambda v: mask_text(v, 1),
                "birth_date": lambda v: v[:4] + "-**-**", "anniversary": mask_days}


def member_context(member: Member, *, reader: User) -> dict:
    """The application form as `reader` may see the member on screen."""
    context = member_service.form_context(member)
    fields = [name for name in MEMBER_MASKS if context.get(name)]
    if permissions.can(reader, "member.reveal", member):
        context["printed_in_full"] = ("member", member.id, fields) if fields else None
    else:
        context.update({name: MEMBER_MASKS[name](str(context[name])) for name in fields})
    return context


def member_form_pdf(member: Member, *, reader: User) -> bytes:
    """One 《入会申请表》 with its temporary card; an unmasked print is audited."""
    from ..pdf import render_pdf

    items = [member_context(member, reader=reader)]
    data = render_pdf("application_form.html", forms=items)
    member_service.audit_printed(reader=reader, items=items)
    db.session.commit()
    return data


def _month_complaints(user: User, month: date) -> list[Complaint]:
    start, end = Month.of(month).window()
    return db.session.scalars(
        select(Complaint).join(Case, Case.id == Complaint.case_id)
        .where(permissions.case_filter(user), Complaint.received_at >= start,
               Complaint.received_at < end).order_by(Complaint.received_at)).all()


def _items(kind: str, user: User, params: dict) -> tuple[str, list[dict]]:
    """The template and the per-page contexts of a batch."""
    if kind == "application_forms":
        members = member_service.approved_on(user, date.fromisoformat(params["day"]))
        return "application_form.html", [member_context(m, reader=user) for m in members]
    if kind == "daily_sheets":
        from .routine import store_sheets
        return "daily_sheet.html", store_sheets(actor=user, day=date.fromisoformat(params["day"]))
    if kind == "visit_month_set":
        from .visit_forms import batch_items

        return "visit_month_set.html", batch_items(reader=user, params=params)
    if kind == "expiry_list":
        from .expiry import list_batch_items

        return "expiry_list.html", list_batch_items(reader=user, params=params)
    if kind == "analysis_pack":
        from .monthly_pack import pdf_items

        return "analysis_pack.html", pdf_items(reader=user, period=params["month"])
    from .complaint_forms import form_context

    rows = _month_complaints(user, date.fromisoformat(params["month"]))
    return "complaint_form.html", [form_context(c, reader=user) for c in rows]


def start_batch(*, user: User, kind: str, params: dict, total: int | None = None) -> BatchJob:
    """Queue a filing batch; the worker renders it. `total`: the number of items when the
    caller counted them cheaply (else they are built once here to count them)."""
    if total is None:
        total = len(_items(kind, user, params)[1])
    batch = BatchJob(kind=kind, requested_by_id=user.id, params=params, total=total)
    db.session.add(batch)
    db.session.commit()
    batch_jobs.enqueue(batch, "jobs.printing.render_batch", timeout=1800)
    return batch


def start_day_batch(*, user: User, day: date) -> BatchJob:
    """The day's approved applications, for HQ filing; NothingToPrint when there are none."""
    if not member_service.approved_on(user, day):
        raise NothingToPrint(N_("%(day)s 没有审核通过的入会申请，无需打印。"), day=day.isoformat())
    return start_batch(user=user, kind="application_forms", params={"day": day.isoformat()})


def start_store_sheets(*, user: User, day: date) -> BatchJob:
    """The store manager's shop-floor sheets of `day`, one page per associate, as one batch
    (services/routine.store_sheets refuses anyone else)."""
    from .routine import RoutineError, store_sheets

    if not store_sheets(actor=user, day=day):
        raise RoutineError(N_("本店没有导购，无需打印工作单"))
    return start_batch(user=user, kind="daily_sheets", params={"day": day.isoformat()})


def start_visit_month_set(*, user: User, month: Month, store_id: int | None) -> BatchJob:
    """A store's month of visit forms (the report, the record form, the spot-check sheet), or
    every store's the user sees, as one filing batch."""
    from .visit_forms import batch_stores

    stores = batch_stores(reader=user, store_id=store_id)
    if not stores:
        raise NothingToPrint(N_("没有可打印的门店。"))
    params = {"month": month.key, "store_id": store_id,
              "label": stores[0].code if store_id else "all"}
    return start_batch(user=user, kind="visit_month_set", params=params, total=len(stores))


def start_expiry_list(*, user: User, month: Month, store_id: int | None, area_id: int | None,
                      state: str, printed: date, tier: str = "") -> BatchJob:
    """The month's 《xx月到期会员名单》 as filtered on the page, one section per store, for filing."""
    from .expiry import list_store_count

    total = list_store_count(user=user, month=month, store_id=store_id, area_id=area_id, state=state,
                             tier=tier)
    if not total:
        raise NothingToPrint(N_("%(month)s 名单上没有可打印的会员。"), month=month.key)
    params = {"month": month.key, "store_id": store_id, "area_id": area_id, "state": state,
              "tier": tier, "printed": printed.isoformat()}
    return start_batch(user=user, kind="expiry_list", params=params, total=total)


def start_analysis_pack(*, user: User, period: str) -> BatchJob:
    """The reviewed month's pack as one PDF for filing (the scopes the user sees), rendered by a
    worker; NothingToPrint before the month is reviewed."""
    from .monthly_pack import pack

    total = len(pack(user=user, period=period))
    if not total:
        raise NothingToPrint(N_("%(month)s 的月度分析尚未审核存档，无可下载的 PDF。"), month=period)
    return start_batch(user=user, kind="analysis_pack", params={"month": period}, total=total)


class NotAllowed(Refusal, ValueError):
    """The batch's reader may no longer print what it holds."""


# What each kind of batch asks of its reader: the permission its page's form requires.
PERMISSION = {"application_forms": "batch.print", "daily_sheets": "care.store_sheets",
              "complaint_forms": "complaint.stats", "expiry_list": "expiry.view",
              "visit_month_set": "visit.view", "analysis_pack": "analysis.view"}


def retry_batch(*, user: User, batch: BatchJob, now: datetime | None = None) -> BatchJob:
    """重新生成: a failed batch (recorded, or its job lost: marked failed now, so it does nothing
    should it turn up) asked again as a new batch with the same parameters, the user's permission
    and scope checked again (a Refusal: nothing new). One still under way or done is returned."""
    if batch.status in ("queued", "running") and not batch_jobs.fail_if_lost(batch, now=now):
        return batch
    if batch.status != "failed":
        return batch
    if not permissions.can(user, PERMISSION.get(batch.kind, "")):
        raise NotAllowed(N_("你已没有打印这批资料的权限"))
    return _restart(user, batch.kind, batch.params)


def _restart(user: User, kind: str, params: dict) -> BatchJob:
    """The batch of `kind` started again as its page started it (the same checks)."""
    if kind in ("application_forms", "daily_sheets"):
        start = start_day_batch if kind == "application_forms" else start_store_sheets
        return start(user=user, day=date.fromisoformat(params["day"]))
    if kind == "visit_month_set":
        return start_visit_month_set(user=user, month=Month.parse(params["month"]),
                                     store_id=params.get("store_id"))
    if kind == "expiry_list":
        return start_expiry_list(user=user, month=Month.parse(params["month"]),
                                 store_id=params.get("store_id"), area_id=params.get("area_id"),
                                 state=params.get("state", ""), tier=params.get("tier", ""),
                                 printed=date.fromisoformat(params["printed"]))
    if kind == "analysis_pack":
        return start_analysis_pack(user=user, period=params["month"])
    return start_batch(user=user, kind=kind, params=params)


def render_batch(batch_id: int) -> None:
    """Worker side: render every page of the batch, recording progress as it goes. A failure (a
    template's error, the time limit) marks the batch failed with a reason its page shows, with a
    button to render it again (retry_batch); the traceback stays in the worker's log."""
    batch_jobs.run(batch_id, lambda: _render(batch_id), failed=N_("生成PDF时出错，详情已记入日志"))


def _render(batch_id: int) -> None:
    from ..pdf import render_many

    batch = batch_jobs.claim(batch_id)
    if batch is None:
        return
    reader = db.session.get(User, batch.requested_by_id)
    template, items = _items(batch.kind, reader, batch.params)
    batch.total, batch.done = len(items), 0
    db.session.commit()

    def progress(done: int, total: int) -> None:
        batch.done = done
        db.session.commit()

    data = render_many(template, items, progress=progress, **_formatters(batch.kind))
    path = Path(current_app.instance_path) / "batches" / f"batch-{batch.id}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    batch.file_path, batch.status, batch.done = str(path), "done", len(items)
    nested = [row for item in items for row in item.get("printed_rows", ())]
    member_service.audit_printed(reader=reader, items=[*items, *nested])
    db.session.commit()


def _formatters(kind: str) -> dict:
    """What a batch's template needs beside its items (the daily sheet formats money, times)."""
    if kind == "analysis_pack":
        from .monthly_pack import pdf_context
        return pdf_context()
    if kind != "daily_sheets":
        return {}
    from ..formatting import local_time, yuan
    return {"yuan": yuan, "local": local_time}


def download_names(batch: BatchJob) -> tuple[str, str]:
    """The batch file's name, and its ASCII twin for clients that ignore `filename*`."""
    label = batch.params.get("day") or batch.params.get("month", "")
    if batch.params.get("label"):  # a store's code, say
        label = f"{label}-{batch.params['label']}"
    return (f"{TITLES.get(batch.kind, batch.kind)}-{label}.pdf",
            f"{batch.kind.replace('_', '-')}-{label}.pdf")
